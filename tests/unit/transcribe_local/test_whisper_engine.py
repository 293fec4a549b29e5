"""The whisper and hybrid engines on their own: real speech, silence and noise, the model check."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from captionist_dev.speech import goforward_clip, librivox_clips, silence, sox_noise
from captionist_transcribe_local.engines.base import Output, Recognizer, Result
from captionist_transcribe_local.engines.endpointing import EndOfUtterance, Endpointing, Speech
from captionist_transcribe_local.engines.pocketsphinx_engine import PocketsphinxEngine
from captionist_transcribe_local.engines.whisper_engine import (
    BUNDLED_MODEL_SHA256,
    ModelIntegrityError,
    WhisperEngine,
    bundled_model_path,
    verify_model,
)

CHUNK = 3200  # 100 ms


@pytest.fixture(scope="module")
def hybrid() -> Iterator[WhisperEngine]:
    engine = WhisperEngine(hybrid=True)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def whisper() -> Iterator[WhisperEngine]:
    engine = WhisperEngine(hybrid=False, partial_interval=0.5)
    yield engine
    engine.close()


def recognize(recognizer: Recognizer, pcm: bytes) -> list[Result]:
    """Feed ``pcm`` in 100 ms chunks, finish, and resolve every future in order."""
    outputs: list[Output] = []
    for offset in range(0, len(pcm), CHUNK):
        outputs += recognizer.accept(pcm[offset : offset + CHUNK])
    outputs += recognizer.finish()
    results: list[Result] = []
    for output in outputs:
        results += output.result(timeout=60) if isinstance(output, Future) else [output]
    recognizer.close()
    return results


def test_hybrid_shows_pocketsphinx_partials_then_whisper_s_final(hybrid: WhisperEngine) -> None:
    """GIVEN the LibriVox clip "he was not an ill disposed young man"
    WHEN the hybrid engine is fed it and finished
    THEN partials come first, then one final with their ResultId and whisper's punctuated text,
    whose start and end are its first word's start and last word's end, inside the audio.
    """
    clip = next(clip for clip in librivox_clips() if clip.text.startswith("he was not"))

    results = recognize(hybrid.recognizer("en-US"), clip.pcm)

    partials = [result for result in results if result.is_partial]
    finals = [result for result in results if not result.is_partial]
    assert partials
    assert results[-1] is finals[-1]
    assert len(finals) == 1
    final = finals[0]
    assert {partial.result_id for partial in partials} == {final.result_id}
    assert final.text.startswith("He was not")
    assert final.text.endswith(".")
    assert (final.start, final.end) == (final.words[0].start, final.words[-1].end)
    assert 0 <= final.start < final.end <= clip.seconds
    starts = [word.start for word in final.words]
    assert starts == sorted(starts)


def test_whisper_alone_gives_partials_and_a_final(whisper: WhisperEngine) -> None:
    """GIVEN "go forward ten meters"
    WHEN the whisper engine is fed it and finished
    THEN a final says it (whisper writes the number as digits), after at least one partial.
    """
    results = recognize(whisper.recognizer("en-US"), silence(0.5) + goforward_clip().pcm)

    finals = [result for result in results if not result.is_partial]
    assert [final.text for final in finals] == ["go forward 10 meters."]
    assert any(result.is_partial for result in results)
    assert 0.5 <= finals[0].start < finals[0].end <= 0.5 + goforward_clip().seconds


@pytest.mark.parametrize("kind", ["whitenoise", "pinknoise", "brownnoise", "silence"])
def test_noise_and_silence_give_nothing_from_any_engine(
    kind: str, hybrid: WhisperEngine, whisper: WhisperEngine
) -> None:
    """GIVEN five seconds of sox-generated noise, or of silence
    WHEN each engine is fed it and finished
    THEN no result at all comes: no invented words, not even a partial.
    """
    audio = silence(5) if kind == "silence" else sox_noise(kind, 5)

    for engine in (hybrid, whisper, PocketsphinxEngine()):
        assert recognize(engine.recognizer("en-US"), audio) == [], engine.name


def test_a_long_utterance_is_cut_into_contiguous_pieces() -> None:
    """GIVEN 2.5 s of continuous speech and a 1 s utterance limit
    WHEN it is endpointed
    THEN every utterance but the last is cut at the limit, each starting where the previous
    stopped, and all the speech is handed out once.
    """
    endpointing = Endpointing(max_utterance=1.0)
    speech = librivox_clips()[0].pcm[16_000 : 16_000 + 80_000]  # inside the first sentence

    events = [*endpointing.accept(speech), *endpointing.finish()]

    pieces: list[tuple[float, int]] = []
    for event in events:
        if isinstance(event, Speech):
            if event.first:
                pieces.append((event.start, 0))
            pieces[-1] = (pieces[-1][0], pieces[-1][1] + len(event.pcm))
    assert sum(isinstance(event, EndOfUtterance) for event in events) == len(pieces) >= 2
    for (start, size), (next_start, _) in itertools.pairwise(pieces):
        assert size >= 32_000
        assert next_start == pytest.approx(start + size / 32_000)


def test_the_bundled_model_is_checked_against_its_pinned_hashes(tmp_path: Path) -> None:
    """GIVEN the bundled model, and a copy of it with one byte of its vocabulary changed
    WHEN both are verified against the pinned sha256 digests
    THEN the original passes and the altered copy is refused, naming the file; so is a copy
    missing a file.
    """
    original = bundled_model_path()
    altered = tmp_path / "altered"
    shutil.copytree(original, altered)
    vocabulary = altered / "vocabulary.txt"
    vocabulary.write_bytes(b"X" + vocabulary.read_bytes()[1:])

    verify_model(original, BUNDLED_MODEL_SHA256)
    with pytest.raises(ModelIntegrityError, match=r"vocabulary\.txt"):
        verify_model(altered, BUNDLED_MODEL_SHA256)
    (altered / "tokenizer.json").unlink()
    with pytest.raises(ModelIntegrityError, match=r"tokenizer\.json is missing"):
        verify_model(altered, BUNDLED_MODEL_SHA256)


def _speculations(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "captionist_transcribe_local_speculations_total", {"outcome": outcome}
    )
    return value or 0.0


def test_hybrid_decodes_on_speculation_and_drops_it_when_speech_returns(
    hybrid: WhisperEngine,
) -> None:
    """GIVEN "go forward ten meters" trimmed to its words, a pause of 0.2 s in all (too short to
    end the utterance), the same words again, then a second of silence
    WHEN the hybrid engine is fed it
    THEN the decode started in the pause is abandoned when speech returns, the one started in the
    final silence becomes the final, and that final holds all eight words.
    """
    pcm = goforward_clip().pcm
    said, again = pcm[: 2 * 38_880], pcm[2 * 8_160 :]  # speech ends at 2.43 s, starts at 0.51 s
    abandoned, used = _speculations("abandoned"), _speculations("used")

    results = recognize(hybrid.recognizer("en-US"), said + silence(0.12) + again + silence(1))

    finals = [result for result in results if not result.is_partial]
    assert len(finals) == 1
    assert finals[0].text.lower().count("forward") == 2
    assert _speculations("abandoned") >= abandoned + 1
    assert _speculations("used") == used + 1
