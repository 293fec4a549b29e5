"""HTTP and websocket handlers of transcribe-local."""

from __future__ import annotations

import time
import uuid

import structlog
from aiohttp import web

from captionist_core.transcribe_url import STREAM_PATH, SignatureError, verify
from captionist_core.web import add_common_routes
from captionist_transcribe_local import metrics
from captionist_transcribe_local.keys import ENGINE, EXECUTOR, SETTINGS, WEBSOCKETS
from captionist_transcribe_local.protocol import ParameterError, parse_parameters
from captionist_transcribe_local.session import StreamSession

log = structlog.get_logger()


def aws_error(status: int, code: str, message: str) -> web.Response:
    """An error the way AWS answers a refused handshake: ``x-amzn-ErrorType`` and a JSON body."""
    return web.json_response(
        {"message": message}, status=status, headers={"x-amzn-ErrorType": code}
    )


async def stream_transcription(request: web.Request) -> web.StreamResponse:
    """``/stream-transcription-websocket``: Transcribe's StartStreamTranscription."""
    settings = request.app[SETTINGS]
    engine = request.app[ENGINE]
    secret = settings.secret_access_key.get_secret_value()
    try:
        verify(
            request.method,
            request.host,
            request.path,
            request.query,
            lambda key: secret if key == settings.access_key_id else None,
            settings.aws_region,
        )
        parameters = parse_parameters(request.query, engine.languages)
    except SignatureError as error:
        log.info("refused", code=str(error.code))
        return aws_error(error.status, error.code, error.message)
    except ParameterError as error:
        log.info("refused", code=error.code)
        return aws_error(400, error.code, error.message)

    session_id = str(uuid.uuid4())
    ws = web.WebSocketResponse(heartbeat=settings.heartbeat, max_msg_size=1 << 20)
    # Transcribe names the session in a response header; clients log it.
    ws.headers["x-amzn-transcribe-session-id"] = session_id
    await ws.prepare(request)
    request.app[WEBSOCKETS].add(ws)
    metrics.SESSIONS.inc()
    structlog.contextvars.bind_contextvars(session=session_id)
    started = time.monotonic()
    session = StreamSession(
        ws,
        parameters,
        engine,
        request.app[EXECUTOR],
        audio_timeout=settings.audio_timeout,
        max_buffered_seconds=settings.max_buffered_audio_seconds,
    )
    try:
        await session.run()
    except (ConnectionError, TimeoutError):  # the client vanished or never answered our close
        session.stats.outcome = "connection_lost"
    finally:
        metrics.SESSIONS.dec()
        stats = session.stats
        log.info(
            "transcription_session",
            duration_s=round(time.monotonic() - started, 3),
            sample_rate=parameters.sample_rate,
            language=parameters.language_code,
            audio_s=round(stats.audio_bytes / (parameters.sample_rate * 2), 3),
            partials=stats.partials,
            finals=stats.finals,
            outcome=stats.outcome,
            close_code=ws.close_code,
        )
        structlog.contextvars.unbind_contextvars("session")
    return ws


def setup_routes(app: web.Application) -> None:
    """Every route transcribe-local serves."""
    add_common_routes(app)
    app.router.add_get(STREAM_PATH, stream_transcription)
