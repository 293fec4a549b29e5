"""The interface every speech engine implements.

An :class:`Engine` is loaded once per process and opens one :class:`Recognizer` per session. A
recognizer is fed 16 kHz s16le mono PCM and answers :class:`Result` objects: partials that repeat a
``result_id`` with growing text, then one final with the same id.

Work that takes long (a whisper decode) need not hold up the stream: a recognizer may answer a
:class:`~concurrent.futures.Future` of results instead, computed elsewhere. The server sends each
session's futures' results in the order they were answered, as soon as each is done, while the
session's later audio is already being recognized.

A recognizer is not thread-safe; the server calls it from one worker at a time, in order.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Final

SAMPLE_RATE: Final = 16_000
BYTES_PER_SECOND: Final = SAMPLE_RATE * 2


@dataclass(frozen=True, slots=True)
class Word:
    """One recognized word, in seconds of audio since the session started."""

    text: str
    start: float
    end: float
    # Transcribe's Stable flag: None when the engine does not say (the key is then left out).
    stable: bool | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """A hypothesis for one segment of speech: partial (may still change) or final."""

    result_id: str
    start: float
    end: float
    is_partial: bool
    text: str
    words: tuple[Word, ...] = field(default=())


# What a recognizer answers: results now, or results still being computed.
Output = Result | Future[list[Result]]


def new_result_id() -> str:
    """A fresh id for a segment's results (Transcribe uses UUIDs)."""
    return str(uuid.uuid4())


class Recognizer(ABC):
    """One session's streaming recognizer."""

    @abstractmethod
    def accept(self, pcm16k: bytes) -> list[Output]:
        """Feed 16 kHz s16le mono audio (any even length); return results it produced, in order."""

    @abstractmethod
    def finish(self) -> list[Output]:
        """End of stream: flush and return the remaining results, every open segment as final."""

    def close(self) -> None:  # noqa: B027 - optional hook, most engines need nothing
        """Release what the recognizer holds; called once, after ``finish`` or on abort."""


class Engine(ABC):
    """A loaded speech model that opens recognizers."""

    name: str
    languages: frozenset[str]

    @abstractmethod
    def recognizer(self, language: str) -> Recognizer:
        """A new recognizer for one session in ``language`` (one of ``languages``)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the engine holds (threads, models); called once at shutdown."""
