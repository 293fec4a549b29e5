"""terraform/ against the code: what AWS is given is what the services expect and use.

The HCL is read with python-hcl2; the code's side comes from the code itself (settings classes,
the Segment model, the AWS operations its source calls), never from a copy of the same list.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import botocore.session
import hcl2
import pytest
from botocore import xform_name
from pydantic_settings import BaseSettings

from captionist_broadcaster.settings import BroadcasterSettings
from captionist_core.segment import Segment
from captionist_core.settings import CaptionistSettings
from captionist_core.task_load import load_dimensions
from captionist_core.web import HEALTHCHECK_BODY, HEALTHCHECK_PATH
from captionist_dev.settings import REPO_ROOT
from captionist_ingest.settings import IngestSettings
from captionist_processor.settings import ProcessorSettings
from captionist_transcribe_local.settings import TranscribeLocalSettings
from tests.infra.conftest import TERRAFORM
from tests.infra.environment import environment_names

MODULES = TERRAFORM / "modules"
# The contract's routing (../shared/contract.md, docs/protocol.md): path pattern -> service.
CONTRACT_ROUTES = {
    "/api/stt/transcribe": "ingest",
    "/api/stt/connect": "broadcaster",
    "/api/stt/conversations/*": "broadcaster",
}
# The services whose actions are checked: every AWS service the code calls.
GRANTS_CHECKED = {"sqs", "dynamodb", "transcribe", "cloudwatch"}
CORE = REPO_ROOT / "libs" / "captionist-core" / "src"
# Lambda's SQS event source mapping polls with the function's role: these are its calls.
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
    """Every block of a module's .tf files, merged: ``{"locals": {...}, "resource": {...}}``;
    ``"module"`` maps each module call's name to its body."""
    merged: dict[str, Any] = {"locals": {}, "resource": {}, "data": {}, "module": {}}
    for path in sorted((MODULES / module).glob("*.tf")):
        with path.open() as file:
            parsed = unquote(hcl2.load(file))
        for block in parsed.get("locals", []):
            merged["locals"].update(block)
        for block in parsed.get("module", []):
            merged["module"].update({name: single(body) for name, body in block.items()})
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
    modules = system["module"]
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


SETTINGS: dict[str, type[BaseSettings]] = {
    "ingest": IngestSettings,
    "broadcaster": BroadcasterSettings,
    "transcribe-local": TranscribeLocalSettings,
}


def service_calls() -> dict[str, dict[str, Any]]:
    """Each ECS service's inputs to modules/service, as python-hcl2 reads them: ingest and the
    broadcaster from ``local.services`` (merged into the for_each call), transcribe-local from its
    own module block."""
    system = read("captionist")
    modules = system["module"]
    calls = {}
    for name, entry in system["locals"]["services"].items():
        calls[name] = {
            "environment": keys_of(system["locals"]["common_environment"])
            | keys_of(entry["environment"]),
            "secrets": keys_of(entry["secrets"]),
            "policy": entry["policy"],
            "metric_name": entry["load_metric"]["name"],
            "metric_target": modules["service"]["metric_target"],
        }
    transcribe_local = modules["transcribe_local"]
    calls["transcribe-local"] = {
        "environment": keys_of(transcribe_local["environment"])
        | keys_of(system["locals"]["common_environment"]),
        "secrets": keys_of(transcribe_local["secrets"]),
        "policy": single(list(transcribe_local["task_role_policies"].values())),
        "metric_name": transcribe_local["metric_target"]["metric_name"],
        "metric_target": transcribe_local["metric_target"],
    }
    return calls


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_every_variable_a_task_gets_is_one_its_service_reads(service: str) -> None:
    """GIVEN a service's task definition environment and secrets
    THEN each variable is one the service's settings read (a typo would be silently ignored), and
    the ones it cannot run without in a container are there."""
    call = service_calls()[service]
    given = call["environment"] | call["secrets"]
    reads = environment_names(SETTINGS[service])
    assert given - reads == set()
    prefix = f"CAPTIONIST_{service.upper().replace('-', '_')}_"
    assert {"CAPTIONIST_ENV", "AWS_REGION", f"{prefix}HOST", f"{prefix}PORT"} <= given


def test_ingest_and_transcribe_local_share_the_signing_key() -> None:
    """GIVEN self-hosted speech
    THEN ingest signs with a key id and secret that are transcribe-local's, from the same secret,
    and its endpoint is transcribe-local's name in the namespace, on its port."""
    system = read("captionist")
    calls = service_calls()
    ingest = system["locals"]["services"]["ingest"]
    modules = system["module"]
    transcribe_local = modules["transcribe_local"]
    assert (
        "CAPTIONIST_INGEST_TRANSCRIBE_ACCESS_KEY_ID = local.signing_key_id" in ingest["environment"]
    )
    assert (
        "CAPTIONIST_TRANSCRIBE_LOCAL_ACCESS_KEY_ID = local.signing_key_id"
        in (transcribe_local["environment"])
    )
    secret = "${aws_secretsmanager_secret_version.signing_key[0].arn}"
    assert f"CAPTIONIST_INGEST_TRANSCRIBE_SECRET_ACCESS_KEY = {secret[2:-1]}" in ingest["secrets"]
    assert transcribe_local["secrets"] == {"CAPTIONIST_TRANSCRIBE_LOCAL_SECRET_ACCESS_KEY": secret}
    assert {"CAPTIONIST_INGEST_TRANSCRIBE_SECRET_ACCESS_KEY"} == calls["ingest"]["secrets"]
    endpoint = re.search(
        r'CAPTIONIST_INGEST_TRANSCRIBE_ENDPOINT\s*=\s*"([^"]+)"', ingest["environment"]
    )
    assert endpoint, ingest["environment"]
    namespace = system["resource"]["aws_service_discovery_private_dns_namespace"]["speech"]
    name = transcribe_local["name"]
    assert endpoint.group(1) == f"http://{name}.{namespace['name']}:8080"
    assert 'CAPTIONIST_TRANSCRIBE_LOCAL_PORT = "8080"' in transcribe_local["environment"]


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_each_service_scales_on_the_load_it_publishes(service: str) -> None:
    """GIVEN a service's target-tracking metric
    THEN it is the metric, namespace and dimensions the service's code publishes, with the
    namespace the task is told to publish to."""
    call = service_calls()[service]
    system = read("captionist")
    app = (REPO_ROOT / "services" / service / "src").rglob("app.py")
    published = re.search(
        r'publish_open_websockets\(\s*app, WEBSOCKETS, settings, service="([^"]+)", '
        r'metric_name="([^"]+)"',
        next(app).read_text(),
    )
    assert published, f"{service} publishes no load"
    assert (published.group(1), published.group(2)) == (service, call["metric_name"])
    target = call["metric_target"]
    assert target["namespace"] == "${local.metrics_namespace}"
    common = system["locals"]["common_environment"]
    assert common["CAPTIONIST_METRICS_NAMESPACE"] == "${local.metrics_namespace}"
    assert set(target["dimensions"]) == set(load_dimensions(CaptionistSettings(), service))
    assert target["dimensions"]["Environment"] == "${var.environment}"
    assert target["dimensions"]["Service"] in (service, "${each.key}")
    assert target["unit"] == "Count"


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


