"""The gateway relaying to real aiohttp servers standing in for the ingest and the broadcaster.

The peers are small test servers, not our services: they echo what they receive and report what
the gateway sent them, so each test can check one thing the gateway must preserve.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from captionist_dev.gateway import create_app
from captionist_dev.settings import GatewaySettings

AiohttpServer = Callable[..., Awaitable[TestServer]]
AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]

PROTOCOL = "captionist.test"


@dataclass
class Peer:
    """A stand-in service: its name, and what reached it."""

    name: str
    closes: asyncio.Queue[tuple[int | None, str]] = field(default_factory=asyncio.Queue)
    release_stream: asyncio.Event = field(default_factory=asyncio.Event)


def peer_app(peer: Peer) -> web.Application:
    """Routes shaped like the real services', answering with what they saw."""

    async def seen(request: web.Request) -> web.Response:
        status = int(request.query.get("status", "200"))
        response = web.json_response(
            {
                "service": peer.name,
                "method": request.method,
                "path_qs": request.path_qs,
                "headers": {name.lower(): value for name, value in request.headers.items()},
            },
            status=status,
            headers={"X-Peer": peer.name, "Connection": "X-Peer-Hop", "X-Peer-Hop": "1"},
        )
        response.headers.add("Set-Cookie", "a=1")
        response.headers.add("Set-Cookie", "b=2")
        return response

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read(), content_type="application/octet-stream")

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"first chunk\n")
        await peer.release_stream.wait()
        await response.write(b"last chunk\n")
        await response.write_eof()
        return response

    async def broken(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"the start, and then")
        assert request.transport is not None
        request.transport.close()
        return response

    async def websocket(request: web.Request) -> web.StreamResponse:
        if "conversation" not in request.query:
            return web.json_response(
                {"error": {"code": "missing_conversation", "message": "required"}}, status=400
            )
        ws = web.WebSocketResponse(
            protocols=(PROTOCOL,), max_msg_size=2 * 1024 * 1024, autoclose=False
        )
        await ws.prepare(request)
        await ws.send_json(
            {
                "service": peer.name,
                "path_qs": request.path_qs,
                "headers": {name.lower(): value for name, value in request.headers.items()},
            }
        )
        while True:
            message = await ws.receive()
            if message.type is WSMsgType.TEXT:
                command, _, argument = message.data.partition(":")
                if command == "close":
                    code, _, reason = argument.partition(":")
                    await ws.close(code=int(code), message=reason.encode())
                elif command == "vanish":
                    assert request.transport is not None
                    request.transport.close()
                else:
                    await ws.send_str(f"{peer.name} echoes {message.data}")
            elif message.type is WSMsgType.BINARY:
                await ws.send_bytes(message.data[::-1])
            elif message.type is WSMsgType.CLOSE:
                await peer.closes.put((message.data, message.extra or ""))
                await ws.close()
                break
            else:
                await peer.closes.put((ws.close_code, ""))
                break
        return ws

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_get("/api/stt/connect", websocket)
    app.router.add_get("/api/stt/transcribe", websocket)
    app.router.add_route("*", "/api/stt/conversations/seen", seen)
    app.router.add_post("/api/stt/conversations/echo", echo)
    app.router.add_get("/api/stt/conversations/stream", stream)
    app.router.add_get("/api/stt/conversations/broken", broken)
    return app


@dataclass
class Setup:
    """A gateway in front of two peers."""

    gateway: TestClient[Any, Any]
    ingest: Peer
    broadcaster: Peer


