"""The broadcaster's application factory and entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from captionist_broadcaster.fanout import FeedHub
from captionist_broadcaster.keys import HUB, SETTINGS, STORE, WEBSOCKETS
from captionist_broadcaster.routes import setup_routes
from captionist_broadcaster.settings import BroadcasterSettings
from captionist_broadcaster.store import SegmentStore
from captionist_core.aws import async_client
from captionist_core.logging import configure_logging
from captionist_core.task_load import publish_open_websockets
from captionist_core.web import run_service, track_websockets

log = structlog.get_logger()


async def _store_and_feeds(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with async_client("dynamodb", settings) as client:
        store = SegmentStore(client, settings.conversations_table)
        hub = FeedHub(
            store,
            poll_interval=settings.poll_interval,
            late_window_ms=round(settings.late_window_seconds * 1000),
            settle_ms=settings.settle_ms,
            history_ms=settings.snapshot_seconds * 1000,
        )
        app[STORE] = store
        app[HUB] = hub
        yield
        await hub.close()


def create_app(settings: BroadcasterSettings) -> web.Application:
    """A broadcaster serving ``settings``' table."""
    app = web.Application()
    app[SETTINGS] = settings
    track_websockets(app, WEBSOCKETS, b"server shutdown")
    app.cleanup_ctx.append(_store_and_feeds)
    publish_open_websockets(
        app, WEBSOCKETS, settings, service="broadcaster", metric_name="ListenerConnections"
    )
    setup_routes(app)
    return app


def main() -> None:
    """Run the broadcaster (console script ``captionist-broadcaster``)."""
    settings = BroadcasterSettings()
    configure_logging(settings, "broadcaster")
    log.info("starting", host=settings.host, port=settings.port, table=settings.conversations_table)
    run_service(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.shutdown_timeout,
    )
