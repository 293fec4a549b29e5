"""Lambda's SQS event, built from what ``ReceiveMessage`` returns.

This is the event the SQS event source mapping hands to the function; the local poller builds the
same so that the handler cannot tell it is not running in Lambda.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any


def lambda_message_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """SQS message attributes in Lambda's lower-camel shape (binary values base64-encoded)."""
    converted: dict[str, Any] = {}
    for name, attribute in attributes.items():
        value: dict[str, Any] = {}
        if "StringValue" in attribute:
            value["stringValue"] = attribute["StringValue"]
        if "BinaryValue" in attribute:
            value["binaryValue"] = base64.b64encode(attribute["BinaryValue"]).decode("ascii")
        value["stringListValues"] = list(attribute.get("StringListValues", []))
        value["binaryListValues"] = [
            base64.b64encode(item).decode("ascii") for item in attribute.get("BinaryListValues", [])
        ]
        value["dataType"] = attribute["DataType"]
        converted[name] = value
    return converted


def lambda_sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of Lambda's SQS event for a message returned by ``ReceiveMessage``."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": lambda_message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def lambda_sqs_event(
    messages: Iterable[Mapping[str, Any]], queue_arn: str, region: str
) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping delivers for one batch of ``messages``."""
    return {"Records": [lambda_sqs_record(message, queue_arn, region) for message in messages]}
