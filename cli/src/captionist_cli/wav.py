"""WAV files as the server wants them: signed 16-bit little-endian mono PCM, in 100 ms chunks."""

from __future__ import annotations

import sys
import wave
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK_SECONDS = 0.1
SAMPLE_WIDTH = 2  # bytes: the contract's PCM is 16-bit


class WavError(Exception):
    """A file that is not a WAV this client can send; the message is meant for the user."""


@dataclass(frozen=True)
class PcmAudio:
    """Mono signed 16-bit little-endian PCM and its sample rate."""

    sample_rate: int
    pcm: bytes

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.pcm) / SAMPLE_WIDTH / self.sample_rate


def read_wav(path: Path) -> PcmAudio:
    """Read a 16-bit PCM WAV file, mixing any channels down to mono by averaging them."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels = wav.getnchannels()
            width = wav.getsampwidth()
            rate = wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except FileNotFoundError:
        raise WavError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise WavError(f"{path}: is a directory") from None
    except OSError as error:
        raise WavError(f"{path}: cannot read it ({error.strerror or error})") from None
    except (wave.Error, EOFError) as error:
        raise WavError(f"{path}: not a PCM WAV file this client reads ({error})") from None
    if width != SAMPLE_WIDTH:
        raise WavError(
            f"{path}: {width * 8}-bit samples are not supported; only 16-bit PCM is "
            f"(convert it, e.g. `sox {path.name} -b 16 out.wav`)"
        )
    if channels < 1:
        raise WavError(f"{path}: the file declares no audio channels")
    return PcmAudio(sample_rate=rate, pcm=mix_to_mono(frames, channels))


def mix_to_mono(frames: bytes, channels: int) -> bytes:
    """Interleaved 16-bit little-endian frames of ``channels`` channels as mono (the average)."""
    if channels == 1:
        return frames
    samples = array("h")
    samples.frombytes(frames[: len(frames) - len(frames) % (SAMPLE_WIDTH * channels)])
    if sys.byteorder == "big":
        samples.byteswap()
    # Averaging can never leave the 16-bit range, so no clipping is needed.
    per_channel = (samples[c::channels] for c in range(channels))
    mono = array("h", (sum(frame) // channels for frame in zip(*per_channel, strict=True)))
    if sys.byteorder == "big":
        mono.byteswap()
    return mono.tobytes()


def chunks(audio: PcmAudio, seconds: float = CHUNK_SECONDS) -> Iterator[bytes]:
    """The audio in consecutive chunks of ``seconds`` (the last one may be shorter)."""
    size = max(1, round(audio.sample_rate * seconds)) * SAMPLE_WIDTH
    for offset in range(0, len(audio.pcm), size):
        yield audio.pcm[offset : offset + size]
