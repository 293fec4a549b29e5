"""CMU PocketSphinx 5: native streaming, partials as the hypothesis grows, a final per utterance.

The ``Endpointer`` (WebRTC VAD) splits the stream into utterances; each is decoded by a ``Decoder``
as it arrives. Word times come from ``Decoder.seg()`` in 10 ms frames from the utterance start,
which the endpointer reports in seconds from the stream start.
"""

from __future__ import annotations

import re
from typing import Any, Final

import numpy as np
import pocketsphinx

from captionist_transcribe_local.engines.base import (
    BYTES_PER_SECOND,
    SAMPLE_RATE,
    Engine,
    Recognizer,
    Result,
    Word,
    new_result_id,
)

FRAMES_PER_SECOND: Final = 100  # the decoder's default -frate
# Spectral flatness of a frame (1 for white noise, near 0 for a tone): speech frames measured
# here stay below 0.34 (95 % below 0.17), white noise frames are 0.51-0.65.
NOISE_FLATNESS: Final = 0.45
# "forward(2)" is the second pronunciation of "forward" in the dictionary.
_ALTERNATE_PRONUNCIATION = re.compile(r"\(\d+\)$")


def _gate_noise(frames: bytes, frame_bytes: int) -> bytes:
    """Turn frames of steady broadband noise into silence.

    The WebRTC VAD takes white noise for speech, and the decoder then finds words in it; a frame
    whose spectrum is flat is no voice, so the endpointer sees silence there instead.
    """
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64).reshape(-1, frame_bytes // 2)
    power = np.abs(np.fft.rfft(samples * np.hanning(samples.shape[1]), axis=1)) ** 2 + 1e-9
    flatness = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)
    noisy = flatness >= NOISE_FLATNESS
    if not noisy.any():
        return frames
    gated = np.frombuffer(frames, dtype="<i2").reshape(samples.shape).copy()
    gated[noisy] = 0
    return gated.tobytes()


def _is_filler(word: str) -> bool:
    """``<s>``, ``</s>``, ``<sil>``, ``[NOISE]``, ``+breath+``...: not words a person said."""
    return word.startswith(("<", "[", "+"))


class PocketsphinxRecognizer(Recognizer):
    """One session: an endpointer and a decoder over 16 kHz audio."""

    def __init__(self, endpointer_window: float = 0.3, endpointer_ratio: float = 0.9) -> None:
        """Load the en-US model (about 0.6 s: call it off the event loop)."""
        self._decoder: Any = pocketsphinx.Decoder(loglevel="FATAL")
        self._endpointer: Any = pocketsphinx.Endpointer(
            window=endpointer_window, ratio=endpointer_ratio, sample_rate=SAMPLE_RATE
        )
        self._frame_bytes: int = self._endpointer.frame_bytes
        self._pending = bytearray()
        self._received = 0  # bytes given to the endpointer: the stream's clock
        self._in_utterance = False
        self._utterance_start = 0.0
        self._result_id = ""
        self._last_partial = ""

    def accept(self, pcm16k: bytes) -> list[Result]:
        """Endpoint and decode whole VAD frames; a partial when the hypothesis changed."""
        self._pending += pcm16k
        results: list[Result] = []
        frame_bytes = self._frame_bytes
        usable = len(self._pending) - len(self._pending) % frame_bytes
        frames = _gate_noise(bytes(self._pending[:usable]), frame_bytes) if usable else b""
        for offset in range(0, usable, frame_bytes):
            frame = frames[offset : offset + frame_bytes]
            self._received += frame_bytes
            speech = self._endpointer.process(frame)
            if speech is None:
                continue
            self._feed(speech)
            if not self._endpointer.in_speech:
                results.extend(self._end_utterance())
        del self._pending[:usable]
        if self._in_utterance:
            results.extend(self._partial())
        return results

    def finish(self) -> list[Result]:
        """Decode what is left of an utterance still open at the end of the stream."""
        results: list[Result] = []
        if self._endpointer.in_speech:
            speech = self._endpointer.end_stream(bytes(self._pending))
            if speech is not None:
                self._feed(speech)
        self._pending.clear()
        if self._in_utterance:
            results.extend(self._end_utterance())
        return results

    def _feed(self, speech: bytes) -> None:
        if not self._in_utterance:
            self._in_utterance = True
            self._utterance_start = float(self._endpointer.speech_start)
            self._result_id = new_result_id()
            self._last_partial = ""
            self._decoder.start_utt()
        self._decoder.process_raw(speech, False, False)

    def _words(self) -> tuple[Word, ...]:
        words: list[Word] = []
        for segment in self._decoder.seg() or ():
            if _is_filler(segment.word):
                continue
            words.append(
                Word(
                    text=_ALTERNATE_PRONUNCIATION.sub("", segment.word),
                    start=round(self._utterance_start + segment.start_frame / FRAMES_PER_SECOND, 3),
                    end=round(
                        self._utterance_start + (segment.end_frame + 1) / FRAMES_PER_SECOND, 3
                    ),
                )
            )
        return tuple(words)

    def _result(self, words: tuple[Word, ...], is_partial: bool) -> Result:
        return Result(
            result_id=self._result_id,
            start=words[0].start,
            end=words[-1].end,
            is_partial=is_partial,
            text=" ".join(word.text for word in words),
            words=words,
        )

    def _partial(self) -> list[Result]:
        words = self._words()
        text = " ".join(word.text for word in words)
        if not words or text == self._last_partial:
            return []
        self._last_partial = text
        return [self._result(words, is_partial=True)]

    def _end_utterance(self) -> list[Result]:
        self._decoder.end_utt()
        self._in_utterance = False
        words = self._words()
        if words:
            return [self._result(words, is_partial=False)]
        if self._last_partial:
            # Partials were shown: close the segment so the client does not keep them forever.
            now = round(self._received / BYTES_PER_SECOND, 3)
            start = min(self._utterance_start, now)
            return [Result(self._result_id, start, now, is_partial=False, text="")]
        return []


class PocketsphinxEngine(Engine):
    """PocketSphinx with the US English model bundled in its wheel."""

    name = "pocketsphinx"
    languages = frozenset({"en-US"})

    def __init__(self, endpointer_window: float = 0.3, endpointer_ratio: float = 0.9) -> None:
        """Remember the endpointer's settings for every recognizer."""
        self._window = endpointer_window
        self._ratio = endpointer_ratio

    def recognizer(self, language: str) -> Recognizer:
        """A new recognizer (loads the model: call it off the event loop)."""
        if language not in self.languages:
            raise ValueError(f"pocketsphinx does not recognize {language}")
        return PocketsphinxRecognizer(self._window, self._ratio)
