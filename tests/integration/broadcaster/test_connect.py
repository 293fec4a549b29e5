"""/api/stt/connect against a real broadcaster and the emulator's table."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import socket
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from captionist_broadcaster import metrics
from captionist_core.segment import Segment, make_cursor
from tests.conftest import LocalAws
from tests.integration.conftest import StartBroadcaster
from tests.listeners import collect_segments, next_or_none, receive_json
from tests.segments import make_segment, now_ms, store_segments


def _ids(segments: list[dict[str, Any]]) -> list[str]:
    return [segment["id"] for segment in segments]


def _cursors(segments: list[dict[str, Any]]) -> list[str]:
    return [segment["cursor"] for segment in segments]


async def test_snapshot_then_new_segments_in_order(
    local_aws: LocalAws, start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN stored segments WHEN a listener connects and more land THEN it gets all, in order."""
    server = await start_broadcaster()
    t = now_ms()
    old = [make_segment("conv1", timestamp=t - 1000 + i) for i in range(3)]
    store_segments(local_aws.settings, *old)
    async with http.ws_connect(server.make_url("/api/stt/connect?conversation=conv1")) as ws:
        snapshot = await receive_json(ws)
        assert snapshot == {
            "type": "snapshot",
            "conversation": "conv1",
            "segments": [s.model_dump(mode="json") for s in old],
        }
        new = [make_segment("conv1", timestamp=now_ms() + i) for i in range(4)]
        store_segments(local_aws.settings, *new)
        received = await collect_segments(ws, 4)
        assert received == [s.model_dump(mode="json") for s in new]
        extra = await next_or_none(ws, 0.3)
        assert extra is None, f"unexpected extra message {extra}"


