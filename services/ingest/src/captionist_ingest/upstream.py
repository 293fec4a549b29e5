"""The Transcribe streaming protocol, client side: open a stream, read its events.

A stream is a websocket to a SigV4-presigned URL; both directions carry event-stream messages.
Ingest sends ``AudioEvent``s (an empty one ends the stream) and receives ``TranscriptEvent``s, or an
exception message just before Transcribe closes the stream.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
from aiohttp import WSCloseCode
from botocore.credentials import ReadOnlyCredentials

from captionist_core.eventstream import EventStreamError, decode
from captionist_core.transcribe_url import presign


class UpstreamError(Exception):
    """A failed stream: ``kind`` labels the metric; the speaker sees ``code``, ``close_code``."""

    def __init__(self, kind: str, code: str, close_code: WSCloseCode, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.code = code
        self.close_code = close_code
        self.message = message


# Transcribe's exception types -> (metric kind, error code, close code).
_EXCEPTIONS: Final[dict[str, tuple[str, str, WSCloseCode]]] = {
    "BadRequestException": ("bad_request", "upstream_bad_request", WSCloseCode.INTERNAL_ERROR),
    "LimitExceededException": ("limit_exceeded", "try_again_later", WSCloseCode.TRY_AGAIN_LATER),
    "ThrottlingException": ("limit_exceeded", "try_again_later", WSCloseCode.TRY_AGAIN_LATER),
    "ServiceUnavailableException": (
        "service_unavailable",
        "try_again_later",
        WSCloseCode.TRY_AGAIN_LATER,
    ),
    "ConflictException": ("conflict", "upstream_conflict", WSCloseCode.INTERNAL_ERROR),
    "InternalFailureException": (
        "internal_failure",
        "upstream_internal_error",
        WSCloseCode.INTERNAL_ERROR,
    ),
}
_EXCEPTION_TEXT: Final = {
    "upstream_bad_request": "The transcription service refused the audio stream",
    "try_again_later": "The transcription service is busy; try again later",
    "upstream_conflict": "The transcription service reported a conflict",
    "upstream_internal_error": "The transcription service failed",
    "upstream_error": "The transcription service failed",
}


# Failures of a running stream that a new stream may get past: a dropped connection, Transcribe's
# no-audio timeout and 4-hour limit (both BadRequestException), and its transient refusals.
RETRYABLE_KINDS: Final = frozenset(
    {
        "lost",
        "unreachable",
        "bad_request",
        "limit_exceeded",
        "service_unavailable",
        "internal_failure",
    }
)


def exception_error(exception_type: str | None) -> UpstreamError:
    """The error a Transcribe exception message of ``exception_type`` ends the session with.

    The upstream's own message is not passed on: it may quote the request.
    """
    kind, code, close_code = _EXCEPTIONS.get(
        exception_type or "", ("other_exception", "upstream_error", WSCloseCode.INTERNAL_ERROR)
    )
    return UpstreamError(kind, code, close_code, _EXCEPTION_TEXT[code])


def protocol_error() -> UpstreamError:
    """The upstream sent something that is not the Transcribe protocol."""
    return UpstreamError(
        "protocol",
        "upstream_error",
        WSCloseCode.INTERNAL_ERROR,
        "The transcription service sent an unreadable message",
    )


def lost_error() -> UpstreamError:
    """The upstream closed the stream before the speaker finished."""
    return UpstreamError(
        "lost",
        "upstream_lost",
        WSCloseCode.INTERNAL_ERROR,
        "The transcription service closed the stream",
    )


@dataclass(frozen=True, slots=True)
class Result:
    """One result of a TranscriptEvent, in upstream audio time."""

    result_id: str
    is_partial: bool
    text: str
    start: float
    end: float


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("a time is not a finite number")
    return max(float(value), 0.0)


def parse_transcript_event(payload: bytes) -> list[Result]:
    """The results of a TranscriptEvent's JSON payload; ``ValueError`` if it is malformed."""
    document = json.loads(payload)
    results = document["Transcript"]["Results"]
    if not isinstance(results, list):
        raise ValueError("Results is not a list")
    parsed = []
    for result in results:
        alternatives = result.get("Alternatives") or [{}]
        text = alternatives[0].get("Transcript") or ""
        result_id, is_partial = result["ResultId"], result["IsPartial"]
        if not isinstance(result_id, str) or not isinstance(is_partial, bool):
            raise ValueError("ResultId or IsPartial has the wrong type")
        if not isinstance(text, str):
            raise ValueError("Transcript is not a string")
        start, end = _number(result["StartTime"]), _number(result["EndTime"])
        parsed.append(Result(result_id, is_partial, text.strip(), start, max(start, end)))
    return parsed


def read_message(frame: bytes) -> list[Result]:
    """The results carried by one upstream frame; raises ``UpstreamError`` for anything else."""
    try:
        message = decode(frame)
    except EventStreamError as error:
        raise protocol_error() from error
    if message.message_type in ("exception", "error"):
        raise exception_error(message.exception_type or _error_code(message.headers))
    if message.message_type != "event":
        raise protocol_error()
    if message.event_type != "TranscriptEvent":
        return []  # other events carry nothing a speaker needs
    try:
        return parse_transcript_event(message.payload)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise protocol_error() from error


def _error_code(headers: Any) -> str | None:
    value = headers.get(":error-code")
    return value if isinstance(value, str) else None


def stream_params(language: str, sample_rate: int, stability: str) -> dict[str, str]:
    """The query of a StartStreamTranscription websocket for one speaker."""
    return {
        "language-code": language,
        "media-encoding": "pcm",
        "sample-rate": str(sample_rate),
        "enable-partial-results-stabilization": "true",
        "partial-results-stability": stability,
    }


async def open_stream(
    http: aiohttp.ClientSession,
    endpoint: str,
    region: str,
    credentials: ReadOnlyCredentials,
    params: dict[str, str],
    within: float,
) -> aiohttp.ClientWebSocketResponse:
    """Open a stream within ``within`` seconds, or raise ``UpstreamError``.

    A refusal (403, 400, ...) is ``upstream_rejected`` (1011); an unreachable or busy service is
    ``upstream_unavailable`` (1013).
    """
    url = presign(endpoint, region, credentials, params)
    try:
        async with asyncio.timeout(within):
            return await http.ws_connect(url, autoping=True, compress=0, max_msg_size=1 << 20)
    except aiohttp.WSServerHandshakeError as error:
        if error.status in (429, 502, 503, 504):
            raise _unavailable() from error
        raise UpstreamError(
            "rejected",
            "upstream_rejected",
            WSCloseCode.INTERNAL_ERROR,
            f"The transcription service refused the stream (HTTP {error.status})",
        ) from error
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise _unavailable() from error


def _unavailable() -> UpstreamError:
    return UpstreamError(
        "unreachable",
        "upstream_unavailable",
        WSCloseCode.TRY_AGAIN_LATER,
        "The transcription service is unreachable; try again later",
    )
