"""What a speaker hears when something is wrong: their request, their frames, or the upstream.

GIVEN ingest wired to a scripted Transcribe peer, WHEN the speaker or the peer misbehaves, THEN the
speaker gets the contract's HTTP 400 before the upgrade, or an ``error`` then the right close code.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import WSMsgType

from captionist_core.segment import Segment
from tests.conftest import LocalAws
from tests.integration.ingest.conftest import StartIngest
from tests.integration.ingest.test_transcribe import (
    CHUNK,
    PATH,
    next_json,
    next_of,
    queued_segments,
)
from tests.integration.ingest.transcribe_peer import Script, TranscribePeer, failure, transcript


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({}, "missing_sample_rate"),
        ({"sampleRate": "abc"}, "invalid_sample_rate"),
        ({"sampleRate": "7999"}, "invalid_sample_rate"),
        ({"sampleRate": "48001"}, "invalid_sample_rate"),
        ({"sampleRate": "16000.5"}, "invalid_sample_rate"),
        ({"sampleRate": "16000", "conversation": "no spaces"}, "invalid_conversation"),
        ({"sampleRate": "16000", "conversation": "x" * 65}, "invalid_conversation"),
        ({"sampleRate": "16000", "speaker": ""}, "invalid_speaker"),
        ({"sampleRate": "16000", "speaker": "A" * 65}, "invalid_speaker"),
        ({"sampleRate": "16000", "speaker": "Al\nice"}, "invalid_speaker"),
        ({"sampleRate": "16000", "language": "english!"}, "invalid_language"),
    ],
)
async def test_invalid_query_is_refused_before_the_upgrade(
    start_ingest: StartIngest, peer: TranscribePeer, query: dict[str, str], code: str
) -> None:
    # GIVEN ingest
    client = await start_ingest()
    # WHEN a speaker asks for a websocket with a bad query
    response = await client.get(
        PATH,
        params=query,
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    # THEN it is refused with 400 and the contract's JSON error, and no stream is opened
    assert response.status == 400
    body = await response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert peer.streams == []


@pytest.mark.parametrize(
    ("frame", "code", "close_code"),
    [
        (b"\x00" * 3201, "invalid_audio", 1003),
        (b"\x00" * (65 * 1024), "frame_too_large", 1009),
    ],
)
async def test_bad_audio_frames_end_the_session(
    start_ingest: StartIngest, frame: bytes, code: str, close_code: int
) -> None:
    # GIVEN a speaker in a session
    client = await start_ingest()
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        # WHEN they send a frame the contract does not allow
        await ws.send_bytes(frame)
        # THEN they get an error, then the close code for it
        error = await next_of(ws, "error")
        assert error["code"] == code
        assert error["message"]
        assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
        assert ws.close_code == close_code


async def test_text_other_than_end_is_unsupported(start_ingest: StartIngest) -> None:
    client = await start_ingest()
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        # WHEN the speaker sends text that is not {"type":"end"}
        await ws.send_str("hello?")
        # THEN unsupported_message, then 1003
        assert (await next_of(ws, "error"))["code"] == "unsupported_message"
        assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
        assert ws.close_code == 1003


async def test_a_refusing_upstream_is_reported_and_closes_1011(
    start_ingest: StartIngest, peer: TranscribePeer
) -> None:
    # GIVEN a Transcribe that refuses the stream
    peer.script = Script(refuse_status=403)
    client = await start_ingest()
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        # THEN the first message is the error, then 1011
        error = await next_json(ws)
        assert (error["type"], error["code"]) == ("error", "upstream_rejected")
        assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
        assert ws.close_code == 1011


async def test_wrong_credentials_are_refused_by_the_signature_check(
    start_ingest: StartIngest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN ingest holding a secret the peer does not know
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    client = await start_ingest()
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        # THEN the peer's 403 reaches the speaker as upstream_rejected
        assert (await next_json(ws))["code"] == "upstream_rejected"
        assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
        assert ws.close_code == 1011


async def test_an_unreachable_upstream_says_try_again_later(
    start_ingest: StartIngest, closed_port: int
) -> None:
    # GIVEN a Transcribe endpoint where nothing listens
    client = await start_ingest(transcribe_endpoint=f"http://127.0.0.1:{closed_port}")
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        # THEN upstream_unavailable, then 1013
        assert (await next_json(ws))["code"] == "upstream_unavailable"
        assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
        assert ws.close_code == 1013


@pytest.mark.parametrize(
    ("exception_type", "code", "close_code"),
    [
        ("BadRequestException", "upstream_bad_request", 1011),
        ("LimitExceededException", "try_again_later", 1013),
        ("InternalFailureException", "upstream_internal_error", 1011),
        ("SomethingNewException", "upstream_error", 1011),
    ],
)
async def test_upstream_exceptions_are_mapped_to_contract_errors(
    start_ingest: StartIngest,
    peer: TranscribePeer,
    local_aws: LocalAws,
    exception_type: str,
    code: str,
    close_code: int,
) -> None:
    # GIVEN a Transcribe that sends a final, then fails the stream
    peer.script = Script(
        replies={1: [transcript("f", "kept", partial=False), failure(exception_type)]},
        close_after_reply=True,
    )
    # (without reconnection: test_transcribe_recovery.py covers the retryable ones with it)
    client = await start_ingest(reconnect_timeout=0)
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        # WHEN the speaker talks
        await ws.send_bytes(CHUNK)
        # THEN the final before the failure is delivered, then the mapped error and close code
        final: dict[str, Any] = await next_of(ws, "final")
        assert (await next_of(ws, "error"))["code"] == code
        assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
        assert ws.close_code == close_code
    assert await queued_segments(local_aws) == [Segment.model_validate(final["segment"])]


async def test_an_upstream_closing_mid_stream_is_reported(
    start_ingest: StartIngest, peer: TranscribePeer
) -> None:
    # GIVEN a Transcribe that drops the stream without a word
    peer.script = Script(replies={1: []}, close_after_reply=True)
    client = await start_ingest(reconnect_timeout=0)
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        await ws.send_bytes(CHUNK)
        # THEN upstream_lost, then 1011
        assert (await next_of(ws, "error"))["code"] == "upstream_lost"
        assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
        assert ws.close_code == 1011


async def test_a_speaker_far_ahead_of_real_time_is_told_too_fast(
    start_ingest: StartIngest, peer: TranscribePeer
) -> None:
    # GIVEN ingest allowing one second of audio ahead of real time
    client = await start_ingest(max_buffered_audio_seconds=1)
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        # WHEN the speaker sends three seconds of audio at once
        for _ in range(30):
            await ws.send_bytes(CHUNK)
        # THEN too_fast, then 1013
        assert (await next_of(ws, "error"))["code"] == "too_fast"
        assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
        assert ws.close_code == 1013
