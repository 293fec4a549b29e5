"""Reading what a listener websocket receives."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp


async def receive_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5) -> Any:
    """The next message of ``ws`` as JSON; fails on close or after ``timeout`` seconds."""
    message = await ws.receive(timeout=timeout)
    assert message.type == aiohttp.WSMsgType.TEXT, f"expected text, got {message}"
    return json.loads(message.data)


async def collect_segments(
    ws: aiohttp.ClientWebSocketResponse, count: int, timeout: float = 10
) -> list[dict[str, Any]]:
    """Read messages until ``count`` segments arrived (snapshot included); fail on extras."""
    segments: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while len(segments) < count:
            message = await receive_json(ws, timeout)
            assert message["type"] in ("snapshot", "segments")
            segments.extend(message["segments"])
    return segments


async def next_or_none(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> Any:
    """The next message's data, or None if nothing arrives within ``timeout`` seconds."""
    try:
        message = await ws.receive(timeout=timeout)
    except TimeoutError:
        return None
    return message.data
