"""The query of ``/api/stt/transcribe``, checked before the upgrade."""

from __future__ import annotations

import pytest

from captionist_ingest.routes import QueryError, parse_query


def test_defaults_fill_what_the_speaker_left_out() -> None:
    request = parse_query({"sampleRate": "16000"})
    assert (request.sample_rate, request.speaker, request.language) == (16000, "Speaker", "en-US")
    assert len(request.conversation) == 32
    assert parse_query({"sampleRate": "16000"}).conversation != request.conversation


def test_given_values_are_kept() -> None:
    request = parse_query(
        {"sampleRate": "8000", "conversation": "a_B-1", "speaker": "Zoë K.", "language": "de-DE"}
    )
    assert (request.sample_rate, request.conversation, request.speaker, request.language) == (
        8000,
        "a_B-1",
        "Zoë K.",
        "de-DE",
    )


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({}, "missing_sample_rate"),
        ({"sampleRate": "-16000"}, "invalid_sample_rate"),
        ({"sampleRate": "48001"}, "invalid_sample_rate"),
        ({"sampleRate": "16000", "conversation": ""}, "invalid_conversation"),
        ({"sampleRate": "16000", "conversation": "a/b"}, "invalid_conversation"),
        ({"sampleRate": "16000", "speaker": "\x7f"}, "invalid_speaker"),
        ({"sampleRate": "16000", "speaker": "tab\there"}, "invalid_speaker"),
        ({"sampleRate": "16000", "language": ""}, "invalid_language"),
    ],
)
def test_invalid_queries_are_refused_with_a_code(query: dict[str, str], code: str) -> None:
    with pytest.raises(QueryError) as refused:
        parse_query(query)
    assert refused.value.code == code
