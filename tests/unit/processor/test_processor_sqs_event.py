"""The poller's Lambda SQS event, built from ReceiveMessage output."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent

from captionist_processor.sqs_event import lambda_sqs_event

QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:captionist-local-segments"


def received_message(body: str, **extra: Any) -> dict[str, Any]:
    """A message as boto3's ``receive_message`` returns it."""
    return {
        "MessageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "ReceiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "MD5OfBody": "098f6bcd4621d373cade4e832627b4f6",
        "Body": body,
        "Attributes": {
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "SentTimestamp": "1545082649183",
            "ApproximateReceiveCount": "1",
            "ApproximateFirstReceiveTimestamp": "1545082649185",
        },
        **extra,
    }


def test_a_record_has_exactly_lambdas_fields() -> None:
    """GIVEN a received message without message attributes
    WHEN it becomes a Lambda SQS event
    THEN its record carries exactly the fields Lambda's event source mapping sends.
    """
    event = lambda_sqs_event([received_message("test")], QUEUE_ARN, "eu-west-1")

    assert event == {
        "Records": [
            {
                "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
                "body": "test",
                "attributes": {
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "SentTimestamp": "1545082649183",
                    "ApproximateReceiveCount": "1",
                    "ApproximateFirstReceiveTimestamp": "1545082649185",
                },
                "messageAttributes": {},
                "md5OfBody": "098f6bcd4621d373cade4e832627b4f6",
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": "eu-west-1",
            }
        ]
    }


def test_message_attributes_take_lambdas_lower_camel_shape() -> None:
    """GIVEN a received message with string and binary message attributes
    WHEN it becomes a Lambda SQS event
    THEN powertools reads the attributes back as Lambda would deliver them.
    """
    message = received_message(
        "{}",
        MessageAttributes={
            "session": {"StringValue": "s-1", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00\x01\xff", "DataType": "Binary"},
        },
    )

    event = lambda_sqs_event([message, received_message("second")], QUEUE_ARN, "eu-west-1")

    record = event["Records"][0]
    assert record["messageAttributes"]["session"] == {
        "stringValue": "s-1",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    parsed = list(SQSEvent(event).records)
    assert [r.body for r in parsed] == ["{}", "second"]
    session, blob = (parsed[0].message_attributes[name] for name in ("session", "blob"))
    assert session is not None
    assert session.string_value == "s-1"
    assert blob is not None
    assert blob.binary_value is not None
    assert base64.b64decode(blob.binary_value) == b"\x00\x01\xff"
    assert parsed[0].attributes.approximate_receive_count == "1"
    assert parsed[0].queue_url.endswith("/123456789012/captionist-local-segments")
