"""Real speech through ingest and the local Transcribe-compatible server (pocketsphinx).

The recording comes with Debian's pocketsphinx-testdata, which `make test` installs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from captionist_core.segment import Segment
from captionist_transcribe_local.app import create_app
from captionist_transcribe_local.settings import TranscribeLocalSettings
from tests.conftest import LocalAws
from tests.integration.ingest.conftest import StartIngest
from tests.integration.ingest.test_transcribe import PATH, next_json, queued_segments

RECORDING = Path("/usr/share/pocketsphinx/test/data/goforward.raw")  # "go forward ten meters"


@pytest.fixture
async def transcribe_local(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> str:
    """transcribe-local on 127.0.0.1, accepting the tests' credentials; its endpoint."""
    settings = TranscribeLocalSettings(
        access_key_id="testing", secret_access_key="testing", aws_region="us-east-1"
    )
    server = await aiohttp_server(create_app(settings), host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}"


async def test_spoken_words_come_back_as_a_queued_final(
    start_ingest: StartIngest, transcribe_local: str, local_aws: LocalAws
) -> None:
    # GIVEN ingest in front of the local Transcribe
    client = await start_ingest(transcribe_endpoint=transcribe_local, end_timeout=10)
    pcm = await asyncio.to_thread(RECORDING.read_bytes)
    async with client.ws_connect(PATH, params={"sampleRate": "16000", "speaker": "Bob"}) as ws:
        assert (await next_json(ws))["type"] == "ready"
        # WHEN a speaker says "go forward ten meters" in 100 ms chunks, twice real time, and ends
        for offset in range(0, len(pcm), 3200):
            await ws.send_bytes(pcm[offset : offset + 3200])
            await asyncio.sleep(0.05)
        await ws.send_str('{"type":"end"}')
        messages: list[dict[str, Any]] = []
        while (message := await ws.receive(timeout=15)).type.name == "TEXT":
            messages.append(message.json())
        assert ws.close_code == 1000, messages
    # THEN partials came first, and the finals (on the queue too) hold the words
    kinds = [m["type"] for m in messages]
    assert "partial" in kinds, kinds
    assert "final" in kinds, kinds
    finals = [Segment.model_validate(m["segment"]) for m in messages if m["type"] == "final"]
    assert "forward" in " ".join(s.text.lower() for s in finals)
    assert all(0 <= s.start <= s.end <= len(pcm) / 32000 + 0.5 for s in finals)
    assert sorted(s.id for s in await queued_segments(local_aws)) == sorted(s.id for s in finals)
