"""Reaching the Captionist server: websocket URLs and the refusals it sends before upgrading."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


class UsageError(Exception):
    """A command-line value the server cannot be reached with; the message is for the user."""


def websocket_url(base: str, path: str, query: Mapping[str, str]) -> str:
    """``base`` (http, https, ws or wss) turned into the websocket URL of ``path``."""
    parts = urlsplit(base)
    scheme = SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise UsageError(f"--url must look like http://host:port or https://host, not {base!r}")
    full_path = parts.path.rstrip("/") + path
    return urlunsplit((scheme, parts.netloc, full_path, urlencode(query), ""))


def display_url(url: str) -> str:
    """The URL without user info or query, safe to print."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def refusal_message(http: aiohttp.ClientSession, url: str) -> str:
    """The server's JSON error for a refused upgrade (``code: message``), asked for once more.

    aiohttp's handshake error keeps no body, so the handshake is repeated as a plain GET.
    """
    handshake = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
    }
    try:
        async with http.get(url, headers=handshake) as answer:
            body = await answer.json(content_type=None)
    except (aiohttp.ClientError, ValueError):
        return "the server refused the request"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return f"{error.get('code', 'refused')}: {error['message']}"
    return "the server refused the request"


async def json_messages(ws: aiohttp.ClientWebSocketResponse) -> AsyncIterator[dict[str, Any]]:
    """The server's JSON object messages, until it closes; anything else is skipped."""
    async for message in ws:
        if message.type != aiohttp.WSMsgType.TEXT:
            continue
        try:
            data: Any = json.loads(message.data)
        except ValueError:
            continue
        if isinstance(data, dict):
            yield data
