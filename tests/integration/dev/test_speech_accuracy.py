"""Real speech, at real-time pace, through the whole stack, checked word by word.

gateway -> ingest -> transcribe-local (the default engine) -> SQS -> processor -> DynamoDB ->
broadcaster -> a listener. Two speakers talk at once, in two conversations: one reads the five
LibriVox clips of ``pocketsphinx-testdata`` (real human voices), the other three espeak-ng
sentences. The listener's text is compared with the references.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any, Final

import aiohttp
import pytest

from captionist_dev.speech import (
    ESPEAK_SENTENCES,
    MAX_WER,
    Clip,
    espeak_clip,
    librivox_clips,
    silence,
    word_error_rate,
)
from captionist_transcribe_local.settings import TranscribeLocalSettings
from tests.integration.dev.stack_process import StackProcess

CHUNK_SECONDS: Final = 0.1
CHUNK: Final = int(CHUNK_SECONDS * 32_000)


@pytest.fixture(autouse=True)
def dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


async def speak(
    http: aiohttp.ClientSession, base: str, conversation: str, clips: list[Clip]
) -> list[dict[str, Any]]:
    """Stream the clips (0.6 s apart) at real-time pace, end, and return every message."""
    pcm = b"".join(clip.pcm + silence(0.6) for clip in clips)
    url = f"{base}/transcribe?sampleRate=16000&speaker=Reader&conversation={conversation}"
    async with http.ws_connect(url) as speaker:
        assert (await speaker.receive_json(timeout=10))["type"] == "ready"

        async def read() -> list[dict[str, Any]]:
            said: list[dict[str, Any]] = []
            while (message := await speaker.receive(timeout=60)).type == aiohttp.WSMsgType.TEXT:
                said.append(json.loads(message.data))
            return said

        reader = asyncio.create_task(read())
        started = time.monotonic()
        for index, offset in enumerate(range(0, len(pcm), CHUNK)):
            await speaker.send_bytes(pcm[offset : offset + CHUNK])
            await asyncio.sleep(max(0.0, started + (index + 1) * CHUNK_SECONDS - time.monotonic()))
        await speaker.send_str('{"type":"end"}')
        said = await reader
        assert speaker.close_code == 1000, [m for m in said if m["type"] != "partial"]
    return said


async def follow(listener: aiohttp.ClientWebSocketResponse, ids: set[str]) -> list[dict[str, Any]]:
    """Segments the listener receives until it has every one of ``ids``, then for one more second
    (a duplicate would show up there)."""
    heard: list[dict[str, Any]] = []
    deadline: float | None = None
    while deadline is None or time.monotonic() < deadline:
        timeout = 20 if deadline is None else max(0.01, deadline - time.monotonic())
        try:
            message = await listener.receive_json(timeout=timeout)
        except TimeoutError:
            if deadline is None:
                raise
            break
        heard.extend(message["segments"])
        if deadline is None and ids <= {segment["id"] for segment in heard}:
            deadline = time.monotonic() + 1.0
    return heard


async def test_listeners_read_what_was_said(stack: StackProcess) -> None:
    """GIVEN two speakers in two conversations, each followed by a listener
    WHEN one reads the LibriVox clips and the other the espeak-ng sentences, at the same time,
    at real-time pace
    THEN each speaker sees partials and finals; each listener receives exactly the finals of its
    speaker, each once; and the word error rate of the listeners' text against the references
    is within what the default engine achieves.
    """
    engine = TranscribeLocalSettings.model_fields["engine"].default
    limits = MAX_WER[engine]
    sources = {
        "librivox": librivox_clips(),
        "espeak": await asyncio.gather(
            *(asyncio.to_thread(espeak_clip, text) for text in ESPEAK_SENTENCES)
        ),
    }
    base = f"ws://127.0.0.1:{stack.gateway_port}/api/stt"
    conversations = {source: f"wer-{source}-{uuid.uuid4().hex[:8]}" for source in sources}
    async with aiohttp.ClientSession() as http:
        listeners = {
            source: await http.ws_connect(f"{base}/connect?conversation={conversation}")
            for source, conversation in conversations.items()
        }
        for listener in listeners.values():
            assert (await listener.receive_json(timeout=10))["type"] == "snapshot"
        said = dict(
            zip(
                sources,
                await asyncio.gather(
                    *(
                        speak(http, base, conversations[source], clips)
                        for source, clips in sources.items()
                    )
                ),
                strict=True,
            )
        )
        for source, messages in said.items():
            finals = [message["segment"] for message in messages if message["type"] == "final"]
            assert not [message for message in messages if message["type"] == "error"], messages
            assert any(message["type"] == "partial" for message in messages), source
            heard = await follow(listeners[source], {final["id"] for final in finals})
            await listeners[source].close()

            assert [segment["id"] for segment in heard] == [final["id"] for final in finals]
            assert heard == finals
            wer = word_error_rate(
                [clip.text for clip in sources[source]], [segment["text"] for segment in heard]
            )
            assert wer <= limits[source], (source, wer, [segment["text"] for segment in heard])
