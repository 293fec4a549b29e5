"""The broadcaster's HTTP side and its answers to bad input."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import srt
from aiohttp import WSCloseCode, WSMsgType

from tests.conftest import LocalAws
from tests.integration.conftest import StartBroadcaster
from tests.listeners import collect_segments, receive_json
from tests.segments import make_segment, now_ms, store_segments


async def test_healthcheck_and_metrics(
    start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN a broadcaster THEN the ALB health check passes and Prometheus metrics are served."""
    server = await start_broadcaster()
    async with http.get(server.make_url("/api/stt/healthcheck")) as response:
        assert response.status == 200
        assert await response.text() == "Yes, I'm ok"
    async with http.get(server.make_url("/metrics")) as response:
        body = await response.text()
    assert "captionist_broadcaster_listeners " in body
    assert "captionist_broadcaster_delivery_lag_seconds_bucket" in body


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "missing_conversation"),
        ("?conversation=", "missing_conversation"),
        ("?conversation=has%20space", "invalid_conversation"),
        ("?conversation=" + "x" * 65, "invalid_conversation"),
        ("?conversation=ok&since=yesterday", "invalid_since"),
        ("?conversation=ok&since=1764072000123", "invalid_since"),
    ],
)
async def test_invalid_listener_query_is_refused_before_upgrade(
    start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession, query: str, code: str
) -> None:
    """GIVEN a bad query WHEN a listener connects THEN HTTP 400 with a JSON error, no upgrade."""
    server = await start_broadcaster()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(server.make_url("/api/stt/connect" + query))
    assert refused.value.status == 400
    async with http.get(server.make_url("/api/stt/connect" + query)) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == code


@pytest.mark.parametrize("garbage", ["not json at all", '{"type":"subscribe"}', b"\x00\x01"])
async def test_listener_sending_anything_is_closed_and_others_carry_on(
    local_aws: LocalAws,
    start_broadcaster: StartBroadcaster,
    http: aiohttp.ClientSession,
    garbage: str | bytes,
) -> None:
    """GIVEN two listeners WHEN one sends a frame THEN it gets an error and close 1003, and the
    other keeps receiving."""
    server = await start_broadcaster()
    url = server.make_url("/api/stt/connect?conversation=calm")
    async with http.ws_connect(url) as rude, http.ws_connect(url) as polite:
        await receive_json(rude)
        await receive_json(polite)
        if isinstance(garbage, bytes):
            await rude.send_bytes(garbage)
        else:
            await rude.send_str(garbage)
        error = await receive_json(rude)
        assert error["type"] == "error"
        assert error["code"] == "unsupported_message"
        assert (await rude.receive(timeout=5)).type == WSMsgType.CLOSE
        assert rude.close_code == WSCloseCode.UNSUPPORTED_DATA
        segment = make_segment("calm")
        store_segments(local_aws.settings, segment)
        assert [s["id"] for s in await collect_segments(polite, 1)] == [segment.id]


async def test_shutdown_closes_listeners_with_going_away(
    start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN a connected listener WHEN the broadcaster shuts down THEN it is closed with 1001."""
    server = await start_broadcaster()
    ws = await http.ws_connect(server.make_url("/api/stt/connect?conversation=bye"))
    await receive_json(ws)
    closing = asyncio.create_task(ws.receive(timeout=5))
    await server.close()
    message = await closing
    assert message.type == WSMsgType.CLOSE
    assert ws.close_code == WSCloseCode.GOING_AWAY


async def test_transcript_export_in_every_format(
    local_aws: LocalAws, start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN a stored conversation WHEN exported THEN each format holds every segment in order."""
    server = await start_broadcaster()
    base = now_ms() - 600_000  # older than any snapshot: export is the whole conversation
    segments = [
        make_segment("talk", f"line {i}", speaker=f"S{i % 2}", timestamp=base + i * 1000)
        for i in range(5)
    ]
    store_segments(local_aws.settings, *reversed(segments))
    url = "/api/stt/conversations/talk/transcript"
    async with http.get(server.make_url(url), params={"format": "json"}) as response:
        assert response.status == 200
        body = await response.json()
    assert body == {
        "conversation": "talk",
        "segments": [s.model_dump(mode="json") for s in segments],
    }
    async with http.get(server.make_url(url)) as response:
        assert await response.json() == body  # json is the default
    async with http.get(server.make_url(url), params={"format": "srt"}) as response:
        assert response.headers["Content-Disposition"] == 'attachment; filename="talk.srt"'
        cues = list(srt.parse(await response.text()))
    assert [cue.content for cue in cues] == [f"S{i % 2}: line {i}" for i in range(5)]
    async with http.get(server.make_url(url), params={"format": "vtt"}) as response:
        assert response.content_type == "text/vtt"
        assert (await response.text()).startswith("WEBVTT")
    async with http.get(server.make_url(url), params={"format": "txt"}) as response:
        assert (await response.text()).splitlines()[-1] == "[00:00:04] S0: line 4"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/stt/conversations/nobody/transcript", 404, "conversation_not_found"),
        ("/api/stt/conversations/bad%20id/transcript", 400, "invalid_conversation"),
        ("/api/stt/conversations/talk/transcript?format=docx", 400, "unsupported_format"),
    ],
)
async def test_export_errors_are_json(
    local_aws: LocalAws,
    start_broadcaster: StartBroadcaster,
    http: aiohttp.ClientSession,
    path: str,
    status: int,
    code: str,
) -> None:
    """GIVEN an unknown conversation, a bad id or format THEN a JSON error with its status."""
    store_segments(local_aws.settings, make_segment("talk"))
    server = await start_broadcaster()
    async with http.get(server.make_url(path)) as response:
        assert response.status == status
        assert (await response.json())["error"]["code"] == code


async def test_unreadable_table_gives_listeners_a_retry_later_close(
    start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN a broadcaster whose table cannot be read WHEN a listener connects THEN it gets
    error store_unavailable and close 1013, and the broadcaster still answers its health check."""
    server = await start_broadcaster(table_name="captionist-missing-table", first_read_timeout=0.5)
    async with http.ws_connect(server.make_url("/api/stt/connect?conversation=any")) as ws:
        error = await receive_json(ws)
        assert error["type"] == "error"
        assert error["code"] == "store_unavailable"
        assert (await ws.receive(timeout=5)).type == WSMsgType.CLOSE
        assert ws.close_code == WSCloseCode.TRY_AGAIN_LATER
    async with http.get(server.make_url("/api/stt/healthcheck")) as response:
        assert response.status == 200
