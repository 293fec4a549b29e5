"""Transparent upstream recovery: a dropped Transcribe stream is reopened and fed its audio again.

GIVEN ingest and a Transcribe that drops the stream mid-session, WHEN the speaker carries on, THEN
they hear ``status reconnecting`` then ``live``, the new stream is fed the audio since the last
final, its results land in the speaker's own audio time, and no final is lost or sent twice.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, web

from captionist_core.segment import Segment
from captionist_transcribe_local.app import create_app
from captionist_transcribe_local.settings import TranscribeLocalSettings
from tests.conftest import LocalAws, free_port
from tests.integration.ingest.conftest import StartIngest
from tests.integration.ingest.test_transcribe import PATH, next_json, next_of, queued_segments
from tests.integration.ingest.transcribe_peer import Script, TranscribePeer, failure, transcript

RECORDING = Path("/usr/share/pocketsphinx/test/data/goforward.raw")  # "go forward ten meters"


def chunk(n: int) -> bytes:
    """100 ms of recognizable audio at 16 kHz: every byte is ``n``."""
    return bytes([n]) * 3200


async def rest_of_session(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    """Every text message until the close."""
    messages: list[dict[str, Any]] = []
    while (message := await ws.receive(timeout=10)).type is WSMsgType.TEXT:
        messages.append(message.json())
    return messages


@pytest.mark.parametrize("cause", [None, "BadRequestException", "LimitExceededException"])
async def test_a_dropped_stream_is_reopened_and_fed_the_audio_since_the_last_final(
    start_ingest: StartIngest, peer: TranscribePeer, local_aws: LocalAws, cause: str | None
) -> None:
    # GIVEN a Transcribe that finalizes the first 150 ms, then drops the stream at the 5th chunk
    # (plainly, or with a retryable exception), and whose second stream finalizes more speech
    peer.script = Script(
        replies={
            2: [transcript("r1", "first", partial=False, start=0.05, end=0.15)],
            5: [failure(cause)] if cause else [],
        },
        drop_after=5,
    )
    peer.next_scripts = [
        Script(
            replies={
                3: [
                    transcript("r1", "second", partial=True, start=0.1, end=0.5),
                    transcript("r1", "second part", partial=False, start=0.1, end=0.9),
                ]
            }
        )
    ]
    client = await start_ingest()
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        ready = await next_json(ws)
        assert await next_json(ws) == {"type": "status", "state": "live", "detail": "Transcribing"}
        # WHEN the speaker talks through the first final and on past the drop
        await ws.send_bytes(chunk(1))
        await ws.send_bytes(chunk(2))
        first = await next_of(ws, "final")
        for n in (3, 4, 5):
            await ws.send_bytes(chunk(n))
        # THEN they hear reconnecting, then live again
        reconnecting = await next_json(ws)
        assert (reconnecting["type"], reconnecting["state"]) == ("status", "reconnecting")
        assert reconnecting["detail"]
        assert await next_json(ws) == {"type": "status", "state": "live", "detail": "Transcribing"}
        for n in (6, 7):
            await ws.send_bytes(chunk(n))
            await asyncio.sleep(0.05)
        await ws.send_str('{"type":"end"}')
        messages = await rest_of_session(ws)
        assert ws.close_code == 1000, messages
    # AND the second stream was fed, first, the audio after the first final's end (byte 4800)
    assert len(peer.streams) == 2
    replayed = b"".join(peer.streams[1].audio)
    since_final = chunk(2)[1600:] + chunk(3) + chunk(4) + chunk(5)
    assert replayed.startswith(since_final)
    assert replayed.endswith(chunk(6) + chunk(7))
    assert peer.streams[1].ended.is_set()
    # AND its final is in the speaker's audio time (0.15 s of audio came before its start)
    finals = [first] + [m for m in messages if m["type"] == "final"]
    segments = [Segment.model_validate(m["segment"]) for m in finals]
    assert [s.text for s in segments] == ["first", "second part"]
    assert (segments[1].start, segments[1].end) == (0.25, 1.05)
    assert next(m for m in messages if m["type"] == "partial")["start"] == 0.25
    # AND the ids stay unique although both streams said "r1", and each final was queued once
    assert [s.id for s in segments] == [f"{ready['session']}-r1", f"{ready['session']}-r1-1"]
    assert sorted(s.id for s in await queued_segments(local_aws)) == sorted(s.id for s in segments)


async def test_a_replayed_final_ending_before_the_last_final_is_not_sent_again(
    start_ingest: StartIngest, peer: TranscribePeer, local_aws: LocalAws
) -> None:
    # GIVEN a first stream that finalizes 0.5 s then drops, and a second stream that repeats a final
    # covering audio before that end (as a replay overlapping a final could), then a new one
    peer.script = Script(
        replies={5: [transcript("a", "one", partial=False, start=0.0, end=0.5)]}, drop_after=6
    )
    peer.next_scripts = [
        Script(
            replies={
                1: [
                    transcript("b", "one", partial=False, start=0.0, end=0.0),
                    transcript("c", "two", partial=False, start=0.05, end=0.1),
                ]
            }
        )
    ]
    client = await start_ingest()
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        for n in range(1, 7):
            await ws.send_bytes(chunk(n))
            await asyncio.sleep(0.02)
        assert (await next_of(ws, "final"))["segment"]["text"] == "one"
        await ws.send_str('{"type":"end"}')
        messages = await rest_of_session(ws)
        assert ws.close_code == 1000, messages
    # THEN only the new final came, in session time (the replay starts at 0.5 s)
    finals = [m["segment"] for m in messages if m["type"] == "final"]
    assert [(f["text"], f["start"], f["end"]) for f in finals] == [("two", 0.55, 0.6)]
    assert sorted(s.text for s in await queued_segments(local_aws)) == ["one", "two"]


async def test_a_refused_reconnection_ends_in_an_error_within_the_budget(
    start_ingest: StartIngest, peer: TranscribePeer
) -> None:
    # GIVEN a Transcribe that drops the stream, then answers every reconnection with 503
    peer.script = Script(drop_after=2)
    peer.next_scripts = [Script(refuse_status=503)]
    client = await start_ingest(reconnect_timeout=1, reconnect_backoff=0.1)
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        await next_json(ws)
        await ws.send_bytes(chunk(1))
        await ws.send_bytes(chunk(2))
        assert (await next_json(ws))["state"] == "reconnecting"
        began = time.monotonic()
        # THEN upstream_unavailable and 1013 once the budget is spent, not later
        error = await next_json(ws)
        assert (error["type"], error["code"]) == ("error", "upstream_unavailable")
        assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
        assert ws.close_code == 1013
        assert time.monotonic() - began < 3
    assert len(peer.streams) == 1


async def test_a_non_retryable_exception_fails_at_once(
    start_ingest: StartIngest, peer: TranscribePeer
) -> None:
    # GIVEN a Transcribe that fails the stream with an exception a new stream would not get past
    peer.script = Script(replies={1: [failure("ConflictException")]}, close_after_reply=True)
    client = await start_ingest()
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        await next_json(ws)
        await ws.send_bytes(chunk(1))
        # THEN the error comes without any reconnection
        assert (await next_json(ws))["code"] == "upstream_conflict"
        assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
        assert ws.close_code == 1011
    assert len(peer.streams) == 1


async def _serve_transcribe_local(port: int) -> web.AppRunner:
    settings = TranscribeLocalSettings(
        access_key_id="testing", secret_access_key="testing", aws_region="us-east-1"
    )
    runner = web.AppRunner(create_app(settings), shutdown_timeout=0.2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
    return runner


@pytest.mark.skipif(not RECORDING.exists(), reason="pocketsphinx-testdata is not installed")
async def test_speech_survives_a_restart_of_the_transcription_service(
    start_ingest: StartIngest, local_aws: LocalAws
) -> None:
    # GIVEN ingest in front of transcribe-local on a fixed port
    port = free_port()
    runner = await _serve_transcribe_local(port)
    try:
        client = await start_ingest(
            transcribe_endpoint=f"http://127.0.0.1:{port}",
            end_timeout=10,
            reconnect_backoff=0.1,
        )
        pcm = await asyncio.to_thread(RECORDING.read_bytes)
        async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
            assert (await next_json(ws))["type"] == "ready"
            messages: list[dict[str, Any]] = []

            async def listen() -> None:
                while (message := await ws.receive(timeout=20)).type is WSMsgType.TEXT:
                    messages.append(message.json())

            listener = asyncio.create_task(listen())
            # WHEN a speaker says "go forward ten meters" in 100 ms chunks (a bit over real time)...
            chunks = [pcm[at : at + 3200] for at in range(0, len(pcm), 3200)]
            for index, audio in enumerate(chunks):
                if index == 10:
                    # ...and the service goes away mid-utterance and comes back on the same port
                    await runner.cleanup()
                    await asyncio.sleep(0.1)
                    runner = await _serve_transcribe_local(port)
                await ws.send_bytes(audio)
                await asyncio.sleep(0.06)
            await ws.send_str('{"type":"end"}')
            await asyncio.wait_for(listener, 25)
            assert ws.close_code == 1000, messages
    finally:
        await runner.cleanup()
    # THEN the speaker heard reconnecting, then live
    states = [m["state"] for m in messages if m["type"] == "status"]
    assert states[states.index("reconnecting") :][:2] == ["reconnecting", "live"], states
    # AND the words came back once, within the session's audio time, each final queued once
    finals = [Segment.model_validate(m["segment"]) for m in messages if m["type"] == "final"]
    text = " ".join(s.text.lower() for s in finals)
    assert text.split().count("forward") == 1, text
    assert len({s.id for s in finals}) == len(finals)
    assert all(0 <= s.start <= s.end <= len(pcm) / 32000 + 0.5 for s in finals)
    assert sorted(s.id for s in await queued_segments(local_aws)) == sorted(s.id for s in finals)
