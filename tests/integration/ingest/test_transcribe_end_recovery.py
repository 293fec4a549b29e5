"""Recovery while a finishing session waits for its last finals (after ``end``).

GIVEN ingest and a Transcribe whose stream fails after the speaker's end marker, before it sent
the last final, WHEN the failure is one a new stream may get past, THEN ingest reopens a stream,
feeds it the audio since the last final and the end marker again, and the last final still
reaches the queue and the speaker, who gets a normal close.
"""

from __future__ import annotations

import pytest
from aiohttp import WSMsgType

from captionist_core.segment import Segment
from tests.conftest import LocalAws
from tests.integration.ingest.conftest import StartIngest
from tests.integration.ingest.test_transcribe import PATH, next_json, next_of, queued_segments
from tests.integration.ingest.test_transcribe_recovery import chunk, rest_of_session
from tests.integration.ingest.transcribe_peer import Script, TranscribePeer, failure, transcript


@pytest.mark.parametrize("fault", ["vanishes", "ServiceUnavailableException"])
async def test_a_stream_lost_after_end_is_reopened_and_the_last_final_lands(
    start_ingest: StartIngest, peer: TranscribePeer, local_aws: LocalAws, fault: str
) -> None:
    # GIVEN a Transcribe that finalizes the first 150 ms, then, at the end marker, either cuts
    # the connection (no close frame) or answers a retryable exception, instead of the last final
    first_stream = Script(replies={2: [transcript("r1", "first", partial=False, end=0.15)]})
    if fault == "vanishes":
        first_stream.vanish_on_end = True
    else:
        first_stream.on_end = [failure(fault)]
    peer.script = first_stream
    # AND whose next stream answers the end marker with the last final
    peer.next_scripts = [
        Script(on_end=[transcript("r2", "last words", partial=False, start=0.05, end=0.3)])
    ]
    client = await start_ingest(end_timeout=5, reconnect_backoff=0.05)
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        ready = await next_json(ws)
        await next_json(ws)  # status live
        # WHEN the speaker says 400 ms, hears the first final, and ends
        for n in (1, 2):
            await ws.send_bytes(chunk(n))
        first = await next_of(ws, "final")
        for n in (3, 4):
            await ws.send_bytes(chunk(n))
        await ws.send_str('{"type":"end"}')
        messages = await rest_of_session(ws)
        # THEN the session ends normally, after a reconnection
        assert ws.close_code == 1000, messages
    states = [m["state"] for m in messages if m["type"] == "status"]
    assert states == ["reconnecting", "live"], messages
    assert [m for m in messages if m["type"] == "error"] == []
    # AND the new stream got the audio after the first final's end (byte 4800), then the end
    assert len(peer.streams) == 2
    assert b"".join(peer.streams[1].audio) == chunk(2)[1600:] + chunk(3) + chunk(4)
    assert peer.streams[1].ended.is_set()
    # AND the last final is in the speaker's audio time, and both finals were queued once
    last = [Segment.model_validate(m["segment"]) for m in messages if m["type"] == "final"]
    assert [(s.text, s.start, s.end) for s in last] == [("last words", 0.2, 0.45)]
    assert last[0].id == f"{ready['session']}-r2"
    queued = sorted(s.id for s in await queued_segments(local_aws))
    assert queued == sorted([first["segment"]["id"], last[0].id])


async def test_a_stream_that_ends_with_a_close_frame_after_end_is_not_reopened(
    start_ingest: StartIngest, peer: TranscribePeer
) -> None:
    # GIVEN a Transcribe that answers the end marker with nothing more and a close frame
    peer.script = Script()
    client = await start_ingest(reconnect_backoff=0.05)
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        await next_json(ws)
        await ws.send_bytes(chunk(1))
        await ws.send_str('{"type":"end"}')
        # THEN that is the end of the session: no reconnection, a normal close
        messages = await rest_of_session(ws)
        assert ws.close_code == 1000, messages
    assert messages == []
    assert len(peer.streams) == 1


async def test_a_failure_after_end_with_no_stream_to_be_had_is_reported(
    start_ingest: StartIngest, peer: TranscribePeer
) -> None:
    # GIVEN a Transcribe that cuts the connection at the end marker, then refuses every new stream
    peer.script = Script(vanish_on_end=True)
    peer.next_scripts = [Script(refuse_status=503)]
    client = await start_ingest(end_timeout=1, reconnect_backoff=0.05)
    async with client.ws_connect(PATH, params={"sampleRate": "16000"}) as ws:
        await next_json(ws)
        await next_json(ws)
        await ws.send_bytes(chunk(1))
        await ws.send_str('{"type":"end"}')
        # THEN, once the end's wait is spent, the speaker hears why finals may be missing
        assert (await next_json(ws))["state"] == "reconnecting"
        error = await next_json(ws)
        assert (error["type"], error["code"]) == ("error", "upstream_unavailable")
        assert (await ws.receive(timeout=5)).type is WSMsgType.CLOSE
        assert ws.close_code == 1013
