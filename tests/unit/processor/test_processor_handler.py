"""The Lambda handler fed SQS events, against the emulator's table."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from captionist_core.aws import sync_client
from captionist_core.segment import Segment
from captionist_processor.handler import make_lambda_handler
from captionist_processor.settings import ProcessorSettings
from tests.conftest import LocalAws
from tests.segments import make_segment

_deserializer = TypeDeserializer()


def sqs_record(body: str) -> dict[str, Any]:
    """One record as Lambda's SQS event source mapping delivers it."""
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": f"AQEB{uuid.uuid4().hex}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1764072000123",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1764072000125",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:captionist-test-segments",
        "awsRegion": "us-east-1",
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    """Lambda's SQS event holding ``records``."""
    return {"Records": list(records)}


def processor_settings(local_aws: LocalAws, **overrides: Any) -> ProcessorSettings:
    """Processor settings naming the test's own resources."""
    return ProcessorSettings(
        env=local_aws.settings.env,
        aws_endpoint_url=local_aws.settings.aws_endpoint_url,
        **overrides,
    )


def stored_items(local_aws: LocalAws, conversation: str) -> list[dict[str, Any]]:
    """Every item of ``conversation`` in the table, deserialized, in cursor order."""
    client = sync_client("dynamodb", local_aws.settings)
    response = client.query(
        TableName=local_aws.settings.conversations_table,
        KeyConditionExpression="conversation = :c",
        ExpressionAttributeValues={":c": {"S": conversation}},
        ConsistentRead=True,
    )
    return [
        {key: _deserializer.deserialize(value) for key, value in item.items()}
        for item in response["Items"]
    ]


def failed_ids(response: Any) -> set[str]:
    """The message ids a handler response asks SQS to redeliver."""
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


def records_total(outcome: str) -> float:
    """Current value of the processor's records counter for ``outcome``."""
    value = REGISTRY.get_sample_value("captionist_processor_records_total", {"outcome": outcome})
    assert value is not None
    return value


def test_malformed_records_are_the_only_batch_item_failures(local_aws: LocalAws) -> None:
    """GIVEN a batch of two good segments, a non-JSON body and a JSON body that is no segment
    WHEN the handler processes it
    THEN exactly the two bad records are reported for retry and both good segments are stored.
    """
    first, second = make_segment("conv-a"), make_segment("conv-a")
    not_json = sqs_record("this is not json")
    not_a_segment = sqs_record(json.dumps({**first.model_dump(), "id": "x", "end": -1}))
    event = sqs_event(
        sqs_record(first.model_dump_json()),
        not_json,
        not_a_segment,
        sqs_record(second.model_dump_json()),
    )

    response = make_lambda_handler(processor_settings(local_aws))(event, None)

    assert failed_ids(response) == {not_json["messageId"], not_a_segment["messageId"]}
    stored = [Segment.from_item(item) for item in stored_items(local_aws, "conv-a")]
    assert sorted(stored, key=lambda s: s.cursor) == sorted([first, second], key=lambda s: s.cursor)


def test_a_batch_of_only_malformed_records_reports_each_of_them(aws_endpoint: str) -> None:
    """GIVEN a batch in which no record is a segment
    WHEN the handler processes it
    THEN it returns (no exception) with every record listed as a batch item failure.
    """
    records = [sqs_record("{"), sqs_record("[]"), sqs_record('{"id": "only-an-id"}')]
    handler = make_lambda_handler(ProcessorSettings(aws_endpoint_url=aws_endpoint))

    response = handler(sqs_event(*records), None)

    assert failed_ids(response) == {record["messageId"] for record in records}


def test_a_duplicated_segment_is_a_success_and_stored_once(local_aws: LocalAws) -> None:
    """GIVEN a segment sent twice in one batch, then redelivered with other text in a later batch
    WHEN the handler processes both batches
    THEN no record fails and the table holds the segment exactly once, as first written.
    """
    segment = make_segment("conv-dup")
    altered = segment.model_copy(update={"text": "something else"})
    handler = make_lambda_handler(processor_settings(local_aws))
    stored_before, duplicates_before = records_total("stored"), records_total("duplicate")

    first = handler(
        sqs_event(sqs_record(segment.model_dump_json()), sqs_record(segment.model_dump_json())),
        None,
    )
    second = handler(sqs_event(sqs_record(altered.model_dump_json())), None)

    assert first["batchItemFailures"] == []
    assert second["batchItemFailures"] == []
    assert [Segment.from_item(item) for item in stored_items(local_aws, "conv-dup")] == [segment]
    assert records_total("stored") - stored_before == 1
    assert records_total("duplicate") - duplicates_before == 2


def test_retention_sets_expires_at(local_aws: LocalAws) -> None:
    """GIVEN a processor keeping segments 30 days and one with the default retention (0)
    WHEN each stores a segment
    THEN the first item expires 30 days (TTL, epoch seconds) after the segment was stabilized,
    and the second has no ``expiresAt`` at all.
    """
    expiring = make_segment("conv-ttl", timestamp=1_764_072_000_123)
    kept = make_segment("conv-keep")

    make_lambda_handler(processor_settings(local_aws, retention_days=30))(
        sqs_event(sqs_record(expiring.model_dump_json())), None
    )
    make_lambda_handler(processor_settings(local_aws))(
        sqs_event(sqs_record(kept.model_dump_json())), None
    )

    [item] = stored_items(local_aws, "conv-ttl")
    assert item["expiresAt"] == 1_764_072_000 + 30 * 86_400
    assert Segment.from_item(item) == expiring
    [item] = stored_items(local_aws, "conv-keep")
    assert "expiresAt" not in item


def test_a_table_error_is_a_batch_item_failure(aws_endpoint: str) -> None:
    """GIVEN a processor whose table cannot be written (it does not exist)
    WHEN it processes a good segment
    THEN the record is reported for retry rather than dropped, and counted as failed.
    """
    settings = ProcessorSettings(aws_endpoint_url=aws_endpoint, table_name="no-such-table")
    record = sqs_record(make_segment("conv-x").model_dump_json())
    failed_before = records_total("failed")

    response = make_lambda_handler(settings)(sqs_event(record), None)

    assert failed_ids(response) == {record["messageId"]}
    assert records_total("failed") - failed_before == 1


def test_a_malformed_segment_never_puts_its_text_in_the_logs(
    aws_endpoint: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a message whose segment is invalid and whose text is private, and DEBUG logging
    WHEN the handler rejects it
    THEN the failure names the invalid field, and no log line holds the text.
    """
    body = json.dumps({**make_segment("c", text="my private words").model_dump(), "timestamp": 5})
    record = sqs_record(body)
    caplog.set_level(logging.DEBUG)
    handler = make_lambda_handler(ProcessorSettings(aws_endpoint_url=aws_endpoint))

    with capture_logs() as logged:
        response = handler(sqs_event(record), None)

    assert failed_ids(response) == {record["messageId"]}
    [failure] = [entry for entry in logged if entry["event"] == "record_failed"]
    assert failure["error"] == "MalformedSegmentError"
    assert [entry.split(":")[0] for entry in failure["invalid"]] == ["timestamp"]
    assert "private" not in json.dumps(logged, default=str)
    assert "private" not in caplog.text
    assert "private" not in capsys.readouterr().out
