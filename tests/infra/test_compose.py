"""docker/compose.yaml against the code: what each container is given is what it reads.

There is no Docker engine here to run the file; these checks read it (PyYAML) and hold it to the
services' settings classes and Dockerfiles, as tests/infra/test_consistency.py does for Terraform.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from captionist_broadcaster.settings import BroadcasterSettings
from captionist_core.settings import CaptionistSettings
from captionist_dev.settings import REPO_ROOT, GatewaySettings
from captionist_ingest.settings import IngestSettings
from captionist_processor.settings import ProcessorSettings
from captionist_transcribe_local.settings import TranscribeLocalSettings
from tests.infra.environment import environment_names

COMPOSE = REPO_ROOT / "docker" / "compose.yaml"
SETTINGS: dict[str, type[BaseSettings]] = {
    "init": CaptionistSettings,
    "transcribe-local": TranscribeLocalSettings,
    "ingest": IngestSettings,
    "processor-poller": ProcessorSettings,
    "broadcaster": BroadcasterSettings,
    "gateway": GatewaySettings,
}
# Read by botocore (the credential chain), not by the settings classes.
SDK_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    """The compose file's services, with its YAML anchors and merges resolved."""
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    found: dict[str, dict[str, Any]] = document["services"]
    return found


def test_every_service_of_the_system_is_there(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"localstack", *SETTINGS}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_variable_a_container_gets_is_one_it_reads(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    """GIVEN a container's environment THEN each variable is read by its service's settings."""
    given = set(services[name].get("environment", {}))
    assert given - SDK_VARIABLES - environment_names(SETTINGS[name]) == set()
    assert {"CAPTIONIST_ENV", "AWS_ENDPOINT_URL"} <= given


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_image_is_built_from_its_dockerfile(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    build = services[name]["build"]
    context = (COMPOSE.parent / build["context"]).resolve()
    assert context == REPO_ROOT
    assert (context / build["dockerfile"]).is_file()


def test_ports_are_published_on_loopback_only_and_dependencies_exist(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        assert set(service.get("depends_on", {})) <= set(services), name


def test_ingest_signs_with_the_key_pair_transcribe_local_checks(
    services: dict[str, dict[str, Any]],
) -> None:
    """GIVEN ingest and transcribe-local THEN the pair ingest signs with is the one checked, and
    ingest's endpoint is transcribe-local's in-network name and port."""
    ingest = services["ingest"]["environment"]
    transcribe_local = services["transcribe-local"]["environment"]
    signing = (
        ingest.get("CAPTIONIST_INGEST_TRANSCRIBE_ACCESS_KEY_ID", ingest["AWS_ACCESS_KEY_ID"]),
        ingest.get(
            "CAPTIONIST_INGEST_TRANSCRIBE_SECRET_ACCESS_KEY", ingest["AWS_SECRET_ACCESS_KEY"]
        ),
    )
    checked = (
        transcribe_local["CAPTIONIST_TRANSCRIBE_LOCAL_ACCESS_KEY_ID"],
        transcribe_local["CAPTIONIST_TRANSCRIBE_LOCAL_SECRET_ACCESS_KEY"],
    )
    assert signing == checked
    assert ingest["CAPTIONIST_INGEST_TRANSCRIBE_ENDPOINT"] == "http://transcribe-local:8080"
