"""Bookkeeping of a session's audio: its timeline and what is kept for replay.

Upstream times (Transcribe's StartTime/EndTime) count every sample sent upstream, keepalive silence
included; the contract's ``start``/``end`` count only the speaker's audio. :class:`Timeline` maps
one to the other. :class:`ReplayBuffer` keeps the audio sent since the last final so that a new
upstream stream can be fed it again when the first one fails (transparent reconnection); upstream
times then count across streams, from the first stream's first byte.
"""

from __future__ import annotations

from collections import deque
from typing import Final

BYTES_PER_SAMPLE: Final = 2  # signed 16-bit little-endian mono


def pcm_seconds(size: int, sample_rate: int) -> float:
    """Seconds of audio in ``size`` bytes of PCM at ``sample_rate``."""
    return size / (BYTES_PER_SAMPLE * sample_rate)


def silence(milliseconds: int, sample_rate: int) -> bytes:
    """``milliseconds`` of digital silence at ``sample_rate``."""
    return bytes(BYTES_PER_SAMPLE * (sample_rate * milliseconds // 1000))


class Timeline:
    """Where the silence that ingest inserted sits in the upstream audio."""

    def __init__(self, sample_rate: int) -> None:
        """An empty timeline of audio at ``sample_rate``."""
        self._sample_rate = sample_rate
        self._sent_bytes = 0
        # (upstream start, length) of each run of inserted silence, in seconds, in order.
        self._gaps: list[tuple[float, float]] = []

    @property
    def upstream_seconds(self) -> float:
        """Seconds of audio sent upstream so far, inserted silence included."""
        return pcm_seconds(self._sent_bytes, self._sample_rate)

    def speaker_audio(self, size: int) -> None:
        """Record ``size`` bytes of the speaker's audio sent upstream."""
        self._sent_bytes += size

    def inserted_silence(self, size: int) -> None:
        """Record ``size`` bytes of silence that ingest sent upstream on its own."""
        at, length = self.upstream_seconds, pcm_seconds(size, self._sample_rate)
        if self._gaps and abs(sum(self._gaps[-1]) - at) < 1e-9:
            # Back-to-back keepalives are one gap: the list grows per pause, not per chunk.
            previous_at, previous_length = self._gaps[-1]
            self._gaps[-1] = (previous_at, previous_length + length)
        else:
            self._gaps.append((at, length))
        self._sent_bytes += size

    def to_speaker(self, upstream_time: float) -> float:
        """The speaker's audio time of ``upstream_time``; inside a gap, the gap's start."""
        shift = 0.0
        for at, length in self._gaps:
            if upstream_time <= at:
                break
            shift += min(length, upstream_time - at)
        return round(max(upstream_time - shift, 0.0), 3)


class ReplayBuffer:
    """The audio sent upstream since the last final, at most ``max_bytes`` of it."""

    def __init__(self, max_bytes: int) -> None:
        """An empty buffer holding at most ``max_bytes``."""
        self._max_bytes = max_bytes
        self._chunks: deque[tuple[int, bytes]] = deque()  # (upstream byte offset, audio)
        self._size = 0
        self._end = 0
        self.dropped_bytes = 0

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._size

    @property
    def start(self) -> int:
        """Upstream byte offset of the oldest byte held (the end when empty)."""
        return self._chunks[0][0] if self._chunks else self._end

    def append(self, chunk: bytes) -> None:
        """Keep ``chunk``, the next audio sent upstream; the oldest audio goes past the bound."""
        self._chunks.append((self._end, chunk))
        self._end += len(chunk)
        self._size += len(chunk)
        while self._size > self._max_bytes and self._chunks:
            _, oldest = self._chunks.popleft()
            self._size -= len(oldest)
            self.dropped_bytes += len(oldest)

    def release_before(self, offset: int) -> None:
        """Forget the chunks that end at or before upstream byte ``offset`` (a final's end)."""
        while self._chunks and self._chunks[0][0] + len(self._chunks[0][1]) <= offset:
            _, chunk = self._chunks.popleft()
            self._size -= len(chunk)

    def replay_from(self, offset: int) -> tuple[int, list[bytes]]:
        """The chunks held from upstream byte ``offset`` on (trimmed), and where they start.

        ``offset`` is the last final's end: audio a final already covered is not fed again.
        """
        start = max(self.start, offset)
        chunks = []
        for at, chunk in self._chunks:
            if at + len(chunk) <= start:
                continue
            chunks.append(chunk[max(start - at, 0) :])
        return start, chunks

    def pending(self) -> bytes:
        """Every byte held, oldest first: what a new upstream stream would be fed again."""
        return b"".join(chunk for _, chunk in self._chunks)
