"""transcribe-local's application factory and entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import structlog
from aiohttp import web

from captionist_core.logging import configure_logging
from captionist_core.task_load import publish_open_websockets
from captionist_core.web import run_service, track_websockets
from captionist_transcribe_local.engines.registry import load_engine
from captionist_transcribe_local.keys import ENGINE, EXECUTOR, SETTINGS, WEBSOCKETS
from captionist_transcribe_local.routes import setup_routes
from captionist_transcribe_local.settings import TranscribeLocalSettings

log = structlog.get_logger()


async def _engine_threads(app: web.Application) -> AsyncIterator[None]:
    """The pool every engine call runs in, so recognition never blocks the event loop."""
    executor = ThreadPoolExecutor(
        max_workers=app[SETTINGS].engine_threads, thread_name_prefix="engine"
    )
    app[EXECUTOR] = executor
    yield
    # Sessions are closed by now; a call still running finishes in its thread, unawaited.
    executor.shutdown(wait=False, cancel_futures=True)
    app[ENGINE].close()


def create_app(settings: TranscribeLocalSettings) -> web.Application:
    """A Transcribe-compatible streaming server using ``settings.engine``."""
    app = web.Application()
    app[SETTINGS] = settings
    app[ENGINE] = load_engine(settings)
    track_websockets(app, WEBSOCKETS, b"server shutdown")
    app.cleanup_ctx.append(_engine_threads)
    publish_open_websockets(
        app, WEBSOCKETS, settings, service="transcribe-local", metric_name="ActiveStreams"
    )
    setup_routes(app)
    return app


def main() -> None:
    """Run the server (console script ``captionist-transcribe-local``)."""
    settings = TranscribeLocalSettings()
    configure_logging(settings, "transcribe-local")
    log.info("starting", host=settings.host, port=settings.port, engine=settings.engine)
    run_service(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.shutdown_timeout,
    )
