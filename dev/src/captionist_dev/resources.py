"""Create the queue, its dead-letter queue and the table, named and configured as Terraform does.

Used by ``make run`` and the test fixtures against the emulator (or LocalStack); idempotent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from botocore.exceptions import ClientError

from captionist_core.aws import sync_client
from captionist_core.settings import CaptionistSettings

# Mirrors terraform/modules/queue: a malformed segment moves to the DLQ after this many receives.
MAX_RECEIVE_COUNT = 3
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class QueueUrls:
    """Where the segments queue and its dead-letter queue live."""

    segments: str
    dlq: str


def ensure_resources(settings: CaptionistSettings, *, visibility_timeout: int = 30) -> QueueUrls:
    """Create (or keep) the segments queue with its DLQ, and the conversations table."""
    sqs = sync_client("sqs", settings)
    dlq_url = sqs.create_queue(
        QueueName=settings.segments_dlq,
        Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=settings.segments_queue,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "ReceiveMessageWaitTimeSeconds": "20",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
            ),
        },
    )["QueueUrl"]

    dynamodb = sync_client("dynamodb", settings)
    table = settings.conversations_table
    try:
        dynamodb.create_table(
            TableName=table,
            AttributeDefinitions=[
                {"AttributeName": "conversation", "AttributeType": "S"},
                {"AttributeName": "cursor", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "conversation", "KeyType": "HASH"},
                {"AttributeName": "cursor", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True},
        )
        dynamodb.get_waiter("table_exists").wait(TableName=table)
        dynamodb.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    return QueueUrls(segments=queue_url, dlq=dlq_url)
