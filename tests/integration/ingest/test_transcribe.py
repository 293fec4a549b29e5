"""A speaker's session through ingest: ready, partials, finals on the queue, the end.

GIVEN ingest wired to a scripted Transcribe peer and the emulator's queue, WHEN a speaker streams
audio over a real websocket, THEN they hear what the contract promises, and finals reach the queue
before the speaker hears of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp
from aiohttp import WSMsgType

from captionist_core.aws import async_client
from captionist_core.segment import Segment
from tests.conftest import LocalAws
from tests.integration.ingest.conftest import StartIngest
from tests.integration.ingest.transcribe_peer import Script, TranscribePeer, transcript
from tests.segments import eventually

PATH = "/api/stt/transcribe"
CHUNK = bytes(3200)  # 100 ms at 16 kHz


async def next_json(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next text message, skipping nothing; fails on a close or a timeout."""
    message = await ws.receive(timeout=5)
    assert message.type is WSMsgType.TEXT, message
    document: dict[str, Any] = json.loads(message.data)
    return document


async def next_of(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The next message of type ``kind``, skipping status messages."""
    while True:
        document = await next_json(ws)
        if document["type"] == kind:
            return document
        assert document["type"] == "status", document


async def queued_segments(local_aws: LocalAws) -> list[Segment]:
    """Every segment that can be received from the test's queue right now."""
    segments: list[Segment] = []
    async with async_client("sqs", local_aws.settings) as sqs:
        while True:
            response = await sqs.receive_message(
                QueueUrl=local_aws.queues.segments, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            messages = response.get("Messages", [])
            if not messages:
                return segments
            segments += [Segment.model_validate_json(m["Body"]) for m in messages]


async def test_ready_comes_first_then_live_partials_and_a_final_already_queued(
    start_ingest: StartIngest, peer: TranscribePeer, local_aws: LocalAws
) -> None:
    # GIVEN a peer that answers a partial, then a final
    peer.script = Script(
        replies={
            1: [transcript("r1", "hello", partial=True, start=0.05, end=0.2)],
            2: [transcript("r1", "hello world", partial=False, start=0.05, end=0.19)],
        }
    )
    client = await start_ingest()
    async with client.ws_connect(
        PATH, params={"sampleRate": "16000", "conversation": "talk-1", "speaker": "Alice"}
    ) as ws:
        # THEN the first message is ready, then the stream is live
        ready = await next_json(ws)
        assert ready["type"] == "ready"
        assert ready["conversation"] == "talk-1"
        assert ready["sampleRate"] == 16000
        assert ready["session"]
        assert await next_json(ws) == {"type": "status", "state": "live", "detail": "Transcribing"}
        # WHEN the speaker sends audio
        await ws.send_bytes(CHUNK)
        partial = await next_of(ws, "partial")
        assert partial == {
            "type": "partial",
            "resultId": "r1",
            "text": "hello",
            "start": 0.05,
            "end": 0.2,
        }
        await ws.send_bytes(CHUNK)
        final = await next_of(ws, "final")
        # THEN the queue already holds the final the speaker is told about
        queued = await queued_segments(local_aws)
        segment = Segment.model_validate(final["segment"])
        assert queued == [segment]
        assert segment.id == f"{ready['session']}-r1"
        assert (segment.conversation, segment.speaker, segment.text) == (
            "talk-1",
            "Alice",
            "hello world",
        )
        assert (segment.start, segment.end, segment.language) == (0.05, 0.19, "en-US")
        assert segment.cursor == f"{segment.timestamp}#{segment.id}"
    # AND the upstream stream was opened as Transcribe expects
    params = peer.streams[0].params
    assert params["sample-rate"] == "16000"
    assert params["media-encoding"] == "pcm"
    assert params["language-code"] == "en-US"
    assert params["enable-partial-results-stabilization"] == "true"
    assert params["partial-results-stability"] == "high"
    assert peer.streams[0].audio == [CHUNK, CHUNK]


async def test_end_flushes_the_last_finals_then_closes_normally(
    start_ingest: StartIngest, peer: TranscribePeer, local_aws: LocalAws
) -> None:
    # GIVEN a peer holding a final until the stream ends
    peer.script = Script(on_end=[transcript("last", "see you", partial=False)])
    client = await start_ingest()
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        ready = await next_json(ws)
        await ws.send_bytes(CHUNK)
        # WHEN the speaker ends
        await ws.send_str('{"type":"end"}')
        # THEN the final arrives, then a close with 1000
        final = await next_of(ws, "final")
        assert final["segment"]["text"] == "see you"
        assert final["segment"]["conversation"] == ready["conversation"]
        assert final["segment"]["speaker"] == "Speaker"
        closing = await ws.receive(timeout=5)
        assert closing.type is WSMsgType.CLOSE
        assert ws.close_code == 1000
    assert peer.streams[0].ended.is_set()
    assert [s.text for s in await queued_segments(local_aws)] == ["see you"]


async def test_a_plain_close_still_gets_the_finals_onto_the_queue(
    start_ingest: StartIngest, peer: TranscribePeer, local_aws: LocalAws
) -> None:
    # GIVEN a peer holding a final until the stream ends
    peer.script = Script(on_end=[transcript("tail", "last words", partial=False)])
    client = await start_ingest()
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        await ws.send_bytes(CHUNK)

        async def sent() -> bool:
            return len(peer.streams[0].audio) == 1

        await eventually(sent, "audio upstream")
        # WHEN the speaker just closes the socket
        await ws.close()

    # THEN the final still lands on the queue
    async def landed() -> bool:
        return [s.text for s in await queued_segments(local_aws)] == ["last words"]

    await eventually(landed, "the final on the queue")


async def test_a_silent_speaker_keeps_the_session_alive(
    start_ingest: StartIngest, peer: TranscribePeer
) -> None:
    # GIVEN a peer that, like Transcribe, ends a stream without audio for 1 s
    peer.script = Script(idle_timeout=1.0, replies={1: [transcript("a", "hi", partial=True)]})
    client = await start_ingest(keepalive_seconds=0.3, stall_seconds=5)
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        # WHEN the speaker sends nothing for 3 s (ten times the keepalive period)
        await asyncio.sleep(3)
        # THEN the upstream kept receiving silence and the session is still open
        stream = peer.streams[0]
        assert not stream.timed_out
        assert len(stream.audio) >= 5
        assert all(not any(chunk) for chunk in stream.audio)
        assert not ws.closed
        # AND speech after the pause is still transcribed
        await ws.send_bytes(b"\x01\x00" * 1600)
        partial = await next_of(ws, "partial")
        assert partial["text"] == "hi"


async def test_a_bad_session_does_not_disturb_a_healthy_one(
    start_ingest: StartIngest, peer: TranscribePeer, local_aws: LocalAws
) -> None:
    # GIVEN two speakers on the same ingest
    peer.script = Script(
        replies={
            1: [transcript("p", "one", partial=True)],
            2: [transcript("p", "one two", partial=False)],
        }
    )
    client = await start_ingest()
    async with (
        client.ws_connect(PATH, params={"sampleRate": "16000", "speaker": "Good"}) as good,
        client.ws_connect(PATH, params={"sampleRate": "16000", "speaker": "Bad"}) as bad,
    ):
        await next_json(good)
        await next_json(bad)
        # WHEN one sends a malformed frame
        await bad.send_bytes(b"\x00\x01\x02")
        error = await next_of(bad, "error")
        assert error["code"] == "invalid_audio"
        # THEN the other keeps streaming and gets its final
        await good.send_bytes(CHUNK)
        assert (await next_of(good, "partial"))["text"] == "one"
        await good.send_bytes(CHUNK)
        final = await next_of(good, "final")
        assert final["segment"]["speaker"] == "Good"
    assert [s.speaker for s in await queued_segments(local_aws)] == ["Good"]


async def test_an_upstream_that_stops_answering_is_reported_stalled_then_live(
    start_ingest: StartIngest, peer: TranscribePeer
) -> None:
    # GIVEN a peer that answers only the second chunk of audio
    peer.script = Script(replies={2: [transcript("late", "finally", partial=True)]})
    client = await start_ingest(stall_seconds=0.5)
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        assert (await next_json(ws))["state"] == "live"
        # WHEN the speaker talks and the upstream says nothing for longer than stall_seconds
        await ws.send_bytes(CHUNK)
        stalled = await next_json(ws)
        # THEN the speaker hears it is stalled, and live again once results flow
        assert (stalled["type"], stalled["state"]) == ("status", "stalled")
        assert stalled["detail"]
        await ws.send_bytes(CHUNK)
        assert await next_json(ws) == {"type": "status", "state": "live", "detail": "Transcribing"}
        assert (await next_json(ws))["text"] == "finally"


async def test_more_than_a_hundred_speakers_each_get_their_own_stream(
    start_ingest: StartIngest, peer: TranscribePeer
) -> None:
    # GIVEN one ingest (an HTTP client pool would hold every stream past its limit, often 100)
    peer.script = Script()
    client = await start_ingest(connect_timeout=3)
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        )
        # WHEN 120 speakers are connected at the same time
        speakers = [
            await stack.enter_async_context(
                http.ws_connect(client.make_url(PATH).with_query(sampleRate=16000, speaker=f"S{n}"))
            )
            for n in range(120)
        ]
        # THEN every one of them is ready with its own upstream stream open
        firsts = await asyncio.gather(*(next_json(speaker) for speaker in speakers))
        assert {first["type"] for first in firsts} == {"ready"}
        assert len(peer.streams) == 120
