"""A Transcribe streaming client for the tests: presigned URL, AudioEvents out, events in."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
import numpy as np
import soxr
from botocore.credentials import Credentials
from yarl import URL

from captionist_core.eventstream import audio_event, decode
from captionist_core.transcribe_url import presign

CREDENTIALS: Final = Credentials("local", "local")


def stream_url(
    server_root: str,
    *,
    credentials: Credentials = CREDENTIALS,
    sample_rate: int = 16000,
    language: str = "en-US",
    encoding: str = "pcm",
    region: str = "us-east-1",
    expires: int = 300,
) -> URL:
    """A presigned ``ws://`` URL for ``server_root`` (``http://host:port``), already encoded."""
    params = {
        "language-code": language,
        "media-encoding": encoding,
        "sample-rate": str(sample_rate),
    }
    return URL(presign(server_root, region, credentials, params, expires=expires), encoded=True)


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """s16le mono audio at another rate (soxr, as a client would)."""
    samples = np.frombuffer(pcm, dtype="<i2")
    return bytes(soxr.resample(samples, from_rate, to_rate).astype("<i2").tobytes())


@dataclass
class Transcription:
    """Everything the server answered in one session."""

    results: list[dict[str, Any]] = field(default_factory=list)
    exception: tuple[str, str] | None = None
    close_code: int | None = None
    empty_events: int = 0  # TranscriptEvents without results

    @property
    def finals(self) -> list[dict[str, Any]]:
        """Final results, in order."""
        return [result for result in self.results if not result["IsPartial"]]

    @property
    def partials(self) -> list[dict[str, Any]]:
        """Partial results, in order."""
        return [result for result in self.results if result["IsPartial"]]

    @property
    def text(self) -> str:
        """Every final's transcript, joined."""
        return " ".join(result["Alternatives"][0]["Transcript"] for result in self.finals)


async def receive_all(ws: aiohttp.ClientWebSocketResponse) -> Transcription:
    """Read events until the server closes the socket."""
    transcription = Transcription()
    async for message in ws:
        assert message.type == aiohttp.WSMsgType.BINARY, message
        event = decode(message.data)
        body = json.loads(event.payload)
        if event.message_type == "exception":
            assert event.exception_type is not None
            transcription.exception = (event.exception_type, body["Message"])
        else:
            assert event.event_type == "TranscriptEvent"
            transcription.results.extend(body["Transcript"]["Results"])
            transcription.empty_events += not body["Transcript"]["Results"]
    transcription.close_code = ws.close_code
    return transcription


async def transcribe(
    http: aiohttp.ClientSession,
    url: URL,
    pcm: bytes,
    sample_rate: int = 16000,
    chunk_seconds: float = 0.1,
    real_time: bool = False,
) -> Transcription:
    """Send ``pcm`` in AudioEvents of ``chunk_seconds`` (at real-time pace, or at once) and the
    empty one; collect the answers."""
    chunk = int(sample_rate * chunk_seconds) * 2
    async with http.ws_connect(url) as ws:
        for offset in range(0, len(pcm), chunk):
            await ws.send_bytes(audio_event(pcm[offset : offset + chunk]))
            if real_time:
                await asyncio.sleep(chunk_seconds)
        await ws.send_bytes(audio_event(b""))
        return await receive_all(ws)
