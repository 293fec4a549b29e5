"""``captionist stream``: send a WAV file to ``/api/stt/transcribe`` and print what comes back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from dataclasses import dataclass

import aiohttp

from captionist_cli.render import Terminal, format_final
from captionist_cli.server import display_url, json_messages, refusal_message, websocket_url
from captionist_cli.wav import CHUNK_SECONDS, PcmAudio, chunks

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_REFUSED = 2
EXIT_ABORTED = 130
END_MESSAGE = json.dumps({"type": "end"})


@dataclass(frozen=True)
class StreamOptions:
    """What to send, where, and how fast."""

    url: str
    conversation: str
    speaker: str | None
    language: str | None
    fast: bool


class _Interrupts:
    """Ctrl-C once: stop sending and let the server flush; twice: abort."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.stop = asyncio.Event()
        self.abort = asyncio.Event()

    def __call__(self) -> None:
        if self.stop.is_set():
            self.abort.set()
            return
        self.stop.set()
        self.terminal.notice("* stopping: waiting for the last finals (Ctrl-C again to abort)")


async def _send_audio(
    ws: aiohttp.ClientWebSocketResponse, audio: PcmAudio, fast: bool, stop: asyncio.Event
) -> None:
    """Send 100 ms chunks (at real-time pace unless ``fast``), then ``end``."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        for index, chunk in enumerate(chunks(audio)):
            if stop.is_set() or ws.closed:
                break
            await ws.send_bytes(chunk)
            if not fast:
                delay = started + (index + 1) * CHUNK_SECONDS - loop.time()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, delay))
        if not ws.closed:
            await ws.send_str(END_MESSAGE)
    except (ConnectionError, aiohttp.ClientError):
        return  # the server closed first; the receiver reports why


async def _receive(ws: aiohttp.ClientWebSocketResponse, terminal: Terminal) -> bool:
    """Print the server's messages until it closes; whether it reported an error."""
    failed = False
    async for data in json_messages(ws):
        kind = data.get("type")
        if kind == "ready":
            terminal.notice(
                f"* ready: conversation {data.get('conversation')}, "
                f"session {data.get('session')}, {data.get('sampleRate')} Hz"
            )
        elif kind == "partial":
            terminal.partial(str(data.get("text", "")))
        elif kind == "final" and isinstance(data.get("segment"), dict):
            terminal.line(format_final(data["segment"]))
        elif kind == "status":
            detail = f" ({data['detail']})" if data.get("detail") else ""
            terminal.notice(f"* status: {data.get('state')}{detail}")
        elif kind == "error":
            failed = True
            terminal.notice(f"error {data.get('code')}: {data.get('message')}")
    return failed


async def stream(audio: PcmAudio, options: StreamOptions, terminal: Terminal) -> int:
    """Stream ``audio`` and print partials, finals, status and errors; the exit code."""
    query = {"sampleRate": str(audio.sample_rate), "conversation": options.conversation}
    if options.speaker is not None:
        query["speaker"] = options.speaker
    if options.language is not None:
        query["language"] = options.language
    url = websocket_url(options.url, "/api/stt/transcribe", query)
    loop = asyncio.get_running_loop()
    interrupts = _Interrupts(terminal)
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGINT, interrupts)
    try:
        async with aiohttp.ClientSession() as http:
            try:
                ws = await http.ws_connect(url, heartbeat=30)
            except aiohttp.WSServerHandshakeError as error:
                if error.status == 400:
                    terminal.notice(f"refused: {await refusal_message(http, url)}")
                    return EXIT_REFUSED
                terminal.notice(f"error: {display_url(url)} answered HTTP {error.status}")
                return EXIT_FAILED
            except (aiohttp.ClientError, OSError) as error:
                terminal.notice(f"error: cannot connect to {display_url(url)}: {error}")
                return EXIT_FAILED
            async with ws:
                return await _run_session(ws, audio, options, terminal, interrupts)
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGINT)
        terminal.close()


async def _run_session(
    ws: aiohttp.ClientWebSocketResponse,
    audio: PcmAudio,
    options: StreamOptions,
    terminal: Terminal,
    interrupts: _Interrupts,
) -> int:
    sender = asyncio.create_task(_send_audio(ws, audio, options.fast, interrupts.stop))
    receiver = asyncio.create_task(_receive(ws, terminal))
    aborter = asyncio.create_task(interrupts.abort.wait())
    try:
        await asyncio.wait({receiver, aborter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, aborter):
            task.cancel()
        await asyncio.gather(sender, aborter, return_exceptions=True)
    if not receiver.done():
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        terminal.notice("* aborted before the server flushed")
        return EXIT_ABORTED
    if receiver.result():
        return EXIT_FAILED
    if ws.close_code != aiohttp.WSCloseCode.OK:
        terminal.notice(f"error: the connection closed with code {ws.close_code}")
        return EXIT_FAILED
    return EXIT_OK


def stream_from_terminal(audio: PcmAudio, options: StreamOptions) -> int:
    """Run ``stream`` against the process's stdout and stderr."""
    return asyncio.run(stream(audio, options, Terminal(sys.stdout, sys.stderr)))
