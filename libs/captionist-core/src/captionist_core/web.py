"""aiohttp pieces every Captionist service serves the same way."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterable

from aiohttp import WSCloseCode, web
from prometheus_client.aiohttp import make_aiohttp_handler

HEALTHCHECK_PATH = "/api/stt/healthcheck"
HEALTHCHECK_BODY = "Yes, I'm ok"


async def healthcheck(request: web.Request) -> web.Response:
    """The ALB target-group health check."""
    return web.Response(text=HEALTHCHECK_BODY)


def add_common_routes(app: web.Application) -> None:
    """``/api/stt/healthcheck`` and ``/metrics`` (Prometheus text format)."""
    app.router.add_get(HEALTHCHECK_PATH, healthcheck)
    app.router.add_get("/metrics", make_aiohttp_handler())


def json_error(status: int, code: str, message: str) -> web.Response:
    """An HTTP error with the contract's body: ``{"error": {"code": ..., "message": ...}}``."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def error_message(code: str, message: str) -> dict[str, str]:
    """A websocket ``error`` message of the contract."""
    return {"type": "error", "code": code, "message": message}


async def close_websockets(
    sockets: Iterable[web.WebSocketResponse], message: bytes, grace: float = 2
) -> None:
    """Close every socket with 1001 (going away), on shutdown.

    A peer that stopped reading never completes the closing handshake: it is not waited for.
    """
    await asyncio.gather(
        *(
            asyncio.wait_for(ws.close(code=WSCloseCode.GOING_AWAY, message=message), grace)
            for ws in list(sockets)
        ),
        return_exceptions=True,
    )


def quiet_garbage_collector() -> None:
    """Keep the cyclic garbage collector from pausing a server that holds thousands of sockets.

    With default thresholds, full collections over thousands of connections' objects stopped
    every send for 0.5-0.9 s every few seconds (docs/benchmarks.md). Objects alive at start-up
    are frozen out of collections, and young collections run per 50,000 allocations rather than
    700, so short-lived objects die young instead of being promoted and rescanned.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


def run_service(
    app: web.Application, *, host: str, port: int, shutdown_timeout: float = 10
) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, as every Captionist service runs in production."""
    quiet_garbage_collector()
    # Access logs would repeat what the per-session summary lines already say.
    web.run_app(
        app,
        host=host,
        port=port,
        shutdown_timeout=shutdown_timeout,
        print=None,
        access_log=None,
    )


def track_websockets(
    app: web.Application,
    key: web.AppKey[weakref.WeakSet[web.WebSocketResponse]],
    message: bytes,
) -> None:
    """Keep ``app``'s open websockets under ``key``; close them with 1001 on shutdown."""
    app[key] = weakref.WeakSet()

    async def close_all(app: web.Application) -> None:
        open_sockets = app[key]
        await close_websockets(open_sockets, message)

    app.on_shutdown.append(close_all)
