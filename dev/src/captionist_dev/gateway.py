"""The local gateway: one origin on 127.0.0.1:8080 routing exactly as the ALB does in AWS.

- ``/api/stt/transcribe`` -> ingest
- ``/api/stt/connect``, ``/api/stt/conversations/*`` -> broadcaster
- ``/api/stt/healthcheck`` -> answered here
- any other ``/api/stt/...`` -> 404 JSON error
- everything else -> the web app's files (``index.html`` for unknown paths)

Run it alone with ``python -m captionist_dev.gateway``; ``captionist-dev run`` starts it with the
rest of the stack.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import structlog
from aiohttp import web
from yarl import URL

from captionist_core.logging import configure_logging
from captionist_core.web import (
    HEALTHCHECK_PATH,
    healthcheck,
    json_error,
    run_service,
    track_websockets,
)
from captionist_dev.keys import SETTINGS, UPSTREAM_SESSION, WEBSOCKETS
from captionist_dev.proxy import Upstream, keep_refused_upgrade, proxy_handler
from captionist_dev.settings import GatewaySettings
from captionist_dev.webapp import serve_web_app

log = structlog.get_logger()

API_PREFIX = "/api/stt/"


async def _upstream_session(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(
            total=None, sock_connect=settings.connect_timeout, sock_read=settings.read_timeout
        ),
        # Every proxied websocket holds a connection: no pool limit.
        connector=aiohttp.TCPConnector(limit=0),
        # A proxy relays cookies and encodings; it neither keeps nor decodes them.
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        middlewares=(keep_refused_upgrade,),
    ) as session:
        app[UPSTREAM_SESSION] = session
        yield


async def api_not_found(request: web.Request) -> web.Response:
    """An ``/api/stt/`` path that no listener rule routes."""
    return json_error(404, "not_found", f"No API endpoint at {request.path}")


def create_app(settings: GatewaySettings) -> web.Application:
    """The gateway in front of ``settings``' ingest and broadcaster, serving its web root."""
    app = web.Application()
    app[SETTINGS] = settings
    track_websockets(app, WEBSOCKETS, b"gateway shutting down")
    app.cleanup_ctx.append(_upstream_session)

    ingest = proxy_handler(Upstream("ingest", URL(settings.ingest_url)))
    broadcaster = proxy_handler(Upstream("broadcaster", URL(settings.broadcaster_url)))
    router = app.router
    router.add_route("*", HEALTHCHECK_PATH, healthcheck)
    router.add_route("*", API_PREFIX + "transcribe", ingest)
    router.add_route("*", API_PREFIX + "connect", broadcaster)
    router.add_route("*", API_PREFIX + "conversations/{rest:.*}", broadcaster)
    router.add_route("*", API_PREFIX + "{rest:.*}", api_not_found)
    router.add_get("/{path:.*}", serve_web_app)
    return app


def main() -> None:
    """Run the gateway alone (``captionist-dev run`` runs it as one of the stack's processes)."""
    settings = GatewaySettings()
    configure_logging(settings, "gateway")
    log.info(
        "starting",
        host=settings.host,
        port=settings.port,
        ingest=settings.ingest_url,
        broadcaster=settings.broadcaster_url,
        web_root=str(settings.web_root),
    )
    run_service(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.shutdown_timeout,
    )


if __name__ == "__main__":
    main()
