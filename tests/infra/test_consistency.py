"""terraform/ against the code: what AWS is given is what the services expect and use.

The HCL is read with python-hcl2; the code's side comes from the code itself (settings classes,
the Segment model, the AWS operations its source calls), never from a copy of the same list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import hcl2
import pytest
from botocore import xform_name
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from captionist_broadcaster.settings import BroadcasterSettings
from captionist_core.segment import Segment
from captionist_core.settings import CaptionistSettings
from captionist_core.web import HEALTHCHECK_BODY, HEALTHCHECK_PATH
from captionist_dev.settings import REPO_ROOT
from captionist_ingest.settings import IngestSettings
from captionist_processor.settings import ProcessorSettings
from tests.infra.conftest import TERRAFORM

MODULES = TERRAFORM / "modules"
# The contract's routing (../shared/contract.md, docs/protocol.md): path pattern -> service.
CONTRACT_ROUTES = {
    "/api/stt/transcribe": "ingest",
    "/api/stt/connect": "broadcaster",
    "/api/stt/conversations/*": "broadcaster",
}
# Lambda's SQS event source mapping polls with the function's role: these are its calls.
GRANTS_CHECKED = {"sqs", "dynamodb", "transcribe"}
EVENT_SOURCE_MAPPING_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}


def unquote(value: Any) -> Any:
    """python-hcl2 keeps string literals' quotes (and block labels'): drop them, recursively."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, list):
        return [unquote(item) for item in value]
    if isinstance(value, dict):
        return {unquote(key): unquote(item) for key, item in value.items()}
    return value


def read(module: str) -> dict[str, Any]:
    """Every block of a module's .tf files, merged: ``{"locals": {...}, "resource": {...}}``."""
    merged: dict[str, Any] = {"locals": {}, "resource": {}, "data": {}}
    for path in sorted((MODULES / module).glob("*.tf")):
        with path.open() as file:
            parsed = unquote(hcl2.load(file))
        for block in parsed.get("locals", []):
            merged["locals"].update(block)
        for kind in ("resource", "data"):
            for block in parsed.get(kind, []):
                for type_, named in block.items():
                    merged[kind].setdefault(type_, {}).update(named)
    return merged


def single(value: Any) -> Any:
    """A nested block's body (python-hcl2 gives blocks as one-element lists)."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def interpolate(
    expression: str, values: dict[str, str], local: dict[str, Any] | None = None
) -> str:
    """``expression`` with each ``${name}`` of ``values`` (and ``${local.x}`` of ``local``)
    replaced, as Terraform would."""
    for _ in range(5):  # locals may refer to locals
        for name, value in values.items():
            expression = expression.replace(f"${{{name}}}", value)
        for name, value in (local or {}).items():
            if isinstance(value, str):
                expression = expression.replace(f"${{local.{name}}}", value)
    assert "${" not in expression, f"cannot evaluate {expression}"
    return expression


def keys_of(mapping: Any) -> set[str]:
    """The keys of an HCL object, also when python-hcl2 leaves it an expression (``merge(...)``)."""
    if isinstance(mapping, dict):
        return set(mapping)
    return set(re.findall(r"\b([A-Z][A-Z0-9_]{2,})\s*=", str(mapping)))


def environment_names(settings: type[BaseSettings]) -> set[str]:
    """Every environment variable a pydantic-settings class reads."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {str(choice).upper() for choice in alias.choices}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{name}".upper())
    return names | (
        environment_names(CaptionistSettings) if settings is not CaptionistSettings else set()
    )


def test_the_load_balancer_routes_exactly_as_the_contract() -> None:
    """GIVEN the ALB's listener rules
    THEN the contract's paths go to their services, the healthcheck answers as every service does,
    a request with no matching path gets a 404, and every rule requires the origin header."""
    alb = read("alb")
    rules = alb["locals"]["forward_rules"]
    routes = {path: rule["service"] for rule in rules.values() for path in rule["paths"]}
    assert routes == CONTRACT_ROUTES
    listener_rules = alb["resource"]["aws_lb_listener_rule"]
    health = listener_rules["healthcheck"]
    response = single(single(health["action"])["fixed_response"])
    assert (response["status_code"], response["message_body"]) == ("200", HEALTHCHECK_BODY)
    conditions = [single(condition) for condition in health["condition"]]
    paths = [c["path_pattern"] for c in conditions if "path_pattern" in c]
    assert [single(path)["values"] for path in paths] == [[HEALTHCHECK_PATH]]
    not_found = single(single(listener_rules["not_found"]["action"])["fixed_response"])
    assert not_found["status_code"] == "404"
    for name, rule in listener_rules.items():
        headers = [
            single(c)["http_header"] for c in rule["condition"] if "http_header" in single(c)
        ]
        assert headers, f"rule {name} does not require the origin header"