def with_core_imports(sources: list[Path]) -> list[Path]:
    """``sources`` and every captionist_core module they import, transitively."""
    found = list(sources)
    for path in found:
        for module in re.findall(r"from captionist_core\.(\w+) import", path.read_text()):
            imported = CORE / "captionist_core" / f"{module}.py"
            if imported not in found:
                found.append(imported)
    return found


def aws_calls(*sources: Path) -> set[str]:
    """IAM actions of the AWS operations the code in ``sources`` calls (the captionist_core
    modules it imports included)."""
    session = botocore.session.get_session()
    text = "\n".join(path.read_text() for path in with_core_imports(list(sources)))
    actions = set()
    for service in ("sqs", "dynamodb", "cloudwatch"):
        for operation in session.get_service_model(service).operation_names:
            if re.search(rf"\.{xform_name(operation)}\(", text):
                actions.add(f"{service}:{operation}")
    if re.search(r"from captionist_core\.transcribe_url import .*\bpresign\b", text):
        # It presigns Transcribe's streaming websocket (transcribe-local only verifies them).
        actions.add("transcribe:StartStreamTranscriptionWebSocket")
    return actions


def statements(document: dict[str, Any], documents: dict[str, Any]) -> list[dict[str, Any]]:
    """An aws_iam_policy_document's statements: its own, its dynamic ones (as if generated), and
    those of the documents it names in source_policy_documents."""
    found = list(document.get("statement", []))
    for dynamic in document.get("dynamic", []):
        found += single(dynamic["statement"])["content"]
    for source in document.get("source_policy_documents", []):
        name = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(\w+)\.json\}", source)
        assert name, source
        found += statements(documents[name.group(1)], documents)
    return found


def granted(document: dict[str, Any], documents: dict[str, Any]) -> set[str]:
    """The actions of the checked AWS services an aws_iam_policy_document allows."""
    actions = {
        action for statement in statements(document, documents) for action in statement["actions"]
    }
    return {action for action in actions if action.split(":")[0] in GRANTS_CHECKED}


def source_files(service: str, leave_out: tuple[str, ...] = ()) -> list[Path]:
    root = REPO_ROOT / "services" / service / "src"
    return [path for path in root.rglob("*.py") if path.name not in leave_out]


def test_each_service_may_make_exactly_the_aws_calls_its_code_makes() -> None:
    """GIVEN the task and function policies
    THEN each grants the AWS actions its code calls, no more, no fewer (the processor's also the
    event source mapping's, which polls with the function's role)."""
    documents = read("captionist")["data"]["aws_iam_policy_document"]
    for service, call in service_calls().items():
        name = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(\w+)\.json\}", call["policy"])
        assert name, call["policy"]
        assert granted(documents[name.group(1)], documents) == aws_calls(*source_files(service)), (
            service
        )
    processor = read("processor")["data"]["aws_iam_policy_document"]
    # poller.py stands in for the event source mapping locally; Lambda runs the handler.
    lambda_code = source_files("processor", leave_out=("poller.py",))
    assert granted(processor["this"], processor) == aws_calls(*lambda_code) | (
        EVENT_SOURCE_MAPPING_ACTIONS
    )


def test_ingest_may_call_transcribe_only_when_amazon_transcribes() -> None:
    """GIVEN self-hosted speech THEN ingest's policy has no Transcribe statement."""
    ingest = read("captionist")["data"]["aws_iam_policy_document"]["ingest"]
    (dynamic,) = ingest["dynamic"]
    statement = single(dynamic["statement"])
    assert statement["for_each"].startswith("${local.self_hosted_speech ? [] :")
    assert single(statement["content"])["actions"] == [
        "transcribe:StartStreamTranscriptionWebSocket"
    ]


def test_every_metric_publisher_may_publish_only_to_the_captionist_namespace() -> None:
    """GIVEN the shared PutMetricData statement THEN it is limited to the services' namespace."""
    document = read("captionist")["data"]["aws_iam_policy_document"]["publish_task_load"]
    condition = single(single(document["statement"])["condition"])
    assert (condition["test"], condition["variable"]) == ("StringEquals", "cloudwatch:namespace")
    assert condition["values"] == ["${local.metrics_namespace}"]
