"""A scripted peer speaking Amazon Transcribe's streaming protocol, for deterministic tests.

It is a real websocket server: it verifies the presigned URL as AWS does, decodes every frame with
the event-stream codec, and answers with the TranscriptEvents or exceptions a test scripts. Like
Transcribe, it ends a stream that gets no audio for ``idle_timeout`` seconds with a
BadRequestException, and answers the empty AudioEvent with its last events and a close.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from captionist_core.eventstream import decode, event_message, exception_message
from captionist_core.transcribe_url import SignatureError, verify

CREDENTIALS = {"testing": "testing"}
REGION = "us-east-1"


def transcript(
    result_id: str, text: str, *, partial: bool, start: float = 0.1, end: float = 0.9
) -> bytes:
    """A TranscriptEvent frame carrying one result."""
    result = {
        "ResultId": result_id,
        "IsPartial": partial,
        "StartTime": start,
        "EndTime": end,
        "Alternatives": [{"Transcript": text, "Items": []}],
    }
    payload = json.dumps({"Transcript": {"Results": [result]}}).encode()
    return event_message("TranscriptEvent", payload)


def failure(exception_type: str, message: str = "scripted failure") -> bytes:
    """An exception frame, as Transcribe sends right before closing a stream."""
    return exception_message(exception_type, message)


@dataclass
class Script:
    """What the peer answers: frames after the n-th audio event (1-based) and at the end."""

    refuse_status: int | None = None
    replies: dict[int, list[bytes]] = field(default_factory=dict)
    on_end: list[bytes] = field(default_factory=list)
    close_after_reply: bool = False
    drop_after: int | None = None  # close the stream (after any reply) on this audio event
    vanish_on_end: bool = False  # at the end marker, cut the connection: no events, no close frame
    idle_timeout: float = 15.0


@dataclass
class Stream:
    """What one stream received."""

    params: dict[str, str]
    audio: list[bytes] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    timed_out: bool = False


class TranscribePeer:
    """The peer's state: the script to follow and every stream it served."""

    def __init__(self) -> None:
        self.script = Script()
        self.next_scripts: list[Script] = []  # each reconnection takes the next, if any
        self.streams: list[Stream] = []
        self.endpoint = ""  # set once it listens: http://127.0.0.1:<port>

    def app(self) -> web.Application:
        """The peer as an aiohttp application."""
        app = web.Application()
        app.router.add_get("/stream-transcription-websocket", self._stream)
        return app

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        try:
            verify("GET", request.host, request.path, request.query, CREDENTIALS.get, REGION)
        except SignatureError as error:
            return web.json_response({"message": error.message}, status=error.status)
        if self.streams and self.next_scripts:
            self.script = self.next_scripts.pop(0)
        script = self.script
        if script.refuse_status is not None:
            return web.json_response({"message": "refused"}, status=script.refuse_status)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        stream = Stream(params=dict(request.query))
        self.streams.append(stream)
        while True:
            try:
                message = await ws.receive(timeout=script.idle_timeout)
            except TimeoutError:
                stream.timed_out = True
                await ws.send_bytes(failure("BadRequestException", "no audio for a while"))
                break
            if message.type is not WSMsgType.BINARY:
                break
            event = decode(message.data)
            assert event.event_type == "AudioEvent", event.headers
            if not event.payload:
                if script.vanish_on_end and request.transport is not None:
                    stream.ended.set()
                    request.transport.abort()
                    return ws
                for frame in script.on_end:
                    await ws.send_bytes(frame)
                stream.ended.set()
                break
            stream.audio.append(event.payload)
            for frame in script.replies.get(len(stream.audio), []):
                await ws.send_bytes(frame)
            if script.close_after_reply and len(stream.audio) in script.replies:
                break
            if script.drop_after == len(stream.audio):
                break
        await ws.close()
        return ws
