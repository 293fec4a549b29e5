"""Relay HTTP requests and websockets to a service, as the ALB forwards to a target group."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import aiohttp
import structlog
from aiohttp import WSCloseCode, WSMsgType, hdrs, web
from aiohttp.client_middlewares import ClientHandlerType
from multidict import CIMultiDict
from yarl import URL

from captionist_core.web import json_error
from captionist_dev.keys import SETTINGS, UPSTREAM_SESSION, WEBSOCKETS

log = structlog.get_logger()

# A client may send up to this much in one message: 64 KiB audio frames (contract) pass, and
# the service, not the gateway, is the one that answers "too big" (1009) for frames above 64 KiB.
MAX_CLIENT_MESSAGE = 1024 * 1024
# What a service sends (a snapshot after an old `since` can be long) is bounded only to cap memory.
MAX_SERVICE_MESSAGE = 16 * 1024 * 1024
CLOSE_TIMEOUT = 5.0

# RFC 9110 section 7.6.1, plus the de facto Proxy-Connection and Keep-Alive.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# The handshake headers are per connection: aiohttp negotiates each leg of a websocket itself.
WEBSOCKET_HANDSHAKE = frozenset(
    {
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "sec-websocket-accept",
    }
)
# Close codes that describe what happened locally and may never be sent in a close frame.
UNSENDABLE_CLOSE_CODES = frozenset({0, 1004, 1005, 1006, 1015})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Upstream:
    """A service the gateway forwards to: its name (for errors and logs) and base URL."""

    name: str
    url: URL

    def target(self, request: web.BaseRequest) -> URL:
        """The service's URL for ``request``: same path and query, exactly as the client sent."""
        return URL(str(self.url).rstrip("/") + request.raw_path, encoded=True)


class UpgradeRefused(Exception):
    """A service answered a websocket handshake with a plain HTTP response."""

    def __init__(self, status: int, reason: str | None, headers: CIMultiDict[str], body: bytes):
        super().__init__(f"websocket upgrade refused with HTTP {status}")
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body


async def keep_refused_upgrade(
    request: aiohttp.ClientRequest, handler: ClientHandlerType
) -> aiohttp.ClientResponse:
    """Client middleware: raise a refused handshake's whole answer, body included.

    ``ws_connect`` raises ``WSServerHandshakeError`` without the body, yet the contract's 400
    carries its reason in a JSON body that the client must receive unchanged.
    """
    response = await handler(request)
    upgrading = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
    if not upgrading or response.status == 101:
        return response
    try:
        body = await response.read()
    finally:
        response.release()
    raise UpgradeRefused(response.status, response.reason, end_to_end(response.headers), body)


def end_to_end(headers: Mapping[str, str] | CIMultiDict[str]) -> CIMultiDict[str]:
    """``headers`` without the hop-by-hop ones (including those named in ``Connection``)."""
    source = CIMultiDict(headers)
    named = {
        token.strip().lower()
        for value in source.getall(hdrs.CONNECTION, [])
        for token in value.split(",")
    }
    dropped = HOP_BY_HOP | named
    return CIMultiDict(
        (name, value) for name, value in source.items() if name.lower() not in dropped
    )


def forwarded_headers(request: web.BaseRequest, *, websocket: bool = False) -> CIMultiDict[str]:
    """The headers a service receives: the client's end-to-end ones plus ``X-Forwarded-*``."""
    headers = end_to_end(request.headers)
    # Expect: the gateway's server already answered "100 Continue" to the client.
    for name in (hdrs.HOST, hdrs.EXPECT, hdrs.X_FORWARDED_PROTO, hdrs.X_FORWARDED_HOST):
        headers.popall(name, None)
    if websocket:
        for handshake_header in WEBSOCKET_HANDSHAKE:
            headers.popall(handshake_header, None)
    chain: list[str] = list(headers.popall(hdrs.X_FORWARDED_FOR, []))
    if request.remote:
        chain.append(request.remote)
    if chain:
        headers[hdrs.X_FORWARDED_FOR] = ", ".join(chain)
    headers[hdrs.X_FORWARDED_PROTO] = request.scheme
    headers[hdrs.X_FORWARDED_HOST] = request.host
    return headers