def test_queue_and_table_are_the_ones_the_code_uses() -> None:
    """GIVEN an environment name
    THEN Terraform names the queue, its dead-letter queue and the table exactly as the services
    derive them from CAPTIONIST_ENV, with the table's keys and TTL attribute the code writes."""
    system = read("captionist")
    name = interpolate(system["locals"]["name"], {"var.environment": "dev"})
    modules = {key: single(body) for block in _module_blocks("captionist") for key, body in block}
    expected = CaptionistSettings(env="dev")
    queue = interpolate(modules["queue"]["name"], {"local.name": name})
    assert queue == expected.segments_queue
    queue_module = read("queue")
    dead_letter = queue_module["resource"]["aws_sqs_queue"]["dead_letter"]["name"]
    dead_letter_name = interpolate(dead_letter, {"var.name": queue}, queue_module["locals"])
    assert dead_letter_name == expected.segments_dlq
    table = interpolate(modules["table"]["name"], {"local.name": name})
    assert table == expected.conversations_table

    dynamodb = read("table")["resource"]["aws_dynamodb_table"]["this"]
    item = Segment.model_validate(
        {
            "id": "i",
            "conversation": "c",
            "speaker": "s",
            "text": "t",
            "start": 0.0,
            "end": 1.0,
            "timestamp": 1_764_072_000_123,
            "language": "en-US",
        }
    ).to_item(expires_at=1)
    assert (dynamodb["hash_key"], dynamodb["range_key"]) == ("conversation", "cursor")
    assert {single(a)["name"] for a in dynamodb["attribute"]} == {"conversation", "cursor"}
    assert {"conversation", "cursor"} <= set(item)
    ttl = single(dynamodb["ttl"])["attribute_name"]
    assert ttl in item


def _module_blocks(module: str) -> Iterator[list[tuple[str, Any]]]:
    for path in sorted((MODULES / module).glob("*.tf")):
        with path.open() as file:
            parsed = unquote(hcl2.load(file))
        for block in parsed.get("module", []):
            yield list(block.items())


SETTINGS: dict[str, type[BaseSettings]] = {
    "ingest": IngestSettings,
    "broadcaster": BroadcasterSettings,
}


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_every_variable_a_task_gets_is_one_its_service_reads(service: str) -> None:
    """GIVEN a service's task definition environment
    THEN each variable is one the service's settings read (a typo would be silently ignored), and
    the ones it cannot run without in a container are there."""
    system = read("captionist")["locals"]
    given = keys_of(system["common_environment"]) | keys_of(
        system["services"][service]["environment"]
    )
    reads = environment_names(SETTINGS[service])
    assert given - reads == set()
    prefix = f"CAPTIONIST_{service.upper()}_"
    assert {"CAPTIONIST_ENV", "AWS_REGION", f"{prefix}HOST", f"{prefix}PORT"} <= given


def test_the_function_gets_only_variables_the_processor_reads() -> None:
    """GIVEN the Lambda's environment
    THEN every variable is one the processor's settings read, CAPTIONIST_ENV among them."""
    processor = read("processor")
    function = processor["resource"]["aws_lambda_function"]["this"]
    variables = single(single(function["environment"]))["variables"]
    if variables == "${local.environment}":
        variables = processor["locals"]["environment"]
    variables = keys_of(variables)
    assert variables - environment_names(ProcessorSettings) == set()
    assert "CAPTIONIST_ENV" in variables


def aws_calls(*sources: Path) -> set[str]:
    """IAM actions of the SQS and DynamoDB operations the code in ``sources`` calls."""
    session = botocore.session.get_session()
    text = "\n".join(path.read_text() for path in sources)
    actions = set()
    for service in ("sqs", "dynamodb"):
        for operation in session.get_service_model(service).operation_names:
            if re.search(rf"\.{xform_name(operation)}\(", text):
                actions.add(f"{service}:{operation}")
    if "captionist_core.transcribe_url" in text:  # presigns Transcribe's streaming websocket
        actions.add("transcribe:StartStreamTranscriptionWebSocket")
    return actions


def granted(document: dict[str, Any]) -> set[str]:
    """The SQS, DynamoDB and Transcribe actions an aws_iam_policy_document allows."""
    statements = document["statement"]
    actions = {action for statement in statements for action in statement["actions"]}
    return {
        action for action in actions if action.split(":")[0] in {"sqs", "dynamodb", "transcribe"}
    }


def source_files(service: str, leave_out: tuple[str, ...] = ()) -> list[Path]:
    root = REPO_ROOT / "services" / service / "src"
    return [path for path in root.rglob("*.py") if path.name not in leave_out]


def test_each_service_may_make_exactly_the_aws_calls_its_code_makes() -> None:
    """GIVEN the task and function policies
    THEN each grants the SQS, DynamoDB and Transcribe actions its code calls, no more, no fewer
    (the processor's also the event source mapping's, which polls with the function's role)."""
    policies = read("captionist")["data"]["aws_iam_policy_document"]
    assert granted(policies["ingest"]) == aws_calls(*source_files("ingest"))
    assert granted(policies["broadcaster"]) == aws_calls(*source_files("broadcaster"))
    processor = read("processor")["data"]["aws_iam_policy_document"]["this"]
    # poller.py stands in for the event source mapping locally; Lambda runs the handler.
    lambda_code = source_files("processor", leave_out=("poller.py",))
    assert granted(processor) == aws_calls(*lambda_code) | EVENT_SOURCE_MAPPING_ACTIONS