async def test_snapshot_without_since_holds_only_recent_history(
    local_aws: LocalAws, start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN an old and a recent segment WHEN connecting without since THEN only the recent one."""
    server = await start_broadcaster(snapshot_seconds=60)
    stale = make_segment("conv2", timestamp=now_ms() - 61_000)
    recent = make_segment("conv2", timestamp=now_ms() - 59_000)
    store_segments(local_aws.settings, stale, recent)
    async with http.ws_connect(server.make_url("/api/stt/connect?conversation=conv2")) as ws:
        snapshot = await receive_json(ws)
    assert _ids(snapshot["segments"]) == [recent.id]


async def test_resume_with_since_gets_exactly_what_was_missed(
    local_aws: LocalAws, start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN a listener that saw some segments WHEN it reconnects with since THEN only the rest."""
    server = await start_broadcaster()
    url = "/api/stt/connect?conversation=conv3"
    first = [make_segment("conv3", timestamp=now_ms() + i) for i in range(3)]
    store_segments(local_aws.settings, *first)
    async with http.ws_connect(server.make_url(url)) as ws:
        seen = (await receive_json(ws))["segments"]
    assert _ids(seen) == [s.id for s in first]
    missed = [make_segment("conv3", timestamp=now_ms() + 10 + i) for i in range(3)]
    store_segments(local_aws.settings, *missed)
    since = seen[-1]["cursor"]
    async with http.ws_connect(server.make_url(url), params={"since": since}) as ws:
        snapshot = await receive_json(ws)
        assert _ids(snapshot["segments"]) == [s.id for s in missed]
        later = make_segment("conv3", timestamp=now_ms() + 20)
        store_segments(local_aws.settings, later)
        assert _ids(await collect_segments(ws, 1)) == [later.id]


async def test_listeners_joining_during_a_stream_see_each_segment_exactly_once(
    local_aws: LocalAws, start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN segments landing continuously WHEN listeners join at random moments THEN each
    listener receives every segment exactly once and in cursor order."""
    server = await start_broadcaster(poll_interval=0.02)
    url = server.make_url("/api/stt/connect?conversation=busy")
    total = 60
    written: list[Segment] = []

    async def writer() -> None:
        for _ in range(total):
            segment = make_segment("busy", timestamp=now_ms())
            await asyncio.to_thread(store_segments, local_aws.settings, segment)
            written.append(segment)
            await asyncio.sleep(random.uniform(0, 0.01))

    async def listener(delay: float) -> list[dict[str, Any]]:
        await asyncio.sleep(delay)
        async with http.ws_connect(url) as ws:
            return await collect_segments(ws, total, timeout=20)

    first = asyncio.create_task(listener(0))
    await asyncio.sleep(0.2)  # the first listener is in before anything lands
    joiners = [asyncio.create_task(listener(random.uniform(0, 0.6))) for _ in range(12)]
    await writer()
    results = await asyncio.gather(first, *joiners)
    expected = [s.id for s in sorted(written, key=lambda s: s.cursor)]
    for received in results:
        assert _ids(received) == expected
        assert _cursors(received) == sorted(_cursors(received))


async def test_segment_stored_late_is_still_delivered_once(
    local_aws: LocalAws, start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN a delivered segment WHEN an older one is stored after it THEN it still arrives."""
    server = await start_broadcaster()
    async with http.ws_connect(server.make_url("/api/stt/connect?conversation=late")) as ws:
        assert (await receive_json(ws))["segments"] == []
        newer = make_segment("late", timestamp=now_ms())
        store_segments(local_aws.settings, newer)
        assert _ids(await collect_segments(ws, 1)) == [newer.id]
        older = make_segment("late", timestamp=newer.timestamp - 2000)
        store_segments(local_aws.settings, older)
        assert _ids(await collect_segments(ws, 1)) == [older.id]
        assert await next_or_none(ws, 0.3) is None


async def test_conversations_are_kept_apart(
    local_aws: LocalAws, start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN listeners of two conversations WHEN segments land in both THEN each gets its own."""
    server = await start_broadcaster()
    async with (
        http.ws_connect(server.make_url("/api/stt/connect?conversation=red")) as red,
        http.ws_connect(server.make_url("/api/stt/connect?conversation=blue")) as blue,
    ):
        await receive_json(red)
        await receive_json(blue)
        r, b = make_segment("red"), make_segment("blue")
        store_segments(local_aws.settings, r, b)
        assert _ids(await collect_segments(red, 1)) == [r.id]
        assert _ids(await collect_segments(blue, 1)) == [b.id]


async def test_one_read_loop_per_conversation_stopped_by_the_last_listener(
    local_aws: LocalAws, start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN 20 listeners on one conversation and 1 on another THEN two loops run; when all
    leave, none do."""
    from captionist_broadcaster.keys import HUB

    server = await start_broadcaster()
    hub = server.app[HUB]
    sockets = [
        await http.ws_connect(server.make_url("/api/stt/connect?conversation=shared"))
        for _ in range(20)
    ]
    sockets.append(await http.ws_connect(server.make_url("/api/stt/connect?conversation=solo")))
    for ws in sockets:
        await receive_json(ws)
    assert len(hub) == 2
    for ws in sockets:
        await ws.close()
    async with asyncio.timeout(5):
        while len(hub):
            await asyncio.sleep(0.01)


async def _stalled_listener(server: TestServer, path: str) -> socket.socket:
    """A websocket handshake over a socket with a tiny receive buffer that is then never read."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    response = await loop.sock_recv(sock, 1024)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


async def test_slow_listener_is_dropped_without_delaying_others(
    local_aws: LocalAws, start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN a listener that stops reading WHEN much is delivered THEN the server drops it (its
    buffer is bounded) while a reading listener gets everything, promptly."""
    server = await start_broadcaster(send_buffer_bytes=64 << 10)
    slow_before = metrics.SLOW_LISTENERS._value.get()
    path = "/api/stt/connect?conversation=flood"
    stalled = await _stalled_listener(server, path)
    fast = await http.ws_connect(server.make_url(path))
    await receive_json(fast)
    # Enough to fill both kernels' socket buffers (several MB on loopback) and then the server's.
    total = 700
    base = now_ms()
    segments = [make_segment("flood", "x" * 9900, timestamp=base + i) for i in range(total)]
    collector = asyncio.create_task(collect_segments(fast, total, timeout=30))
    for start in range(0, total, 25):
        await asyncio.to_thread(store_segments, local_aws.settings, *segments[start : start + 25])
        await asyncio.sleep(0.06)
    assert _ids(await collector) == [s.id for s in segments]
    async with asyncio.timeout(10):
        while metrics.SLOW_LISTENERS._value.get() == slow_before:
            await asyncio.sleep(0.05)
    stalled.close()


async def test_snapshots_come_from_the_feed_unless_they_reach_further_back(
    local_aws: LocalAws, start_broadcaster: StartBroadcaster, http: aiohttp.ClientSession
) -> None:
    """GIVEN a conversation with an old and three recent segments WHEN ten listeners join THEN
    their snapshots come from the feed's memory, not one query each; a listener resuming from
    before the feed's history gets its snapshot from the table, old segment included."""
    server = await start_broadcaster(snapshot_seconds=60)
    old = make_segment("storm", timestamp=now_ms() - 300_000)
    recent = [make_segment("storm", timestamp=now_ms() - 1000 + i) for i in range(3)]
    store_segments(local_aws.settings, old, *recent)
    url = server.make_url("/api/stt/connect?conversation=storm")

    def snapshots(source: str) -> float:
        value: float = metrics.SNAPSHOTS.labels(source)._value.get()
        return value

    from_memory, from_table = snapshots("memory"), snapshots("table")
    sockets = [await http.ws_connect(url) for _ in range(10)]
    for ws in sockets:
        assert _ids((await receive_json(ws))["segments"]) == [s.id for s in recent]
    assert snapshots("memory") - from_memory == 10
    assert snapshots("table") == from_table
    resumed = await http.ws_connect(url.update_query(since=make_cursor(old.timestamp - 1, "x")))
    assert _ids((await receive_json(resumed))["segments"]) == [old.id] + [s.id for s in recent]
    assert snapshots("table") - from_table == 1
    for ws in [*sockets, resumed]:
        await ws.close()
