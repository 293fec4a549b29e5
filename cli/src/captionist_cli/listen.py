"""``captionist listen``: follow a conversation on ``/api/stt/connect``, resuming after drops."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import Any

import aiohttp

from captionist_cli.render import Terminal, format_segment
from captionist_cli.server import display_url, json_messages, refusal_message, websocket_url

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_REFUSED = 2
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 15.0
HEALTHY_SECONDS = 10.0  # a connection that lasted this long resets the backoff


@dataclass(frozen=True)
class ListenOptions:
    """Which conversation, from where, and whether to stop after the snapshot."""

    url: str
    conversation: str
    since: str | None
    once: bool


class _Transcript:
    """Prints each segment once, in cursor order, and remembers the last cursor seen."""

    def __init__(self, terminal: Terminal, since: str | None) -> None:
        self.terminal = terminal
        self.cursor = since

    def show(self, segments: Any) -> None:
        if not isinstance(segments, list):
            return
        for segment in segments:
            if not isinstance(segment, dict) or not isinstance(segment.get("cursor"), str):
                continue
            # Cursors are ordered: anything at or before the last one was printed already.
            if self.cursor is not None and segment["cursor"] <= self.cursor:
                continue
            self.terminal.line(format_segment(segment))
            self.cursor = segment["cursor"]


async def _follow(ws: aiohttp.ClientWebSocketResponse, transcript: _Transcript, once: bool) -> bool:
    """Print the snapshot and then new segments; whether a snapshot arrived."""
    snapshot = False
    async for data in json_messages(ws):
        if data.get("type") in ("snapshot", "segments"):
            transcript.show(data.get("segments"))
            snapshot = snapshot or data.get("type") == "snapshot"
            if once and snapshot:
                return True
    return snapshot


async def listen(options: ListenOptions, terminal: Terminal) -> int:
    """Follow the conversation until interrupted (or, with ``once``, print the snapshot)."""
    transcript = _Transcript(terminal, options.since)
    backoff = FIRST_BACKOFF
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as http:
        while True:
            query = {"conversation": options.conversation}
            if transcript.cursor is not None:
                query["since"] = transcript.cursor
            url = websocket_url(options.url, "/api/stt/connect", query)
            problem: str
            try:
                async with http.ws_connect(url, heartbeat=30) as ws:
                    connected = loop.time()
                    if await _follow(ws, transcript, options.once) and options.once:
                        return EXIT_OK
                    if loop.time() - connected >= HEALTHY_SECONDS:
                        backoff = FIRST_BACKOFF
                    problem = f"the connection closed (code {ws.close_code})"
            except aiohttp.WSServerHandshakeError as error:
                if error.status == 400:
                    terminal.notice(f"refused: {await refusal_message(http, url)}")
                    return EXIT_REFUSED
                problem = f"{display_url(url)} answered HTTP {error.status}"
            except (aiohttp.ClientError, OSError) as error:
                problem = f"cannot connect to {display_url(url)}: {error}"
            if options.once:
                terminal.notice(f"error: {problem}")
                return EXIT_FAILED
            terminal.notice(f"* {problem}; reconnecting in {backoff:.1f} s")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)


def listen_from_terminal(options: ListenOptions) -> int:
    """Run ``listen`` against stdout and stderr; Ctrl-C ends it with exit code 0."""
    try:
        return asyncio.run(listen(options, Terminal(sys.stdout, sys.stderr)))
    except KeyboardInterrupt:
        return EXIT_OK
