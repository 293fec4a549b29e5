"""Finding utterances in a stream: which audio is speech, where each utterance starts and ends.

Every engine sees the same utterances: PocketSphinx's ``Endpointer`` (the WebRTC VAD with a
decision window) runs over the stream after a noise gate, and an utterance longer than
``max_utterance`` is cut so no engine ever holds more than that much audio of one session.

The WebRTC VAD also takes steady noise (a fan, traffic, sox's pink and brown noise) for speech.
So each utterance is also checked for *voicing*, the periodic pulses of vocal cords: a frame is
voiced when its (pre-emphasized) autocorrelation peaks at a pitch period of 80-400 Hz. An utterance
counts as speech once it holds ``VOICED_FRAMES`` voiced frames; engines show nothing of an
utterance before that, and drop an utterance that never gets there.
"""

from __future__ import annotations

import collections
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pocketsphinx

from captionist_transcribe_local.engines.base import (
    BYTES_PER_SECOND,
    SAMPLE_RATE,
    Output,
    Recognizer,
)

# Spectral flatness of a frame (1 for white noise, near 0 for a tone): speech frames measured
# here stay below 0.34 (95 % below 0.17), white noise frames are 0.51-0.65.
NOISE_FLATNESS: Final = 0.45
# Peak normalized autocorrelation at lags of 2.5-12.5 ms: voiced speech frames reach 0.4-0.8
# (8-14 % of the loud frames of the LibriVox clips pass 0.5), sox white, pink and brown noise
# never pass 0.2.
VOICING: Final = 0.4
VOICED_FRAMES: Final = 3
_PITCH_LAGS: Final = slice(SAMPLE_RATE // 400, SAMPLE_RATE // 80 + 1)


def gate_noise(frames: bytes, frame_bytes: int) -> tuple[bytes, np.ndarray]:
    """Frames of steady broadband noise turned into silence, and which frames are voiced.

    The WebRTC VAD takes white noise for speech, and an engine then finds words in it; a frame
    whose spectrum is flat is no voice, so the endpointer sees silence there instead.
    """
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64).reshape(-1, frame_bytes // 2)
    size = samples.shape[1]
    power = np.abs(np.fft.rfft(samples * np.hanning(size), axis=1)) ** 2 + 1e-9
    flatness = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)
    noisy = flatness >= NOISE_FLATNESS
    # Voicing: the first difference flattens low-frequency noise; the autocorrelation (via the
    # FFT, zero-padded so it is linear) of a voiced frame peaks again at the pitch period.
    emphasized = np.diff(samples, axis=1)
    emphasized -= emphasized.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(emphasized, n=2 * size, axis=1)
    correlation = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)
    peak = correlation[:, _PITCH_LAGS].max(axis=1) / (correlation[:, 0] + 1e-9)
    voiced = (peak >= VOICING) & ~noisy
    if not noisy.any():
        return frames, voiced
    gated = np.frombuffer(frames, dtype="<i2").reshape(samples.shape).copy()
    gated[noisy] = 0
    return gated.tobytes(), voiced


@dataclass(frozen=True, slots=True)
class Speech:
    """Audio of the current utterance; ``start`` is when the utterance began (stream seconds)."""

    start: float
    pcm: bytes
    first: bool  # the utterance's first audio
    voiced: bool  # the utterance so far holds voice
    talking: bool = True  # the VAD hears speech in this audio's last frame


@dataclass(frozen=True, slots=True)
class EndOfUtterance:
    """The current utterance is over; ``at`` is the stream time the end was decided."""

    at: float
    voiced: bool  # the utterance held voice; if not, it was noise


Event = Speech | EndOfUtterance


