"""The subset of Amazon Transcribe's streaming protocol served here: parameters, payloads."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

from captionist_transcribe_local.engines.base import Result

MIN_SAMPLE_RATE: Final = 8000
MAX_SAMPLE_RATE: Final = 48000
ENCODINGS: Final = ("pcm",)
# What AWS accepts; only pcm is decoded here, the others are refused with a clear message.
AWS_ENCODINGS: Final = ("pcm", "ogg-opus", "flac")

BAD_REQUEST: Final = "BadRequestException"
LIMIT_EXCEEDED: Final = "LimitExceededException"
INTERNAL_FAILURE: Final = "InternalFailureException"


class ParameterError(Exception):
    """A request Transcribe would refuse with HTTP 400 ``BadRequestException``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = BAD_REQUEST
        self.message = message


@dataclass(frozen=True, slots=True)
class StreamParameters:
    """What a client asked for in the query of ``/stream-transcription-websocket``."""

    language_code: str
    media_encoding: str
    sample_rate: int


def _constraint(value: str, field: str, constraint: str) -> ParameterError:
    return ParameterError(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {constraint}"
    )


def parse_parameters(query: Mapping[str, str], languages: Collection[str]) -> StreamParameters:
    """Check ``language-code``, ``media-encoding``, ``sample-rate``; or raise ParameterError."""
    language = query.get("language-code")
    if language is None:
        raise ParameterError("A language-code is required (language identification is not served)")
    if language not in languages:
        raise _constraint(
            language,
            "languageCode",
            f"Member must satisfy enum value set: [{', '.join(sorted(languages))}]",
        )
    encoding = query.get("media-encoding")
    if encoding is None:
        raise ParameterError("A media-encoding is required")
    if encoding not in AWS_ENCODINGS:
        raise _constraint(
            encoding,
            "mediaEncoding",
            f"Member must satisfy enum value set: [{', '.join(AWS_ENCODINGS)}]",
        )
    if encoding not in ENCODINGS:
        raise ParameterError(f"media-encoding '{encoding}' is not supported here; use pcm")
    raw_rate = query.get("sample-rate")
    if raw_rate is None:
        raise ParameterError("A sample-rate is required")
    rate = int(raw_rate) if raw_rate.isascii() and raw_rate.isdigit() else -1
    if rate < MIN_SAMPLE_RATE:
        raise _constraint(
            raw_rate,
            "mediaSampleRateHertz",
            f"Member must have value greater than or equal to {MIN_SAMPLE_RATE}",
        )
    if rate > MAX_SAMPLE_RATE:
        raise _constraint(
            raw_rate,
            "mediaSampleRateHertz",
            f"Member must have value less than or equal to {MAX_SAMPLE_RATE}",
        )
    return StreamParameters(language, encoding, rate)


def transcript(result: Result, channel: str = "ch_0") -> dict[str, Any]:
    """The ``TranscriptEvent`` payload of one result, shaped as Transcribe's."""
    items: list[dict[str, Any]] = []
    for word in result.words:
        item: dict[str, Any] = {
            "StartTime": word.start,
            "EndTime": word.end,
            "Type": "pronunciation",
            "Content": word.text,
            "VocabularyFilterMatch": False,
        }
        if word.stable is not None:
            item["Stable"] = word.stable
        items.append(item)
    return {
        "Transcript": {
            "Results": [
                {
                    "ResultId": result.result_id,
                    "StartTime": result.start,
                    "EndTime": result.end,
                    "IsPartial": result.is_partial,
                    "Alternatives": [{"Transcript": result.text, "Items": items}],
                    "ChannelId": channel,
                }
            ]
        }
    }


def transcript_payload(result: Result) -> bytes:
    """:func:`transcript` as the UTF-8 JSON bytes of an event message."""
    return json.dumps(transcript(result), separators=(",", ":")).encode("utf-8")


# What Transcribe sends while it hears nothing it would show: a transcript without results.
EMPTY_TRANSCRIPT_PAYLOAD: Final = b'{"Transcript":{"Results":[]}}'
