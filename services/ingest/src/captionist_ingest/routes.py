"""HTTP and websocket handlers of ingest."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Mapping

import structlog
from aiohttp import WSCloseCode, web

from captionist_core.segment import CONVERSATION_PATTERN
from captionist_core.web import add_common_routes, error_message, json_error
from captionist_ingest import metrics
from captionist_ingest.keys import (
    CREDENTIALS,
    PUBLISHER,
    SESSIONS,
    SETTINGS,
    UPSTREAM_HTTP,
    WEBSOCKETS,
)
from captionist_ingest.session import MAX_MESSAGE_SIZE, Session, SpeakerRequest

log = structlog.get_logger()

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 48000
DEFAULT_SPEAKER = "Speaker"
DEFAULT_LANGUAGE = "en-US"
_CONVERSATION_RE = re.compile(CONVERSATION_PATTERN)
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$")
_SAMPLE_RATE_RE = re.compile(r"^[0-9]{1,6}$")


class QueryError(ValueError):
    """A query parameter the contract does not allow; ``code`` and ``message`` go to the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_query(query: Mapping[str, str]) -> SpeakerRequest:
    """The speaker's request from the websocket's query, or ``QueryError``."""
    raw_rate = query.get("sampleRate")
    if raw_rate is None:
        raise QueryError("missing_sample_rate", "The 'sampleRate' parameter is required")
    if not _SAMPLE_RATE_RE.match(raw_rate) or not (
        MIN_SAMPLE_RATE <= int(raw_rate) <= MAX_SAMPLE_RATE
    ):
        raise QueryError(
            "invalid_sample_rate",
            f"'sampleRate' must be an integer from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE}",
        )
    conversation = query.get("conversation")
    if conversation is None:
        conversation = uuid.uuid4().hex
    elif not _CONVERSATION_RE.match(conversation):
        raise QueryError("invalid_conversation", "'conversation' must match [A-Za-z0-9_-]{1,64}")
    speaker = query.get("speaker", DEFAULT_SPEAKER)
    if not 1 <= len(speaker) <= 64 or not speaker.isprintable():
        raise QueryError("invalid_speaker", "'speaker' must be 1 to 64 printable characters")
    language = query.get("language", DEFAULT_LANGUAGE)
    if not _LANGUAGE_RE.match(language):
        raise QueryError("invalid_language", "'language' must be a language code such as en-US")
    return SpeakerRequest(conversation, speaker, language, int(raw_rate))


async def transcribe(request: web.Request) -> web.StreamResponse:
    """``/api/stt/transcribe``: a speaker's audio in; partials, finals and status out."""
    try:
        speaker = parse_query(request.query)
    except QueryError as error:
        return json_error(400, error.code, error.message)
    settings = request.app[SETTINGS]
    ws = web.WebSocketResponse(heartbeat=settings.heartbeat, max_msg_size=MAX_MESSAGE_SIZE)
    await ws.prepare(request)
    request.app[WEBSOCKETS].add(ws)
    session = Session(ws, speaker, uuid.uuid4().hex, settings, request.app[PUBLISHER])
    structlog.contextvars.bind_contextvars(conversation=speaker.conversation, session=session.id)
    try:
        # Its own task: a speaker who hangs up must not cancel the flush of their last finals.
        task = asyncio.create_task(_serve(request.app, session))
    finally:
        structlog.contextvars.unbind_contextvars("conversation", "session")
    sessions = request.app[SESSIONS]
    sessions.add(task)
    task.add_done_callback(sessions.discard)
    await asyncio.shield(task)
    return ws


async def _serve(app: web.Application, session: Session) -> None:
    """Run ``session`` to its end; one summary line for it, whatever happens."""
    metrics.SESSIONS.inc()
    metrics.SESSIONS_ACTIVE.inc()
    started = time.monotonic()
    ws = session.ws
    try:
        await session.run(app[UPSTREAM_HTTP], app[CREDENTIALS])
    except Exception:  # a bug must end this session only, and visibly
        log.exception("session_failed")
        session.outcome = "internal_error"
        with contextlib.suppress(Exception):
            await ws.send_json(error_message("internal_error", "Ingest failed"))
            await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal_error")
    finally:
        metrics.SESSIONS_ACTIVE.dec()
        metrics.REPLAY_DROPPED_SECONDS.inc(session.replay_dropped_seconds)
        log.info(
            "speaker_session",
            duration_s=round(time.monotonic() - started, 3),
            audio_s=round(session.audio_seconds, 3),
            keepalive_s=round(session.keepalive_seconds, 3),
            partials=session.partials,
            finals=session.finals,
            reconnects=session.reconnects,
            replay_dropped_s=round(session.replay_dropped_seconds, 3),
            outcome=session.outcome,
            close_code=ws.close_code,
        )


def setup_routes(app: web.Application) -> None:
    """Every route ingest serves."""
    add_common_routes(app)
    app.router.add_get("/api/stt/transcribe", transcribe)