def is_websocket_upgrade(request: web.BaseRequest) -> bool:
    """Whether the client asks for a websocket (``Upgrade: websocket``)."""
    upgrade = {token.strip().lower() for token in request.headers.get(hdrs.UPGRADE, "").split(",")}
    return request.method == hdrs.METH_GET and "websocket" in upgrade


def service_unavailable(upstream: Upstream) -> web.Response:
    """What a client gets when nothing listens at the service's address."""
    return json_error(503, "service_unavailable", f"{upstream.name} is not running")


# Nothing answers at the service's address (refused, or no connection within the timeout).
UNREACHABLE = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


def proxy_handler(upstream: Upstream) -> Handler:
    """A request handler forwarding HTTP requests and websockets to ``upstream``."""

    async def forward(request: web.Request) -> web.StreamResponse:
        if is_websocket_upgrade(request):
            return await proxy_websocket(request, upstream)
        return await proxy_http(request, upstream)

    return forward


async def proxy_http(request: web.Request, upstream: Upstream) -> web.StreamResponse:
    """Relay one HTTP request; the response's status, headers and body stream back."""
    session = request.app[UPSTREAM_SESSION]
    body = request.content if request.body_exists else None
    response: web.StreamResponse | None = None
    try:
        async with session.request(
            request.method,
            upstream.target(request),
            headers=forwarded_headers(request),
            data=body,
            allow_redirects=False,
        ) as answer:
            response = web.StreamResponse(
                status=answer.status, reason=answer.reason, headers=end_to_end(answer.headers)
            )
            await response.prepare(request)
            async for chunk in answer.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
    except UNREACHABLE:
        log.warning("service_unavailable", service=upstream.name, path=request.path)
        return service_unavailable(upstream)
    except aiohttp.ClientError as error:
        if response is None or not response.prepared:
            log.warning(
                "service_failed", service=upstream.name, path=request.path, error=repr(error)
            )
            return json_error(502, "bad_gateway", f"{upstream.name} did not answer properly")
        if not isinstance(error, ConnectionResetError):  # else the client left: nothing to do
            log.warning(
                "service_failed", service=upstream.name, path=request.path, error=repr(error)
            )
        # Headers are out: only cutting the connection tells the client the body is incomplete.
        if request.transport is not None:
            request.transport.close()
        return response


@dataclass(frozen=True)
class _Ending:
    """Which peer ended a proxied websocket, with its close code if it sent a close frame."""

    side: Literal["client", "service"]
    code: int | None = None
    reason: bytes = b""


@dataclass
class _Traffic:
    """What one proxied websocket carried, and how it ended (for its summary log line)."""

    to_service: int = 0
    to_client: int = 0
    ending: _Ending | None = None


AnyWebSocket = web.WebSocketResponse | aiohttp.ClientWebSocketResponse


