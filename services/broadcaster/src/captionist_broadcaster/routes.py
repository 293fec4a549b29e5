"""HTTP and websocket handlers of the broadcaster."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from captionist_broadcaster import export, metrics
from captionist_broadcaster.fanout import Listener
from captionist_broadcaster.keys import HUB, SETTINGS, STORE, WEBSOCKETS
from captionist_core.segment import cursor_at, is_valid_conversation, is_valid_cursor
from captionist_core.web import add_common_routes, error_message, json_error

log = structlog.get_logger()

CLOSE_TIMEOUT = 2.0
# Above this many unsent bytes at the socket, frames wait in the listener's own buffer instead.
DIRECT_WRITE_LIMIT = 64 * 1024


def _conversation_error(conversation: str | None) -> web.Response | None:
    if not conversation:
        return json_error(400, "missing_conversation", "The 'conversation' parameter is required")
    if not is_valid_conversation(conversation):
        return json_error(
            400, "invalid_conversation", "'conversation' must match [A-Za-z0-9_-]{1,64}"
        )
    return None


async def connect(request: web.Request) -> web.StreamResponse:
    """``/api/stt/connect``: a snapshot of the conversation, then its new segments as they land."""
    conversation = request.query.get("conversation")
    since = request.query.get("since")
    if error := _conversation_error(conversation):
        return error
    assert conversation is not None
    if since is not None and not is_valid_cursor(since):
        return json_error(
            400, "invalid_since", "'since' must be the cursor of a segment (<timestamp>#<id>)"
        )
    settings = request.app[SETTINGS]
    # No permessage-deflate: compressing each small message once per listener would cost more
    # CPU and memory (a zlib context per connection) than it saves in bandwidth.
    ws = web.WebSocketResponse(heartbeat=settings.heartbeat, max_msg_size=4096, compress=False)
    await ws.prepare(request)
    request.app[WEBSOCKETS].add(ws)
    metrics.CONNECTIONS.inc()
    metrics.LISTENERS.inc()
    structlog.contextvars.bind_contextvars(conversation=conversation)
    started = time.monotonic()
    listener = Listener(
        conversation, ws.send_str, settings.send_buffer_bytes, _frame_writer(request, ws)
    )
    hub = request.app[HUB]
    feed = hub.join(listener)
    outcome = "closed"
    try:
        try:
            await asyncio.wait_for(feed.ready.wait(), settings.first_read_timeout)
            floor = since or cursor_at(
                time.time_ns() // 1_000_000 - settings.snapshot_seconds * 1000
            )
            snapshot = feed.snapshot_after(floor)
            metrics.SNAPSHOTS.labels("memory" if snapshot is not None else "table").inc()
            if snapshot is None:
                snapshot = await request.app[STORE].after(conversation, floor)
        except Exception:  # the store is unreachable: tell the listener to come back later
            log.warning("snapshot_failed", exc_info=True)
            outcome = "store_unavailable"
            await _close_with_error(
                request,
                ws,
                WSCloseCode.TRY_AGAIN_LATER,
                outcome,
                "Transcripts are unavailable right now",
            )
            return ws
        listener.admit(snapshot, feed.floor, feed.seen)
        outcome = await _serve(request, ws, listener)
    finally:
        await hub.leave(listener)
        metrics.LISTENERS.dec()
        log.info(
            "listener_session",
            duration_s=round(time.monotonic() - started, 3),
            segments=listener.delivered,
            outcome=outcome,
            close_code=ws.close_code,
        )
        structlog.contextvars.unbind_contextvars("conversation")
    return ws


def _frame_writer(request: web.Request, ws: web.WebSocketResponse) -> Callable[[bytes], bool]:
    """Write a whole frame straight to the connection when it is open and not backed up."""
    transport = request.transport

    def write_now(frame: bytes) -> bool:
        if (
            transport is None
            or ws.closed
            or transport.is_closing()
            or transport.get_write_buffer_size() > DIRECT_WRITE_LIMIT
        ):
            return False
        transport.write(frame)
        return True

    return write_now


async def _serve(request: web.Request, ws: web.WebSocketResponse, listener: Listener) -> str:
    """Send until the listener leaves, sends something it must not, or falls too far behind."""
    sender = listener.start_sending()
    receiver = asyncio.create_task(_receive(request, ws))
    await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    if receiver.done():
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        return receiver.result()
    receiver.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await receiver
    if listener.overflowed:
        await _close_with_error(
            request,
            ws,
            WSCloseCode.TRY_AGAIN_LATER,
            "listener_too_slow",
            "Too far behind; reconnect with 'since' set to the last cursor received",
        )
        return "too_slow"
    if sender.exception() is not None:  # the peer went away mid-send
        return "send_failed"
    return "closed"


async def _receive(request: web.Request, ws: web.WebSocketResponse) -> str:
    """Read what the listener sends: nothing is expected, anything else ends the session."""
    async for message in ws:
        if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            await _close_with_error(
                request,
                ws,
                WSCloseCode.UNSUPPORTED_DATA,
                "unsupported_message",
                "Listeners send no messages on this socket",
            )
            return "unsupported_message"
    return "closed"


async def _close_with_error(
    request: web.Request, ws: web.WebSocketResponse, code: WSCloseCode, error: str, message: str
) -> None:
    """Send an ``error`` message and close with ``code``; drop a peer that does not read them."""
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await ws.send_json(error_message(error, message))
            await ws.close(code=code, message=error.encode())
    except (TimeoutError, ConnectionError, RuntimeError):
        if request.transport is not None:
            request.transport.abort()


async def transcript(request: web.Request) -> web.Response:
    """``/api/stt/conversations/{conversation}/transcript?format=json|txt|srt|vtt``."""
    conversation = request.match_info["conversation"]
    if error := _conversation_error(conversation):
        return error
    fmt = request.query.get("format", "json")
    if fmt not in export.FORMATS:
        return json_error(
            400, "unsupported_format", f"'format' must be one of {', '.join(export.FORMATS)}"
        )
    segments = await request.app[STORE].after(conversation, cursor_at(0))
    if not segments:
        return json_error(404, "conversation_not_found", f"No conversation '{conversation}'")
    rendered = export.render(conversation, segments, fmt)
    return web.Response(
        text=rendered.body,
        content_type=rendered.content_type,
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{conversation}.{rendered.extension}"'
        },
    )


def setup_routes(app: web.Application) -> None:
    """Every route the broadcaster serves."""
    add_common_routes(app)
    app.router.add_get("/api/stt/connect", connect)
    app.router.add_get("/api/stt/conversations/{conversation}/transcript", transcript)
