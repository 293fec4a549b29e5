"""Real speech through a real websocket: partials, finals, word times, resampled input."""

from __future__ import annotations

import asyncio
import itertools

import aiohttp
import numpy as np
import pytest

from captionist_dev.speech import GOFORWARD_TEXT, goforward_clip, librivox_clips, word_error_rate
from tests.integration.transcribe_local.client import (
    Transcription,
    resample,
    stream_url,
    transcribe,
)
from tests.integration.transcribe_local.conftest import StartTranscribeLocal

# Three LibriVox clips, each one sentence, joined by a second of silence.
LIBRIVOX_CLIPS = (
    "sense_and_sensibility_01_austen_64kb-0880",
    "sense_and_sensibility_01_austen_64kb-0890",
    "sense_and_sensibility_01_austen_64kb-0930",
)


def _goforward() -> bytes:
    return goforward_clip().pcm


def _assert_well_formed(transcription: Transcription, duration: float) -> None:
    """Every final closes a segment its partials opened; times lie within the audio sent."""
    assert transcription.exception is None
    assert transcription.close_code == 1000
    for result in transcription.results:
        assert 0 <= result["StartTime"] < result["EndTime"] <= duration + 0.05
        items = result["Alternatives"][0]["Items"]
        assert result["StartTime"] == items[0]["StartTime"]
        assert result["EndTime"] == items[-1]["EndTime"]
    final_ids = [final["ResultId"] for final in transcription.finals]
    assert len(set(final_ids)) == len(final_ids)
    assert {partial["ResultId"] for partial in transcription.partials} <= set(final_ids)


async def test_goforward_streams_partials_then_a_final(
    start_transcribe_local: StartTranscribeLocal, http: aiohttp.ClientSession
) -> None:
    """GIVEN a server and "go forward ten meters" (2.8 s, 16 kHz)
    WHEN it is streamed in 100 ms AudioEvents, then the empty AudioEvent
    THEN partials with growing text come first, then one final with their ResultId whose text has
    a word error rate of at most 0.25 (measured: "go forward ten years", 0.25), word times inside
    the audio, and the socket closes with 1000.
    """
    root = await start_transcribe_local()
    pcm = _goforward()

    transcription = await transcribe(http, stream_url(root), pcm)

    _assert_well_formed(transcription, len(pcm) / 32000)
    assert len(transcription.finals) == 1
    final = transcription.finals[0]
    assert transcription.partials
    assert all(p["ResultId"] == final["ResultId"] for p in transcription.partials)
    assert word_error_rate([GOFORWARD_TEXT], [transcription.text]) <= 0.25


@pytest.mark.parametrize(("rate", "max_wer"), [(8000, 1.0), (44100, 0.25)])
async def test_other_sample_rates_are_resampled(
    start_transcribe_local: StartTranscribeLocal,
    http: aiohttp.ClientSession,
    rate: int,
    max_wer: float,
) -> None:
    """GIVEN "go forward ten meters" resampled to 8 kHz or 44.1 kHz
    WHEN it is streamed with that sample-rate
    THEN one final still comes, with times inside the audio.

    The bounds are pocketsphinx's, the least accurate engine: at 44.1 kHz it hears as well as at
    16 kHz ("go forward ten years", WER 0.25); at 8 kHz it hears nothing right (WER 1.0: its
    wideband model expects energy up to 6.8 kHz, which narrowband audio lacks).
    """
    root = await start_transcribe_local()
    pcm = resample(_goforward(), 16000, rate)

    transcription = await transcribe(http, stream_url(root, sample_rate=rate), pcm, rate)

    _assert_well_formed(transcription, len(pcm) / (2 * rate))
    assert len(transcription.finals) == 1
    assert transcription.text
    assert word_error_rate([GOFORWARD_TEXT], [transcription.text]) <= max_wer


async def test_librivox_sentences_give_one_final_each(
    start_transcribe_local: StartTranscribeLocal, http: aiohttp.ClientSession
) -> None:
    """GIVEN three LibriVox sentences read by a person, a second of silence between them (14 s)
    WHEN they are streamed in one session
    THEN each sentence ends in its own final, in order, with non-overlapping times, and the
    word error rate over the whole is at most 0.45.

    The bound is pocketsphinx's (WER 0.37 measured here, e.g. "he might even have been made a real
    boy himself"); the default hybrid engine gets 0.07 ("ill disposed" heard as "old-sposed").
    """
    root = await start_transcribe_local()
    clips = [clip for clip in librivox_clips() if clip.name in LIBRIVOX_CLIPS]
    gap = bytes(32000)
    pcm = gap.join(clip.pcm for clip in clips) + gap

    transcription = await transcribe(http, stream_url(root), pcm)

    _assert_well_formed(transcription, len(pcm) / 32000)
    finals = transcription.finals
    assert len(finals) == len(LIBRIVOX_CLIPS)
    assert all(a["EndTime"] <= b["StartTime"] for a, b in itertools.pairwise(finals))
    assert word_error_rate([clip.text for clip in clips], [transcription.text]) <= 0.45


@pytest.mark.parametrize("kind", ["silence", "white_noise"])
async def test_silence_and_noise_give_no_final(
    start_transcribe_local: StartTranscribeLocal, http: aiohttp.ClientSession, kind: str
) -> None:
    """GIVEN 5 s of digital silence, or of white noise at a fifth of full scale
    WHEN it is streamed
    THEN no final result comes, and the session closes normally.
    """
    root = await start_transcribe_local()
    if kind == "silence":
        pcm = bytes(5 * 32000)
    else:
        noise = np.random.default_rng(7).normal(0, 6500, 5 * 16000)
        pcm = np.clip(noise, -32768, 32767).astype("<i2").tobytes()

    transcription = await transcribe(http, stream_url(root), pcm)

    assert transcription.exception is None
    assert transcription.close_code == 1000
    assert transcription.finals == []


async def test_a_silent_stream_hears_empty_transcripts(
    start_transcribe_local: StartTranscribeLocal, http: aiohttp.ClientSession
) -> None:
    """GIVEN a client streaming silence at real-time pace for 4.5 s
    WHEN nothing is heard
    THEN the server still sends TranscriptEvents without results, as Transcribe does, so the
    client can tell a quiet stream from a stalled one.
    """
    root = await start_transcribe_local()

    transcription = await transcribe(http, stream_url(root), bytes(45 * 3200), real_time=True)

    assert transcription.close_code == 1000
    assert transcription.results == []
    assert transcription.empty_events >= 1


async def test_two_sessions_at_once_both_get_their_finals(
    start_transcribe_local: StartTranscribeLocal, http: aiohttp.ClientSession
) -> None:
    """GIVEN one server
    WHEN two clients stream "go forward ten meters" at the same time
    THEN each gets its own final, with its own ResultId.
    """
    root = await start_transcribe_local()
    pcm = _goforward()

    first, second = await asyncio.gather(
        transcribe(http, stream_url(root), pcm), transcribe(http, stream_url(root), pcm)
    )

    assert len(first.finals) == len(second.finals) == 1
    assert first.finals[0]["ResultId"] != second.finals[0]["ResultId"]
    assert word_error_rate([GOFORWARD_TEXT], [first.text]) <= 0.25
    assert word_error_rate([GOFORWARD_TEXT], [second.text]) <= 0.25
