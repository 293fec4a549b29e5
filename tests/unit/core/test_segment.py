"""The Segment model: what the pipeline accepts and how cursors order segments."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from captionist_core.segment import (
    Segment,
    cursor_at,
    cursor_timestamp,
    is_valid_conversation,
    is_valid_cursor,
    make_cursor,
)

VALID: dict[str, Any] = {
    "id": "sess1-r1",
    "conversation": "standup_42",
    "speaker": "Alice",
    "text": "hello world",
    "start": 1.23,
    "end": 2.34,
    "timestamp": 1764072000123,
    "cursor": "1764072000123#sess1-r1",
    "language": "en-US",
}


def test_contract_example_round_trips_through_json() -> None:
    """GIVEN the contract's Segment WHEN parsed and dumped THEN every field is unchanged."""
    segment = Segment.model_validate(VALID)
    assert segment.model_dump(mode="json") == VALID
    assert Segment.model_validate_json(segment.model_dump_json()) == segment


def test_cursor_is_filled_in_when_absent() -> None:
    """GIVEN a segment without a cursor WHEN parsed THEN its cursor is '<timestamp>#<id>'."""
    fields = {key: value for key, value in VALID.items() if key != "cursor"}
    assert Segment.model_validate(fields).cursor == "1764072000123#sess1-r1"


def test_dynamodb_item_round_trip_keeps_floats_exact() -> None:
    """GIVEN a segment WHEN turned into an item and back THEN it is the same segment."""
    segment = Segment.model_validate(VALID)
    item = segment.to_item(expires_at=1800000000)
    assert item["expiresAt"] == 1800000000
    assert Segment.from_item(item) == segment


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("conversation", "has space"),
        ("conversation", "x" * 65),
        ("conversation", ""),
        ("id", ""),
        ("id", "a#b"),
        ("speaker", ""),
        ("speaker", "x" * 65),
        ("speaker", "bell\x07"),
        ("start", -1),
        ("end", float("nan")),
        ("timestamp", 1764072000.5),
        ("timestamp", "1764072000123"),
        ("timestamp", 17640720001),
        ("cursor", "1764072000124#sess1-r1"),
        ("language", "english please"),
        ("text", None),
    ],
)
def test_invalid_fields_are_rejected(field: str, value: object) -> None:
    """GIVEN one bad field WHEN parsed THEN validation fails naming the problem."""
    with pytest.raises(ValidationError):
        Segment.model_validate({**VALID, field: value})


def test_end_before_start_is_rejected() -> None:
    """GIVEN end < start WHEN parsed THEN it is refused."""
    with pytest.raises(ValidationError, match="end must not be before start"):
        Segment.model_validate({**VALID, "start": 3.0, "end": 2.0})


def test_missing_field_is_rejected() -> None:
    """GIVEN a segment without text WHEN parsed THEN it is refused."""
    with pytest.raises(ValidationError):
        Segment.model_validate({key: v for key, v in VALID.items() if key != "text"})


def test_cursors_sort_in_time_order_then_by_id() -> None:
    """GIVEN cursors of different times and ids WHEN sorted as text THEN time order holds."""
    cursors = [
        make_cursor(1764072000999, "a"),
        make_cursor(1764072000123, "zz"),
        make_cursor(1764072001000, "0"),
        make_cursor(1764072000123, "b"),
    ]
    assert sorted(cursors) == [
        "1764072000123#b",
        "1764072000123#zz",
        "1764072000999#a",
        "1764072001000#0",
    ]
    assert cursor_at(1764072000123) < "1764072000123#b" < cursor_at(1764072000124)
    assert cursor_timestamp("1764072000999#a") == 1764072000999


def test_cursor_and_conversation_validation() -> None:
    """GIVEN candidate values WHEN checked THEN only well-formed ones pass."""
    assert is_valid_cursor("1764072000123#sess1-r1")
    assert not is_valid_cursor("1764072000123")
    assert not is_valid_cursor("abc#def")
    assert not is_valid_cursor("1764072000123#")
    assert is_valid_conversation("A-b_9")
    assert not is_valid_conversation("a/b")