async def proxy_websocket(request: web.Request, upstream: Upstream) -> web.StreamResponse:
    """Open the service's websocket first, then accept the client's, and relay both ways.

    A refused handshake (e.g. 400 with a JSON body for an invalid query) reaches the client as that
    same HTTP response, before any upgrade.
    """
    settings = request.app[SETTINGS]
    if not web.WebSocketResponse().can_prepare(request).ok:
        return json_error(400, "invalid_websocket_handshake", "Not a valid websocket handshake")
    offered = [
        protocol.strip()
        for value in request.headers.getall(hdrs.SEC_WEBSOCKET_PROTOCOL, [])
        for protocol in value.split(",")
        if protocol.strip()
    ]
    try:
        service_ws = await request.app[UPSTREAM_SESSION].ws_connect(
            upstream.target(request),
            headers=forwarded_headers(request, websocket=True),
            protocols=offered,
            heartbeat=settings.heartbeat,
            autoclose=False,
            max_msg_size=MAX_SERVICE_MESSAGE,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_TIMEOUT),
        )
    except UpgradeRefused as refused:
        refused.headers.popall(hdrs.CONTENT_LENGTH, None)
        return web.Response(
            status=refused.status, reason=refused.reason, headers=refused.headers, body=refused.body
        )
    except UNREACHABLE:
        log.warning("service_unavailable", service=upstream.name, path=request.path)
        return service_unavailable(upstream)
    except aiohttp.ClientError as error:
        log.warning("service_failed", service=upstream.name, path=request.path, error=repr(error))
        return json_error(502, "bad_gateway", f"{upstream.name} did not accept the websocket")

    client_ws = web.WebSocketResponse(
        heartbeat=settings.heartbeat,
        autoclose=False,
        max_msg_size=MAX_CLIENT_MESSAGE,
        timeout=CLOSE_TIMEOUT,
        protocols=(service_ws.protocol,) if service_ws.protocol else (),
    )
    started = time.monotonic()
    traffic = _Traffic()
    try:
        await client_ws.prepare(request)
        request.app[WEBSOCKETS].add(client_ws)
        await _relay(client_ws, service_ws, upstream.name, traffic)
    finally:
        await service_ws.close(code=WSCloseCode.GOING_AWAY)
        log.info(
            "websocket_session",
            service=upstream.name,
            path=request.path,
            duration_s=round(time.monotonic() - started, 3),
            messages_to_service=traffic.to_service,
            messages_to_client=traffic.to_client,
            ended_by=traffic.ending.side if traffic.ending else "gateway",
            close_code=traffic.ending.code if traffic.ending else None,
        )
    return client_ws


async def _relay(
    client_ws: web.WebSocketResponse,
    service_ws: aiohttp.ClientWebSocketResponse,
    service: str,
    traffic: _Traffic,
) -> None:
    """Copy messages both ways until one peer leaves, then close the other with its code."""
    upstream_task = asyncio.create_task(_copy(client_ws, service_ws, "client", "service", traffic))
    downstream_task = asyncio.create_task(
        _copy(service_ws, client_ws, "service", "client", traffic)
    )
    tasks = {upstream_task, downstream_task}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        ending = (downstream_task if downstream_task in done else upstream_task).result()
        traffic.ending = ending
        code: int
        if ending.side == "service":
            if ending.code is None:
                code, reason = WSCloseCode.INTERNAL_ERROR, f"{service} connection lost".encode()
            else:
                code, reason = ending.code, ending.reason
            await client_ws.close(code=code, message=reason)
            await service_ws.close(code=code)
        else:
            if ending.code is None:
                code, reason = WSCloseCode.GOING_AWAY, b"client went away"
            else:
                code, reason = ending.code, ending.reason
            await service_ws.close(code=code, message=reason)
            await client_ws.close(code=code, message=reason)
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            # Done already, unless something else is propagating: never mask that.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _copy(
    source: AnyWebSocket,
    sink: AnyWebSocket,
    source_side: Literal["client", "service"],
    sink_side: Literal["client", "service"],
    traffic: _Traffic,
) -> _Ending:
    """Copy text and binary messages from ``source`` to ``sink`` until either goes away."""
    while True:
        message = await source.receive()
        try:
            if message.type is WSMsgType.TEXT:
                await sink.send_str(message.data)
            elif message.type is WSMsgType.BINARY:
                await sink.send_bytes(message.data)
            elif message.type is WSMsgType.CLOSE:
                code = message.data if message.data not in UNSENDABLE_CLOSE_CODES else 1000
                return _Ending(source_side, code, (message.extra or "").encode())
            else:  # CLOSING, CLOSED or ERROR: gone without a close frame to relay
                return _Ending(source_side)
        except (ConnectionError, RuntimeError):
            # Writing failed: the sink's connection is gone, not the source's.
            return _Ending(sink_side)
        if sink_side == "service":
            traffic.to_service += 1
        else:
            traffic.to_client += 1
