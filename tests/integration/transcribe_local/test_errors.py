"""What transcribe-local refuses, and how: like Amazon Transcribe, before or after the upgrade."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from botocore.credentials import Credentials
from yarl import URL

from captionist_core.eventstream import audio_event, event_message
from captionist_dev.speech import GOFORWARD
from tests.integration.transcribe_local.client import (
    receive_all,
    stream_url,
)
from tests.integration.transcribe_local.conftest import StartTranscribeLocal


async def _refusal(http: aiohttp.ClientSession, url: URL) -> tuple[int, str, str]:
    """(status, x-amzn-ErrorType, message) of a websocket handshake the server refuses."""
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with http.ws_connect(url):
            pass
    assert refused.value.status in (400, 403)
    # The handshake error keeps no body: read the same refusal as the plain HTTP answer it is.
    async with http.get(url) as response:
        body = await response.json()
        return response.status, response.headers["x-amzn-ErrorType"], str(body["message"])


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("wrong_secret", "InvalidSignatureException"),
        ("unknown_key", "UnrecognizedClientException"),
        ("tampered", "InvalidSignatureException"),
        ("expired", "InvalidSignatureException"),
        ("unsigned", "MissingAuthenticationToken"),
    ],
)
async def test_bad_signatures_are_refused_before_the_upgrade(
    start_transcribe_local: StartTranscribeLocal,
    http: aiohttp.ClientSession,
    case: str,
    code: str,
) -> None:
    """GIVEN a server whose credentials are local/local
    WHEN a client opens a URL signed with another secret, an unknown key, a URL altered after
    signing, an expired one, or an unsigned one
    THEN the handshake is refused with 403, AWS's error type in x-amzn-ErrorType and a message.
    """
    root = await start_transcribe_local()
    url = stream_url(root)
    if case == "wrong_secret":
        url = stream_url(root, credentials=Credentials("local", "not-the-secret"))
    elif case == "unknown_key":
        url = stream_url(root, credentials=Credentials("someone-else", "local"))
    elif case == "tampered":
        url = url.with_query({**url.query, "sample-rate": "8000"})
    elif case == "expired":
        url = stream_url(root, expires=1)
        await asyncio.sleep(2.1)
    elif case == "unsigned":
        url = url.with_query({k: v for k, v in url.query.items() if not k.startswith("X-Amz-")})

    status, error_type, message = await _refusal(http, url)

    assert (status, error_type) == (403, code)
    assert message
    if case == "expired":
        assert "expired" in message


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"sample_rate": 7999}, "mediaSampleRateHertz"),
        ({"sample_rate": 96000}, "mediaSampleRateHertz"),
        ({"encoding": "flac"}, "pcm"),
        ({"encoding": "mp3"}, "mediaEncoding"),
        ({"language": "fr-FR"}, "languageCode"),
    ],
)
async def test_bad_parameters_are_refused_with_400(
    start_transcribe_local: StartTranscribeLocal,
    http: aiohttp.ClientSession,
    params: dict[str, object],
    fragment: str,
) -> None:
    """GIVEN a correctly signed URL
    WHEN its sample rate is outside 8000..48000, its encoding is not pcm, or its language is one
    the engine does not know
    THEN the handshake is refused with 400 BadRequestException, naming what is wrong.
    """
    root = await start_transcribe_local()
    url = stream_url(root, **params)  # type: ignore[arg-type]

    status, error_type, message = await _refusal(http, url)

    assert (status, error_type) == (400, "BadRequestException")
    assert fragment in message


async def test_a_garbage_frame_ends_the_session_with_bad_request(
    start_transcribe_local: StartTranscribeLocal, http: aiohttp.ClientSession
) -> None:
    """GIVEN an open session that has sent some audio
    WHEN the client sends a binary frame that is not an event-stream message
    THEN it receives a BadRequestException exception message, then the socket closes.
    """
    root = await start_transcribe_local()
    async with http.ws_connect(stream_url(root)) as ws:
        await ws.send_bytes(audio_event(GOFORWARD.read_bytes()[:3200]))
        await ws.send_bytes(b"\x00\x00\x00\x20 this is not an event stream")
        transcription = await receive_all(ws)

    assert transcription.exception is not None
    assert transcription.exception[0] == "BadRequestException"
    assert transcription.close_code is not None


async def test_an_unexpected_event_ends_the_session_with_bad_request(
    start_transcribe_local: StartTranscribeLocal, http: aiohttp.ClientSession
) -> None:
    """GIVEN an open session
    WHEN the client sends a well-formed event that is not audio
    THEN it receives BadRequestException, then the socket closes.
    """
    root = await start_transcribe_local()
    async with http.ws_connect(stream_url(root)) as ws:
        await ws.send_bytes(event_message("TranscriptEvent", b"{}"))
        transcription = await receive_all(ws)

    assert transcription.exception is not None
    assert transcription.exception[0] == "BadRequestException"


async def test_no_audio_for_the_timeout_ends_the_session(
    start_transcribe_local: StartTranscribeLocal, http: aiohttp.ClientSession
) -> None:
    """GIVEN a server that waits 0.5 s for audio (Transcribe: 15 s)
    WHEN a client opens a session and sends nothing
    THEN it receives Transcribe's time-out BadRequestException, then the socket closes.
    """
    root = await start_transcribe_local(audio_timeout=0.5)
    async with http.ws_connect(stream_url(root)) as ws:
        transcription = await asyncio.wait_for(receive_all(ws), 5)

    assert transcription.exception == (
        "BadRequestException",
        "Your request timed out because no new audio was received for 0.5 seconds.",
    )


async def test_audio_far_faster_than_the_engine_is_refused(
    start_transcribe_local: StartTranscribeLocal, http: aiohttp.ClientSession
) -> None:
    """GIVEN a server that lets 1 s of audio wait for the engine
    WHEN a client sends 10 s of audio at once (the engine is still loading its model)
    THEN it receives LimitExceededException, then the socket closes.
    """
    root = await start_transcribe_local(max_buffered_audio_seconds=1)
    pcm = bytes(10 * 32000)
    async with http.ws_connect(stream_url(root)) as ws:
        for offset in range(0, len(pcm), 3200):
            await ws.send_bytes(audio_event(pcm[offset : offset + 3200]))
        transcription = await asyncio.wait_for(receive_all(ws), 5)

    assert transcription.exception is not None
    assert transcription.exception[0] == "LimitExceededException"


async def test_healthcheck_and_metrics(
    start_transcribe_local: StartTranscribeLocal, http: aiohttp.ClientSession
) -> None:
    """GIVEN a server that has transcribed one utterance
    WHEN the ALB health check and Prometheus ask
    THEN the health check says it is ok and the metrics count the audio and the results.
    """
    root = await start_transcribe_local()
    async with http.ws_connect(stream_url(root)) as ws:
        await ws.send_bytes(audio_event(GOFORWARD.read_bytes()))
        await ws.send_bytes(audio_event(b""))
        await receive_all(ws)

    async with http.get(f"{root}/api/stt/healthcheck") as response:
        health = (response.status, await response.text())
    async with http.get(f"{root}/metrics") as response:
        metrics = await response.text()

    assert health == (200, "Yes, I'm ok")
    for name in (
        "captionist_transcribe_local_sessions ",
        "captionist_transcribe_local_audio_seconds_total ",
        'captionist_transcribe_local_results_total{kind="final"} ',
        "captionist_transcribe_local_engine_seconds_bucket",
    ):
        assert name in metrics
    final_line = next(
        line
        for line in metrics.splitlines()
        if line.startswith('captionist_transcribe_local_results_total{kind="final"}')
    )
    assert float(final_line.split()[-1]) >= 1
