"""Bad input and faults on the speech path, through the whole stack and on real audio.

Every test speaks to the gateway of the session's stack (``captionist-dev run``): ingest,
transcribe-local on its default engine, moto's SQS and DynamoDB, the processor poller and the
broadcaster. The audio is real: recorded human speech from Debian's pocketsphinx-testdata, and
noise made by sox. Assertions hold for any engine that transcribes correctly: they look for a
word the speaker said, never for an engine's exact text.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Final

import aiohttp
import pytest

from captionist_dev.speech import (
    SAMPLE_RATE,
    goforward_clip,
    librivox_clips,
    normalize,
    silence,
    sox_noise,
)
from tests.integration.dev.stack_process import StackProcess
from tests.listeners import collect_segments, next_or_none, receive_json
from tests.segments import stored

CHUNK: Final = 3200  # 100 ms of 16 kHz s16le, as the contract recommends
BYTES_PER_SECOND: Final = 2 * SAMPLE_RATE
END_WAIT: Final = 30.0


@pytest.fixture(autouse=True)
def dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' own AWS calls go to the emulator, which takes any credentials."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def new_conversation() -> str:
    """A conversation id no other test uses."""
    return f"c{uuid.uuid4().hex[:12]}"


def speaker_url(stack: StackProcess, conversation: str, speaker: str) -> str:
    """The gateway's ``/api/stt/transcribe`` for a 16 kHz speaker of ``conversation``."""
    return (
        f"ws://127.0.0.1:{stack.gateway_port}/api/stt/transcribe"
        f"?sampleRate={SAMPLE_RATE}&speaker={speaker}&conversation={conversation}"
    )


def listener_url(stack: StackProcess, conversation: str) -> str:
    """The gateway's ``/api/stt/connect`` for ``conversation``."""
    return f"ws://127.0.0.1:{stack.gateway_port}/api/stt/connect?conversation={conversation}"


async def stream(ws: aiohttp.ClientWebSocketResponse, pcm: bytes) -> None:
    """Send ``pcm`` in 100 ms frames at real-time pace, as a microphone would."""
    started = time.monotonic()
    for offset in range(0, len(pcm), CHUNK):
        early = offset / BYTES_PER_SECOND - (time.monotonic() - started)
        if early > 0:
            await asyncio.sleep(early)
        await ws.send_bytes(pcm[offset : offset + CHUNK])


async def ready(ws: aiohttp.ClientWebSocketResponse, conversation: str) -> None:
    """Read the speaker's ``ready``."""
    message = await receive_json(ws, timeout=15)
    assert message["type"] == "ready", message
    assert message["conversation"] == conversation


async def until_closed(
    ws: aiohttp.ClientWebSocketResponse, timeout: float = END_WAIT
) -> list[dict[str, Any]]:
    """Every message the server sends until it closes the websocket."""
    said: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while (message := await ws.receive()).type == aiohttp.WSMsgType.TEXT:
            said.append(json.loads(message.data))
    return said