@pytest.fixture
async def setup(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> AsyncIterator[Setup]:
    """The gateway routing to a stand-in ingest and a stand-in broadcaster."""
    ingest, broadcaster = Peer("ingest"), Peer("broadcaster")
    ingest_server = await aiohttp_server(peer_app(ingest), host="127.0.0.1")
    broadcaster_server = await aiohttp_server(peer_app(broadcaster), host="127.0.0.1")
    (tmp_path / "index.html").write_text("app")
    settings = GatewaySettings(
        ingest_url=str(ingest_server.make_url("/")),
        broadcaster_url=str(broadcaster_server.make_url("/")),
        web_root=tmp_path,
        heartbeat=5,
    )
    gateway = await aiohttp_client(create_app(settings))
    yield Setup(gateway, ingest, broadcaster)
    broadcaster.release_stream.set()


async def test_http_request_and_response_are_relayed(setup: Setup) -> None:
    """GIVEN the gateway in front of the broadcaster
    WHEN a client requests a conversation path with a query, its own headers and a hop-by-hop one
    THEN the broadcaster sees the same method, path and query, the end-to-end headers and the
    X-Forwarded-* ones but no hop-by-hop header; the client gets the status, headers and body."""
    response = await setup.gateway.request(
        "DELETE",
        "/api/stt/conversations/seen?format=srt&status=404&x=%C3%A9",
        headers={"X-Custom": "kept", "Connection": "X-Hop", "X-Hop": "dropped"},
    )
    assert response.status == 404
    assert response.headers["X-Peer"] == "broadcaster"
    assert response.headers.getall("Set-Cookie") == ["a=1", "b=2"]
    assert "X-Peer-Hop" not in response.headers
    seen = await response.json()
    assert seen["service"] == "broadcaster"
    assert seen["method"] == "DELETE"
    assert seen["path_qs"] == "/api/stt/conversations/seen?format=srt&status=404&x=%C3%A9"
    headers = seen["headers"]
    assert headers["x-custom"] == "kept"
    assert "x-hop" not in headers
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == f"127.0.0.1:{setup.gateway.port}"


async def test_x_forwarded_for_is_appended_to(setup: Setup) -> None:
    """GIVEN a request that already went through a proxy
    WHEN it reaches the broadcaster through the gateway
    THEN the gateway's peer is appended to X-Forwarded-For."""
    response = await setup.gateway.get(
        "/api/stt/conversations/seen", headers={"X-Forwarded-For": "203.0.113.7"}
    )
    seen = await response.json()
    assert seen["headers"]["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"


async def test_large_request_body_is_relayed_intact(setup: Setup) -> None:
    """GIVEN a 3 MiB request body
    WHEN it is posted through the gateway to a service that echoes it
    THEN the client gets exactly the same bytes back."""
    body = os.urandom(3 * 1024 * 1024)
    response = await setup.gateway.post("/api/stt/conversations/echo", data=body)
    assert response.status == 200
    assert await response.read() == body


async def test_response_body_is_streamed(setup: Setup) -> None:
    """GIVEN a service that sends the start of its response and waits before finishing it
    WHEN a client requests it through the gateway
    THEN the client reads the first chunk before the service has finished."""
    response = await setup.gateway.get("/api/stt/conversations/stream")
    assert await asyncio.wait_for(response.content.readline(), 5) == b"first chunk\n"
    setup.broadcaster.release_stream.set()
    assert await response.content.read() == b"last chunk\n"


async def test_head_request_gets_headers_only(setup: Setup) -> None:
    """GIVEN the gateway in front of the broadcaster
    WHEN a client sends a HEAD request
    THEN it gets the service's status and headers, and no body."""
    response = await setup.gateway.head("/api/stt/conversations/seen")
    assert response.status == 200
    assert response.headers["X-Peer"] == "broadcaster"
    assert int(response.headers["Content-Length"]) > 0
    assert await response.read() == b""


async def test_response_cut_by_the_service_is_cut_for_the_client(setup: Setup) -> None:
    """GIVEN a service that drops its connection in the middle of a response body
    WHEN a client reads that response through the gateway
    THEN the client sees the body fail, not a complete (truncated) response."""
    response = await setup.gateway.get("/api/stt/conversations/broken")
    assert response.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/stt/connect?conversation=c1&since=1764072000123%23s1", "broadcaster"),
        ("/api/stt/transcribe?sampleRate=16000&conversation=c1", "ingest"),
    ],
)
async def test_websocket_is_routed_with_its_query_and_relays_both_ways(
    setup: Setup, path: str, service: str
) -> None:
    """GIVEN the gateway in front of the ingest and the broadcaster
    WHEN a client opens a websocket path with a query and sends text and a 64 KiB binary frame
    THEN the path's service gets the query and X-Forwarded-For, and both frames come back intact."""
    async with setup.gateway.ws_connect(path, protocols=(PROTOCOL,)) as ws:
        assert ws.protocol == PROTOCOL
        hello = await ws.receive_json(timeout=5)
        assert hello["service"] == service
        assert hello["path_qs"] == path
        assert hello["headers"]["x-forwarded-for"] == "127.0.0.1"
        await ws.send_str("héllo")
        assert await ws.receive_str(timeout=5) == f"{service} echoes héllo"
        audio = os.urandom(64 * 1024)
        await ws.send_bytes(audio)
        assert await ws.receive_bytes(timeout=5) == audio[::-1]


