"""Reading Transcribe's messages: results, exceptions, and what is not the protocol."""

from __future__ import annotations

import json
import re

import pytest
from aiohttp import WSCloseCode

from captionist_core.eventstream import event_message, exception_message
from captionist_core.segment import SEGMENT_ID_PATTERN
from captionist_ingest.session import segment_id
from captionist_ingest.upstream import Result, UpstreamError, read_message, stream_params


def _event(results: list[dict[str, object]]) -> bytes:
    return event_message(
        "TranscriptEvent", json.dumps({"Transcript": {"Results": results}}).encode()
    )


def test_transcript_events_become_results() -> None:
    frame = _event(
        [
            {
                "ResultId": "abc",
                "IsPartial": False,
                "StartTime": 0.5,
                "EndTime": 1.25,
                "Alternatives": [{"Transcript": " go forward "}, {"Transcript": "go for word"}],
            }
        ]
    )
    assert read_message(frame) == [Result("abc", False, "go forward", 0.5, 1.25)]
    assert read_message(_event([])) == []


@pytest.mark.parametrize(
    ("exception_type", "code", "close_code"),
    [
        ("BadRequestException", "upstream_bad_request", WSCloseCode.INTERNAL_ERROR),
        ("LimitExceededException", "try_again_later", WSCloseCode.TRY_AGAIN_LATER),
        ("ThrottlingException", "try_again_later", WSCloseCode.TRY_AGAIN_LATER),
        ("ServiceUnavailableException", "try_again_later", WSCloseCode.TRY_AGAIN_LATER),
        ("ConflictException", "upstream_conflict", WSCloseCode.INTERNAL_ERROR),
        ("Unheard-of", "upstream_error", WSCloseCode.INTERNAL_ERROR),
    ],
)
def test_exceptions_map_to_contract_errors(
    exception_type: str, code: str, close_code: WSCloseCode
) -> None:
    with pytest.raises(UpstreamError) as failed:
        read_message(exception_message(exception_type, "secret request details"))
    assert (failed.value.code, failed.value.close_code) == (code, close_code)
    assert "secret" not in failed.value.message


@pytest.mark.parametrize(
    "frame",
    [
        b"not an event stream",
        event_message("TranscriptEvent", b"{not json"),
        _event([{"ResultId": 1, "IsPartial": True, "StartTime": 0, "EndTime": 1}]),
        _event([{"ResultId": "a", "IsPartial": True, "StartTime": "NaN", "EndTime": 1}]),
    ],
)
def test_anything_else_is_a_protocol_error(frame: bytes) -> None:
    with pytest.raises(UpstreamError) as failed:
        read_message(frame)
    assert failed.value.kind == "protocol"


def test_other_events_carry_nothing() -> None:
    assert read_message(event_message("SomeFutureEvent", b"{}")) == []


def test_stream_params_ask_for_stabilized_partials() -> None:
    assert stream_params("en-GB", 8000, "high") == {
        "language-code": "en-GB",
        "media-encoding": "pcm",
        "sample-rate": "8000",
        "enable-partial-results-stabilization": "true",
        "partial-results-stability": "high",
    }


def test_segment_ids_are_sanitized_and_bounded() -> None:
    assert segment_id("s1", "9f1c-ab") == "s1-9f1c-ab"
    odd = segment_id("s1", "a b/c" + "x" * 200)
    assert re.fullmatch(SEGMENT_ID_PATTERN, odd)
    assert odd.startswith("s1-a_b_c")
