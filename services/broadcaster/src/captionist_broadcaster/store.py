"""Reading segments from the conversations table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from boto3.dynamodb.types import TypeDeserializer
from pydantic import ValidationError

from captionist_core.segment import Segment

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

_deserializer = TypeDeserializer()
log = structlog.get_logger()


class SegmentStore:
    """Queries one table: partition ``conversation``, sort key ``cursor``."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    async def after(self, conversation: str, cursor: str) -> list[Segment]:
        """The segments of ``conversation`` with a cursor after ``cursor``, in cursor order."""
        segments: list[Segment] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#c = :c AND #k > :after",
            "ExpressionAttributeNames": {"#c": "conversation", "#k": "cursor"},
            "ExpressionAttributeValues": {":c": {"S": conversation}, ":after": {"S": cursor}},
        }
        while True:
            page = await self._client.query(**query)
            for item in page.get("Items", []):
                fields = {key: _deserializer.deserialize(value) for key, value in item.items()}
                try:
                    segments.append(Segment.from_item(fields))
                except (ValidationError, KeyError, TypeError, ValueError):
                    # Only the processor writes here, and it validates; never let one bad item
                    # stop a whole conversation from being delivered.
                    log.warning("invalid_item_skipped", cursor=fields.get("cursor"))
            if "LastEvaluatedKey" not in page:
                return segments
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
