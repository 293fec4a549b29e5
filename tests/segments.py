"""Building and storing test segments the way the pipeline does."""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from captionist_core.aws import async_client, sync_client
from captionist_core.segment import Segment
from captionist_core.settings import CaptionistSettings

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
DEADLINE_SECONDS = 15
_sequence = itertools.count()


def now_ms() -> int:
    """Epoch milliseconds now."""
    return time.time_ns() // 1_000_000


def make_segment(conversation: str, text: str | None = None, **fields: Any) -> Segment:
    """A valid segment of ``conversation``; ``fields`` override the defaults."""
    number = next(_sequence)
    values: dict[str, Any] = {
        "id": f"s{uuid.uuid4().hex[:8]}-{number}",
        "conversation": conversation,
        "speaker": "Alice",
        "text": text if text is not None else f"sentence number {number}",
        "start": 1.0,
        "end": 2.5,
        "timestamp": now_ms(),
        "language": "en-US",
    }
    values.update(fields)
    return Segment.model_validate(values)


def _dynamodb(settings: CaptionistSettings) -> Any:
    return _client_for(settings.aws_endpoint_url, settings.aws_region)


@functools.cache
def _client_for(endpoint: str | None, region: str) -> Any:
    return sync_client("dynamodb", CaptionistSettings(aws_endpoint_url=endpoint, aws_region=region))


def store_segments(settings: CaptionistSettings, *segments: Segment) -> None:
    """Write segments straight into the conversations table (as the processor would)."""
    client = _dynamodb(settings)
    for start in range(0, len(segments), 25):
        requests: list[Any] = [
            {"PutRequest": {"Item": {k: _serializer.serialize(v) for k, v in s.to_item().items()}}}
            for s in segments[start : start + 25]
        ]
        pending: Any = {settings.conversations_table: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")


async def send(settings: CaptionistSettings, queue_url: str, *bodies: str) -> None:
    """Send each body as one message, as ingest does."""
    async with async_client("sqs", settings) as sqs:
        for body in bodies:
            await sqs.send_message(QueueUrl=queue_url, MessageBody=body)


async def queue_depth(settings: CaptionistSettings, queue_url: str) -> int:
    """Messages in the queue, visible or in flight."""
    async with async_client("sqs", settings) as sqs:
        attributes = (
            await sqs.get_queue_attributes(
                QueueUrl=queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )
        )["Attributes"]
    return sum(int(value) for value in attributes.values())


async def stored(settings: CaptionistSettings, conversation: str) -> list[Segment]:
    """The segments of ``conversation`` in the table, in cursor order."""
    async with async_client("dynamodb", settings) as dynamodb:
        response = await dynamodb.query(
            TableName=settings.conversations_table,
            KeyConditionExpression="conversation = :c",
            ExpressionAttributeValues={":c": {"S": conversation}},
            ConsistentRead=True,
        )
    return [
        Segment.from_item({k: _deserializer.deserialize(v) for k, v in item.items()})
        for item in response["Items"]
    ]


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until ``check()`` holds, failing after the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not await check():
        assert time.monotonic() < deadline, f"not within {DEADLINE_SECONDS} s: {what}"
        await asyncio.sleep(0.2)
