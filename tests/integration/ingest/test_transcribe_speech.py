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
from captionist_ingest.settings import IngestSettings
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


DEDICATED_KEY = ("captionist-ingest", "a-dedicated-secret-only-the-two-services-share")


@pytest.fixture
async def self_hosted_transcribe_local(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> str:
    """transcribe-local as deployed on ECS: it knows only ingest's dedicated key pair."""
    key_id, secret = DEDICATED_KEY
    settings = TranscribeLocalSettings(
        access_key_id=key_id, secret_access_key=secret, aws_region="us-east-1"
    )
    server = await aiohttp_server(create_app(settings), host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}"


async def test_a_dedicated_key_pair_signs_the_streams_and_the_default_chain_the_rest(
    start_ingest: StartIngest, self_hosted_transcribe_local: str, local_aws: LocalAws
) -> None:
    # GIVEN ingest whose default chain (the queue's credentials) is unknown to transcribe-local,
    # and a dedicated pair it does know
    key_id, secret = DEDICATED_KEY
    client = await start_ingest(
        transcribe_endpoint=self_hosted_transcribe_local,
        transcribe_access_key_id=key_id,
        transcribe_secret_access_key=secret,
        end_timeout=10,
    )
    pcm = await asyncio.to_thread(RECORDING.read_bytes)
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        # WHEN a speaker streams speech and ends
        assert (await next_json(ws))["type"] == "ready"
        for offset in range(0, len(pcm), 3200):
            await ws.send_bytes(pcm[offset : offset + 3200])
            await asyncio.sleep(0.02)
        await ws.send_str('{"type":"end"}')
        finals = []
        while (message := await ws.receive(timeout=15)).type.name == "TEXT":
            if message.json()["type"] == "final":
                finals.append(Segment.model_validate(message.json()["segment"]))
        assert ws.close_code == 1000
    # THEN the stream was accepted and transcribed, and the finals reached the queue
    assert "forward" in " ".join(s.text.lower() for s in finals)
    assert sorted(s.id for s in await queued_segments(local_aws)) == sorted(s.id for s in finals)


async def test_without_the_dedicated_pair_a_self_hosted_transcribe_local_refuses(
    start_ingest: StartIngest, self_hosted_transcribe_local: str
) -> None:
    # GIVEN ingest signing with its default chain, which transcribe-local does not know
    client = await start_ingest(transcribe_endpoint=self_hosted_transcribe_local)
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        # THEN the stream is refused, and the speaker is told
        error = await next_json(ws)
        assert (error["type"], error["code"]) == ("error", "upstream_rejected")


def test_half_a_dedicated_pair_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="or neither"):
        IngestSettings(transcribe_access_key_id="captionist-ingest")