def finals(said: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The segments of the ``final`` messages in ``said``."""
    return [message["segment"] for message in said if message["type"] == "final"]


async def say_and_end(
    http: aiohttp.ClientSession, stack: StackProcess, conversation: str, pcm: bytes
) -> tuple[list[dict[str, Any]], int | None]:
    """One speaker says ``pcm`` at real-time pace and ends; what it heard, and the close code."""
    async with http.ws_connect(speaker_url(stack, conversation, "Bea")) as speaker:
        await ready(speaker, conversation)
        await stream(speaker, pcm)
        await speaker.send_str('{"type":"end"}')
        said = await until_closed(speaker)
        return said, speaker.close_code


async def test_silence_and_background_noise_produce_no_segment(stack: StackProcess) -> None:
    """GIVEN a listener of a conversation, and a speaker of it
    WHEN the speaker sends 3 s each of white, pink and brown noise (sox) and digital silence at
    real-time pace, then ends
    THEN the speaker gets no final and no error, and the close is 1000; and once a real utterance
    spoken afterwards in another conversation has gone all the way to its listener, the noisy
    conversation has no segment: not at its listener, not in the table, no transcript."""
    conversation, barrier = new_conversation(), new_conversation()
    noise = b"".join(
        await asyncio.gather(
            *(
                asyncio.to_thread(sox_noise, kind, 3)
                for kind in ("whitenoise", "pinknoise", "brownnoise")
            )
        )
    )
    pcm = noise + silence(3)
    speech = goforward_clip().pcm + silence(0.5)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(listener_url(stack, conversation)) as listener,
        http.ws_connect(listener_url(stack, barrier)) as barrier_listener,
    ):
        assert (await receive_json(listener, timeout=10))["segments"] == []
        assert (await receive_json(barrier_listener, timeout=10))["segments"] == []
        async with http.ws_connect(speaker_url(stack, conversation, "Noisy")) as speaker:
            await ready(speaker, conversation)
            await stream(speaker, pcm)
            await speaker.send_str('{"type":"end"}')
            said = await until_closed(speaker)
            assert speaker.close_code == 1000, said
        kinds = {message["type"] for message in said}
        assert "error" not in kinds, said
        assert finals(said) == [], "white 0-3 s, pink 3-6 s, brown 6-9 s, silence 9-12 s"

        # The barrier: speech queued after the noise session ended, seen by its listener.
        barrier_said, close_code = await say_and_end(http, stack, barrier, speech)
        assert close_code == 1000, barrier_said
        spoken = finals(barrier_said)
        assert spoken, barrier_said
        assert await collect_segments(barrier_listener, len(spoken), timeout=15) == spoken

        assert await next_or_none(listener, timeout=0.5) is None
        assert await stored(stack.settings, conversation) == []
        transcript = f"{stack.gateway_url}/api/stt/conversations/{conversation}/transcript"
        async with http.get(transcript, params={"format": "json"}) as response:
            assert response.status == 404, await response.text()


async def test_a_speaker_silent_for_20_seconds_keeps_the_session(stack: StackProcess) -> None:
    """GIVEN a speaker who said "go forward ten meters"
    WHEN they send nothing at all for 20 s (longer than Transcribe's 15 s without audio), the
    websocket open, then say it again and end
    THEN the session stays open across the gap on the same upstream stream (no error, no
    reconnection), both utterances come back as finals, in the speaker's own audio time (the gap
    is not audio they sent), and the close is 1000."""
    conversation = new_conversation()
    first = goforward_clip().pcm + silence(1)
    second = goforward_clip().pcm + silence(0.5)
    first_seconds = len(first) / BYTES_PER_SECOND
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(speaker_url(stack, conversation, "Quiet")) as speaker,
    ):
        await ready(speaker, conversation)
        await stream(speaker, first)
        said: list[dict[str, Any]] = []
        gap_ends = time.monotonic() + 20
        while (left := gap_ends - time.monotonic()) > 0:
            try:
                message = await speaker.receive(timeout=left)
            except TimeoutError:
                break
            assert message.type == aiohttp.WSMsgType.TEXT, f"during the gap: {message} {said}"
            said.append(json.loads(message.data))
        await stream(speaker, second)
        await speaker.send_str('{"type":"end"}')
        said += await until_closed(speaker)
        assert speaker.close_code == 1000, said
    assert [m for m in said if m["type"] == "error"] == [], said
    # One upstream stream all along: ingest's keepalive silence kept it open, so it was never
    # lost and reopened. (transcribe-local, unlike Transcribe, sends nothing while it hears only
    # silence, so ingest may report it "stalled" during the gap, then "live" again.)
    states = [m["state"] for m in said if m["type"] == "status"]
    assert "reconnecting" not in states, said
    assert states[-1] == "live", said
    heard = finals(said)
    before = [s for s in heard if s["end"] <= first_seconds + 0.2]
    after = [s for s in heard if s["start"] >= first_seconds - 0.2]
    assert "forward" in normalize(" ".join(s["text"] for s in before)), heard
    assert "forward" in normalize(" ".join(s["text"] for s in after)), heard
    assert all(s["end"] <= first_seconds + len(second) / BYTES_PER_SECOND + 0.2 for s in heard)


# A speaker as its own process, so that the test can kill it: the kernel closes its socket with
# no websocket close frame and no {"type":"end"}, as when a laptop lid shuts or a network drops.
VANISHING_SPEAKER: Final = """
import asyncio, sys, time
import aiohttp

async def main(url, path):
    pcm = open(path, "rb").read()
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        print((await ws.receive_json())["type"], flush=True)
        started = time.monotonic()
        for offset in range(0, len(pcm), 3200):
            await asyncio.sleep(max(0.0, offset / 32000 - (time.monotonic() - started)))
            await ws.send_bytes(pcm[offset : offset + 3200])
        print("sent", flush=True)
        await asyncio.sleep(3600)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_a_speaker_who_vanishes_mid_utterance_still_gets_heard(
    stack: StackProcess, tmp_path: Path
) -> None:
    """GIVEN a listener of a conversation, and another speaker talking in another conversation
    WHEN a speaker says the first 2 s of "had he married a more amiable woman..." (a few words,
    mid-sentence) and its process is killed: no end, no close frame
    THEN the listener still receives the final of the words already said, from that speaker;
    and the other speaker's session, running meanwhile, ends normally with its own finals."""
    conversation, other = new_conversation(), new_conversation()
    clip = next(c for c in librivox_clips() if c.name.endswith("0920"))
    assert clip.text.startswith("had he married")
    audio = tmp_path / "first-words.raw"
    audio.write_bytes(clip.pcm[: 2 * BYTES_PER_SECOND])
    healthy = goforward_clip().pcm + silence(0.5)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(listener_url(stack, conversation)) as listener,
    ):
        assert (await receive_json(listener, timeout=10))["segments"] == []
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            VANISHING_SPEAKER,
            speaker_url(stack, conversation, "Gone"),
            str(audio),
            stdout=asyncio.subprocess.PIPE,
        )
        assert child.stdout is not None
        try:
            async with asyncio.timeout(15):
                assert await child.stdout.readline() == b"ready\n"
            other_session = asyncio.create_task(say_and_end(http, stack, other, healthy))
            async with asyncio.timeout(15):
                assert await child.stdout.readline() == b"sent\n"
            child.send_signal(signal.SIGKILL)
            assert await child.wait() == -signal.SIGKILL
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
        heard = await collect_segments(listener, 1, timeout=30)
        other_said, other_close = await other_session
    assert {s["speaker"] for s in heard} == {"Gone"}, heard
    # Engines differ on a cut-off sentence ("had he married...", "how to marry..."): at least two
    # of the content words already said must be there.
    words = set(normalize(" ".join(s["text"] for s in heard)).split())
    assert len(words & {"married", "more", "amiable"}) >= 2, heard
    assert all(0 <= s["start"] <= s["end"] <= 2.2 for s in heard), heard
    assert other_close == 1000, other_said
    assert "forward" in normalize(" ".join(s["text"] for s in finals(other_said))), other_said
    assert [m for m in other_said if m["type"] == "error"] == []
