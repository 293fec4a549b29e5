"""The Segment: one stabilized piece of a conversation, as it travels and as it is stored.

A segment's ``cursor`` is ``"<timestamp>#<id>"``. Timestamps are 13-digit epoch milliseconds, so
cursors sort as strings in time order, which is what DynamoDB's sort key and ``since`` rely on.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

CONVERSATION_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
SEGMENT_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
# Epoch milliseconds between 2001-09-09 and 2286-11-20: exactly 13 digits, so cursors sort as text.
MIN_TIMESTAMP = 10**12
MAX_TIMESTAMP = 10**13 - 1

_CONVERSATION_RE = re.compile(CONVERSATION_PATTERN)
_CURSOR_RE = re.compile(r"^(\d{13})#([A-Za-z0-9_.:-]{1,128})$")

ConversationId = Annotated[str, StringConstraints(pattern=CONVERSATION_PATTERN)]
SegmentId = Annotated[str, StringConstraints(pattern=SEGMENT_ID_PATTERN)]
Speaker = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,64}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$")]


class Segment(BaseModel):
    """A stabilized (final) transcript segment; the JSON shape of ../shared/contract.md."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: SegmentId
    conversation: ConversationId
    speaker: Speaker
    text: Annotated[str, StringConstraints(max_length=10_000)]
    start: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    end: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    timestamp: Annotated[int, Field(ge=MIN_TIMESTAMP, le=MAX_TIMESTAMP, strict=True)]
    cursor: str = ""
    language: Language = "en-US"

    @model_validator(mode="before")
    @classmethod
    def _fill_cursor(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("cursor"):
            timestamp, segment_id = data.get("timestamp"), data.get("id")
            if isinstance(timestamp, int) and isinstance(segment_id, str):
                data = {**data, "cursor": make_cursor(timestamp, segment_id)}
        return data

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        if self.cursor != make_cursor(self.timestamp, self.id):
            raise ValueError("cursor must be '<timestamp>#<id>'")
        return self

    def to_item(self, expires_at: int | None = None) -> dict[str, Any]:
        """The DynamoDB item (boto3 resource/TypeSerializer types: floats become Decimal)."""
        item: dict[str, Any] = self.model_dump()
        item["start"] = Decimal(repr(self.start))
        item["end"] = Decimal(repr(self.end))
        if expires_at is not None:
            item["expiresAt"] = expires_at
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Segment:
        """Rebuild a segment from a deserialized DynamoDB item."""
        fields = {key: value for key, value in item.items() if key != "expiresAt"}
        for key in ("start", "end"):
            fields[key] = float(fields[key])
        fields["timestamp"] = int(fields["timestamp"])
        return cls.model_validate(fields)


def make_cursor(timestamp: int, segment_id: str) -> str:
    """The cursor of the segment ``segment_id`` stabilized at ``timestamp`` (epoch ms)."""
    return f"{timestamp:013d}#{segment_id}"


def cursor_at(timestamp: int) -> str:
    """A cursor that sorts before every segment stabilized at or after ``timestamp``."""
    return f"{max(timestamp, 0):013d}#"


def cursor_timestamp(cursor: str) -> int:
    """The timestamp (epoch ms) a cursor starts with."""
    return int(cursor.split("#", 1)[0])


def is_valid_cursor(value: str) -> bool:
    """Whether ``value`` has the shape of a segment's cursor."""
    return _CURSOR_RE.match(value) is not None


def is_valid_conversation(value: str) -> bool:
    """Whether ``value`` is an acceptable conversation id."""
    return _CONVERSATION_RE.match(value) is not None
