"""CMU PocketSphinx 5: native streaming, partials as the hypothesis grows, a final per utterance.

Utterances come from :mod:`endpointing`; each is decoded by a ``Decoder`` as it arrives, and shown
once it is voiced. Word times
come from ``Decoder.seg()`` in 10 ms frames from the utterance start.
"""

from __future__ import annotations

import re
from typing import Any, Final

import pocketsphinx

from captionist_transcribe_local.engines.base import (
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

FRAMES_PER_SECOND: Final = 100  # the decoder's default -frate
MAX_HMMS_PER_FRAME: Final = 3000
# "forward(2)" is the second pronunciation of "forward" in the dictionary.
_ALTERNATE_PRONUNCIATION = re.compile(r"\(\d+\)$")


def _is_filler(word: str) -> bool:
    """``<s>``, ``</s>``, ``<sil>``, ``[NOISE]``, ``+breath+``...: not words a person said."""
    return word.startswith(("<", "[", "+"))


def result_of(result_id: str, words: tuple[Word, ...], is_partial: bool) -> Result:
    """A result spanning ``words`` (at least one), its text their texts."""
    return Result(
        result_id=result_id,
        start=words[0].start,
        end=words[-1].end,
        is_partial=is_partial,
        text=" ".join(word.text for word in words),
        words=words,
    )


class PocketsphinxRecognizer(UtteranceRecognizer):
    """One session: endpointing and a decoder over 16 kHz audio."""

    def __init__(self, endpointing: Endpointing) -> None:
        """Load the en-US model (about 0.6 s: call it off the event loop)."""
        # One forward pass only: the flat and best-path passes cost 0.35 s at every end of an
        # utterance and a third of the CPU, and scored worse on the LibriVox clips here
        # (WER 0.32 against 0.25); capping active HMMs per frame halves the CPU again.
        self._decoder: Any = pocketsphinx.Decoder(
            loglevel="FATAL", fwdflat=False, bestpath=False, maxhmmpf=MAX_HMMS_PER_FRAME
        )
        super().__init__(endpointing)
        self._utterance_start = 0.0
        self._result_id = ""
        self._last_partial = ""

    def _start_utterance(self, start: float) -> None:
        self._utterance_start = start
        self._result_id = new_result_id()
        self._last_partial = ""
        self._decoder.start_utt()

    def _feed(self, speech: Speech) -> None:
        self._decoder.process_raw(speech.pcm, False, False)

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

    def _partials(self) -> list[Output]:
        words = self._words()
        text = " ".join(word.text for word in words)
        if not words or text == self._last_partial:
            return []
        self._last_partial = text
        return [result_of(self._result_id, words, is_partial=True)]

    def _end_utterance(self, at: float) -> list[Output]:
        self._decoder.end_utt()
        words = self._words()
        if words:
            return [result_of(self._result_id, words, is_partial=False)]
        return self._close_shown_partials(at)

    def _drop_utterance(self) -> None:
        self._decoder.end_utt()

    def _close_shown_partials(self, at: float) -> list[Output]:
        """No words after all: if partials were shown, an empty final closes them for the client."""
        if not self._last_partial:
            return []
        start = min(self._utterance_start, at)
        return [Result(self._result_id, start, at, is_partial=False, text="")]


class PocketsphinxEngine(Engine):
    """PocketSphinx with the US English model bundled in its wheel."""

    name = "pocketsphinx"
    languages = frozenset({"en-US"})

    def __init__(self, endpointer_window: float = 0.3, max_utterance: float = 20) -> None:
        """Remember the endpointer's settings for every recognizer."""
        self._window = endpointer_window
        self._max_utterance = max_utterance

    def recognizer(self, language: str) -> Recognizer:
        """A new recognizer (loads the model: call it off the event loop)."""
        if language not in self.languages:
            raise ValueError(f"pocketsphinx does not recognize {language}")
        return PocketsphinxRecognizer(Endpointing(self._window, max_utterance=self._max_utterance))