async def test_service_close_code_and_reason_reach_the_client(setup: Setup) -> None:
    """GIVEN a websocket through the gateway
    WHEN the service closes it with 4001 "bye"
    THEN the client sees a close with 4001 "bye"."""
    async with setup.gateway.ws_connect("/api/stt/connect?conversation=c1") as ws:
        await ws.receive_json(timeout=5)
        await ws.send_str("close:4001:bye")
        message = await ws.receive(timeout=5)
        assert message.type is WSMsgType.CLOSE
        assert (message.data, message.extra) == (4001, "bye")


async def test_client_close_code_and_reason_reach_the_service(setup: Setup) -> None:
    """GIVEN a websocket through the gateway
    WHEN the client closes it with 4002 "done"
    THEN the service sees a close with 4002 "done"."""
    ws = await setup.gateway.ws_connect("/api/stt/transcribe?conversation=c1")
    await ws.receive_json(timeout=5)
    await ws.close(code=4002, message=b"done")
    assert await asyncio.wait_for(setup.ingest.closes.get(), 5) == (4002, "done")


async def test_refused_upgrade_reaches_the_client_with_its_json_body(setup: Setup) -> None:
    """GIVEN a service that refuses an invalid query with 400 and a JSON body before upgrading
    WHEN a client opens the websocket without the required parameter
    THEN the client gets that 400 and that JSON body, and no websocket."""
    response = await setup.gateway.get(
        "/api/stt/connect",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    assert response.status == 400
    assert response.content_type == "application/json"
    assert await response.json() == {
        "error": {"code": "missing_conversation", "message": "required"}
    }
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await setup.gateway.ws_connect("/api/stt/connect")
    assert refused.value.status == 400


async def test_vanished_service_closes_the_client_with_1011(setup: Setup) -> None:
    """GIVEN a websocket through the gateway
    WHEN the service's connection drops without a close frame
    THEN the client gets a close 1011 saying the service's connection was lost."""
    async with setup.gateway.ws_connect("/api/stt/connect?conversation=c1") as ws:
        await ws.receive_json(timeout=5)
        await ws.send_str("vanish")
        message = await ws.receive(timeout=5)
        assert message.type is WSMsgType.CLOSE
        assert message.data == WSCloseCode.INTERNAL_ERROR
        assert message.extra == "broadcaster connection lost"


async def test_message_above_the_limit_is_refused_with_1009(setup: Setup) -> None:
    """GIVEN a websocket through the gateway
    WHEN the client sends a 2 MiB message (above the gateway's 1 MiB bound)
    THEN the client gets a close 1009 and the service is told the client went away."""
    async with setup.gateway.ws_connect("/api/stt/transcribe?conversation=c1") as ws:
        await ws.receive_json(timeout=5)
        await ws.send_bytes(bytes(2 * 1024 * 1024))
        message = await ws.receive(timeout=5)
        assert message.type is WSMsgType.CLOSE
        assert message.data == WSCloseCode.MESSAGE_TOO_BIG
    code, _ = await asyncio.wait_for(setup.ingest.closes.get(), 5)
    assert code == WSCloseCode.GOING_AWAY


async def test_shutdown_closes_websockets_with_going_away(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """GIVEN a client connected to the broadcaster through a running gateway
    WHEN the gateway shuts down
    THEN the client gets a close 1001 (going away) and the broadcaster is closed too."""
    broadcaster = Peer("broadcaster")
    broadcaster_server = await aiohttp_server(peer_app(broadcaster), host="127.0.0.1")
    settings = GatewaySettings(
        broadcaster_url=str(broadcaster_server.make_url("/")), web_root=tmp_path
    )
    gateway = await aiohttp_server(create_app(settings), host="127.0.0.1")
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(gateway.make_url("/api/stt/connect?conversation=c1"))
        await ws.receive_json(timeout=5)
        await gateway.close()
        message = await ws.receive(timeout=5)
        assert message.type is WSMsgType.CLOSE
        assert message.data == WSCloseCode.GOING_AWAY
        code, _ = await asyncio.wait_for(broadcaster.closes.get(), 5)
        assert code == WSCloseCode.GOING_AWAY
