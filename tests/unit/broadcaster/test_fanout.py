"""Encoding of listener messages: one JSON text per batch, split before it grows too large."""

from __future__ import annotations

import json

from captionist_broadcaster.fanout import MAX_MESSAGE_BYTES, encode
from tests.segments import make_segment


def test_small_batch_is_one_message_of_the_contract_shape() -> None:
    """GIVEN a few segments WHEN encoded as a snapshot THEN one message holds them all."""
    segments = [make_segment("c1") for _ in range(3)]
    (batch,) = encode("snapshot", "c1", segments)
    assert json.loads(batch.message) == {
        "type": "snapshot",
        "conversation": "c1",
        "segments": [s.model_dump(mode="json") for s in segments],
    }
    assert batch.segments == tuple(segments)


def test_empty_snapshot_is_still_sent() -> None:
    """GIVEN no segments WHEN encoded THEN one message with an empty list."""
    (batch,) = encode("snapshot", "c1", [])
    assert json.loads(batch.message)["segments"] == []


def test_large_snapshot_is_split_into_a_snapshot_then_segments_messages() -> None:
    """GIVEN 3 MB of segments WHEN encoded THEN each message stays under the limit, the first is
    the snapshot and the rest are segments messages, with every segment once, in order."""
    segments = [make_segment("c1", "x" * 9_000) for _ in range(330)]
    batches = encode("snapshot", "c1", segments)
    assert len(batches) >= 3
    kinds = [json.loads(b.message)["type"] for b in batches]
    assert kinds == ["snapshot"] + ["segments"] * (len(batches) - 1)
    assert all(len(b.message.encode()) <= MAX_MESSAGE_BYTES + 1024 for b in batches)
    ids = [s["id"] for b in batches for s in json.loads(b.message)["segments"]]
    assert ids == [s.id for s in segments]
    assert [s.id for b in batches for s in b.segments] == ids


def test_unicode_text_is_sent_as_is() -> None:
    """GIVEN non-ASCII speech WHEN encoded THEN the text is unchanged."""
    segment = make_segment("c1", "naïve café — 東京")
    (batch,) = encode("segments", "c1", [segment])
    assert json.loads(batch.message)["segments"][0]["text"] == "naïve café — 東京"
