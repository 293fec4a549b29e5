"""Ingest's application factory and entry point."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import structlog
from aiohttp import web

from captionist_core.aws import async_client
from captionist_core.logging import configure_logging
from captionist_core.task_load import publish_open_websockets
from captionist_core.web import run_service, track_websockets
from captionist_ingest.credentials import CredentialSource
from captionist_ingest.keys import (
    CREDENTIALS,
    PUBLISHER,
    SESSIONS,
    SETTINGS,
    UPSTREAM_HTTP,
    WEBSOCKETS,
)
from captionist_ingest.publisher import SegmentPublisher
from captionist_ingest.routes import setup_routes
from captionist_ingest.settings import IngestSettings

log = structlog.get_logger()


async def _queue_and_upstream(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with (
        async_client("sqs", settings) as sqs,
        # One connection per upstream stream for its whole life: no pool limit (aiohttp's
        # default of 100 would hold the 101st speaker until its connect timeout).
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
    ):
        app[PUBLISHER] = SegmentPublisher(
            sqs,
            settings.segments_queue,
            retries=settings.send_retries,
            backoff=settings.send_backoff,
            backoff_max=settings.send_backoff_max,
        )
        app[UPSTREAM_HTTP] = http
        yield
        await _finish_sessions(app[SESSIONS], settings.end_timeout)


async def _finish_sessions(sessions: set[asyncio.Task[None]], grace: float) -> None:
    """Let sessions flush their last finals for ``grace`` seconds, then cancel the rest."""
    if sessions:
        _, pending = await asyncio.wait(set(sessions), timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def create_app(settings: IngestSettings) -> web.Application:
    """An ingest sending ``settings``' speakers to Transcribe and their finals to the queue."""
    app = web.Application()
    app[SETTINGS] = settings
    app[CREDENTIALS] = CredentialSource(settings)
    track_websockets(app, WEBSOCKETS, b"server shutdown")
    app[SESSIONS] = set()
    app.cleanup_ctx.append(_queue_and_upstream)
    publish_open_websockets(
        app, WEBSOCKETS, settings, service="ingest", metric_name="ActiveStreams"
    )
    setup_routes(app)
    return app


def main() -> None:
    """Run ingest (console script ``captionist-ingest``)."""
    settings = IngestSettings()
    configure_logging(settings, "ingest")
    log.info(
        "starting",
        host=settings.host,
        port=settings.port,
        queue=settings.segments_queue,
        transcribe=settings.transcribe_url,
    )
    run_service(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.shutdown_timeout,
    )