class Endpointing:
    """Splits one session's 16 kHz s16le stream into utterances."""

    def __init__(self, window: float = 0.3, ratio: float = 0.9, max_utterance: float = 20) -> None:
        """``window``/``ratio``: the endpointer's decision; ``max_utterance``: seconds per cut."""
        self._endpointer: Any = pocketsphinx.Endpointer(
            window=window, ratio=ratio, sample_rate=SAMPLE_RATE
        )
        self._frame_bytes: int = self._endpointer.frame_bytes
        # The same WebRTC VAD the endpointer decides with, frame by frame (no window).
        self._vad: Any = pocketsphinx.Vad(sample_rate=SAMPLE_RATE)
        self._max_bytes = int(max_utterance * BYTES_PER_SECOND)
        self._pending = bytearray()
        self._received = 0  # bytes given to the endpointer: the stream's clock
        self._start: float | None = None  # the open utterance's start
        self._utterance_bytes = 0
        # The last frames and whether each is voiced: an utterance starts a window back.
        self._recent: collections.deque[tuple[bytes, bool]] = collections.deque(
            maxlen=round(window / self._endpointer.frame_length) + 2
        )
        self._voiced_frames = 0
        self._continues_at: float | None = None  # where speech resumes after a cut

    @property
    def now(self) -> float:
        """Seconds of audio the endpointer has been given."""
        return self._received / BYTES_PER_SECOND

    @property
    def in_utterance(self) -> bool:
        """An utterance is open."""
        return self._start is not None

    def accept(self, pcm16k: bytes) -> Iterator[Event]:
        """Feed audio; yields the speech in it and the ends of utterances, in order.

        The endpointer decides a window late and hands its speech out a window late too; the
        audio it decided on is our own, so an utterance's audio is passed on as it comes in
        (partials then lag the audio by the engine's work only, not by the window).
        """
        self._pending += pcm16k
        usable = len(self._pending) - len(self._pending) % self._frame_bytes
        if not usable:
            return
        frames, voiced = gate_noise(bytes(self._pending[:usable]), self._frame_bytes)
        del self._pending[:usable]
        for index, offset in enumerate(range(0, usable, self._frame_bytes)):
            frame = frames[offset : offset + self._frame_bytes]
            self._received += self._frame_bytes
            self._recent.append((frame, bool(voiced[index])))
            if self._start is not None:
                self._voiced_frames += int(voiced[index])
            self._endpointer.process(frame)
            if self._endpointer.in_speech:
                yield from self._speech(frame, talking=bool(self._vad.is_speech(frame)))
            else:
                self._continues_at = None
                if self._start is not None:
                    yield self._end()

    def finish(self) -> Iterator[Event]:
        """End of stream: the rest of an open utterance, then its end."""
        if self._start is not None and self._pending:
            yield from self._speech(bytes(self._pending))
        self._pending.clear()
        if self._start is not None:
            yield self._end()

    def _speech(self, frame: bytes, talking: bool = True) -> Iterator[Event]:
        first = self._start is None
        if first:
            if self._continues_at is not None:  # after a cut: where the cut one stopped
                self._start, self._continues_at = self._continues_at, None
                opening = [(frame, self._recent[-1][1])]
            else:  # the endpointer's start lies a window back, in the recent frames
                self._start = float(self._endpointer.speech_start)
                count = round((self.now - self._start) * BYTES_PER_SECOND / self._frame_bytes)
                opening = list(self._recent)[-max(1, count) :]
            frame = b"".join(audio for audio, _ in opening)
            self._utterance_bytes = 0
            self._voiced_frames = sum(voiced for _, voiced in opening)
        assert self._start is not None
        self._utterance_bytes += len(frame)
        yield Speech(self._start, frame, first, self.voiced, talking)
        if self._utterance_bytes >= self._max_bytes:
            self._continues_at = self._start + self._utterance_bytes / BYTES_PER_SECOND
            yield self._end()

    @property
    def voiced(self) -> bool:
        """The open utterance holds voice (enough voiced frames)."""
        return self._voiced_frames >= VOICED_FRAMES

    def _end(self) -> EndOfUtterance:
        end = EndOfUtterance(self.now, self.voiced)
        self._start = None
        self._voiced_frames = 0
        return end


class UtteranceRecognizer(Recognizer):
    """A recognizer over the utterances :class:`Endpointing` finds.

    Subclasses say what happens as an utterance starts, with each piece of its audio, at its end
    (voiced) or when it turns out to be noise, and which partials an open, voiced utterance
    shows after each chunk of audio.
    """

    def __init__(self, endpointing: Endpointing) -> None:
        """Recognize the utterances ``endpointing`` finds."""
        self._endpointing = endpointing

    def accept(self, pcm16k: bytes) -> list[Output]:
        """Handle the utterances in ``pcm16k``; then the open utterance's partials, if voiced."""
        outputs = self._handle(self._endpointing.accept(pcm16k))
        if self._endpointing.in_utterance and self._endpointing.voiced:
            outputs.extend(self._partials())
        return outputs

    def finish(self) -> list[Output]:
        """End the utterance still open at the end of the stream."""
        return self._handle(self._endpointing.finish())

    def _handle(self, events: Iterable[Event]) -> list[Output]:
        outputs: list[Output] = []
        for event in events:
            if isinstance(event, Speech):
                if event.first:
                    self._start_utterance(event.start)
                self._feed(event)
            elif event.voiced:
                outputs.extend(self._end_utterance(event.at))
            else:
                self._drop_utterance()  # noise: nothing was shown, nothing is said
        return outputs

    @abstractmethod
    def _start_utterance(self, start: float) -> None:
        """An utterance begins at ``start`` (stream seconds)."""

    @abstractmethod
    def _feed(self, speech: Speech) -> None:
        """The open utterance's next audio."""

    @abstractmethod
    def _end_utterance(self, at: float) -> list[Output]:
        """The open, voiced utterance ended (decided at ``at``): its final, if any."""

    @abstractmethod
    def _drop_utterance(self) -> None:
        """The open utterance ended without voice: forget it."""

    @abstractmethod
    def _partials(self) -> list[Output]:
        """What to show of the open, voiced utterance now."""
