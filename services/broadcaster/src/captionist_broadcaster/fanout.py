"""Fan-out: one read loop per active conversation, shared by all of its listeners.

A :class:`ConversationFeed` reads the segments stored since its high-water mark every
``poll_interval`` and hands each new batch, encoded to JSON once, to every listener. It re-reads a
short window below the high-water mark (``late_window_seconds``) so that a segment stored after a
newer one (two speakers, a retried queue message) is still delivered, once.

A :class:`Listener` owns a bounded buffer of encoded messages and one sender task: a slow listener
fills its own buffer and is disconnected, and never delays the others.

Joining is race-free: a listener joins the feed (buffering what it emits) before reading its
snapshot from the table, then drops from the buffer, and from the feed's next emissions, exactly
the segments its snapshot already holds.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import json
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable, Container, Sequence
from dataclasses import dataclass

import structlog

from captionist_broadcaster import metrics
from captionist_broadcaster.store import SegmentStore
from captionist_core.segment import Segment, cursor_at, cursor_timestamp

log = structlog.get_logger()


# Messages stay well under common client limits (aiohttp's default is 4 MiB).
MAX_MESSAGE_BYTES = 1 << 20


@dataclass(frozen=True)
class Batch:
    """Segments in cursor order with their message, encoded to JSON once for every listener."""

    segments: tuple[Segment, ...]
    message: str

    @functools.cached_property
    def frame(self) -> bytes:
        """The message as one websocket text frame from a server (unmasked, uncompressed).

        Server frames carry no per-connection state, so the same bytes serve every listener.
        """
        payload = self.message.encode()
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x81, size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x81, 126, size)
        else:
            header = struct.pack("!BBQ", 0x81, 127, size)
        return header + payload


def encode(kind: str, conversation: str, segments: Sequence[Segment]) -> list[Batch]:
    """``segments`` as one ``kind`` message, split into ``segments`` messages past 1 MiB."""
    parts = [
        json.dumps(segment.model_dump(mode="json"), separators=(",", ":"), ensure_ascii=False)
        for segment in segments
    ]
    batches: list[Batch] = []
    start, size = 0, 0
    for index, part in enumerate(parts):
        if index > start and size + len(part) > MAX_MESSAGE_BYTES:
            batches.append(_batch(kind, conversation, segments[start:index], parts[start:index]))
            kind, start, size = "segments", index, 0
        size += len(part) + 1
    batches.append(_batch(kind, conversation, segments[start:], parts[start:]))
    return batches


def _batch(kind: str, conversation: str, segments: Sequence[Segment], parts: list[str]) -> Batch:
    head = json.dumps({"type": kind, "conversation": conversation}, separators=(",", ":"))
    return Batch(tuple(segments), f'{head[:-1]},"segments":[{",".join(parts)}]}}')


class Listener:
    """One listener websocket's side of the fan-out: a bounded buffer and its sender.

    ``send`` sends a message, waiting while the connection is backed up. ``write_now``, when
    given, writes a ready-made frame only if the connection takes it without waiting and says
    whether it did: most messages to listeners that keep up go out that way, with no task switch.
    """

    def __init__(
        self,
        conversation: str,
        send: Callable[[str], Awaitable[None]],
        limit_bytes: int,
        write_now: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.conversation = conversation
        self._send = send
        self._write_now = write_now
        self._limit = limit_bytes
        self._pending: deque[str] = deque()
        self._pending_bytes = 0
        self._wakeup = asyncio.Event()
        self._joining: list[list[Batch]] | None = []
        self._skip: dict[str, str] = {}  # id -> cursor, sent in the snapshot, not yet emitted
        self.overflowed = False
        self.delivered = 0
        self.sender: asyncio.Task[None] | None = None

    def offer(self, emission: list[Batch]) -> int:
        """Queue what a feed found in one read (called by the feed, never blocks).

        A listener still holding more than its budget of unsent messages from earlier reads is
        too slow and is dropped; a single large read never is. Returns the segments queued.
        """
        if self._joining is not None:
            self._joining.append(emission)
            return 0
        if self._pending_bytes > self._limit:
            self._overflow()
        return sum(
            self._queue_filtered(batch) if self._skip else self._queue(batch) for batch in emission
        )

    def admit(
        self, snapshot: Sequence[Segment], feed_floor: str, feed_seen: Container[str]
    ) -> None:
        """Queue the snapshot, then what the feed emitted while the snapshot was being read."""
        queued = sum(
            self._queue(batch) for batch in encode("snapshot", self.conversation, snapshot)
        )
        joining, self._joining = self._joining or [], None
        self._skip = {segment.id: segment.cursor for segment in snapshot}
        queued += sum(self._queue_filtered(batch) for emission in joining for batch in emission)
        metrics.SEGMENTS_DELIVERED.inc(queued)
        # From now on the feed only emits what it has not seen: skip those the snapshot holds.
        self._skip = {
            segment_id: cursor
            for segment_id, cursor in self._skip.items()
            if segment_id not in feed_seen and cursor > feed_floor
        }

    def forget_below(self, floor: str) -> None:
        """Stop waiting for snapshot segments the feed will no longer read."""
        if self._skip:
            self._skip = {key: cursor for key, cursor in self._skip.items() if cursor > floor}

    def _queue_filtered(self, batch: Batch) -> int:
        fresh = [segment for segment in batch.segments if segment.id not in self._skip]
        for segment in batch.segments:
            self._skip.pop(segment.id, None)
        if len(fresh) == len(batch.segments):
            return self._queue(batch)
        return sum(self._queue(part) for part in encode("segments", self.conversation, fresh))

    def _queue(self, batch: Batch) -> int:
        if self.overflowed:
            return 0
        self.delivered += len(batch.segments)
        if not self._pending and self._write_now is not None and self._write_now(batch.frame):
            return len(batch.segments)
        self._pending.append(batch.message)
        self._pending_bytes += len(batch.message)
        self._wakeup.set()
        return len(batch.segments)

    def _overflow(self) -> None:
        if self.overflowed:
            return
        self.overflowed = True
        self._pending.clear()
        self._pending_bytes = 0
        metrics.SLOW_LISTENERS.inc()
        if self.sender is not None:
            # It may be stuck writing to a peer that stopped reading.
            self.sender.cancel()
        self._wakeup.set()

    def start_sending(self) -> asyncio.Task[None]:
        """Start the task that sends queued messages in order, until the buffer overflows."""
        self.sender = asyncio.create_task(self._send_forever())
        return self.sender

    async def _send_forever(self) -> None:
        while not self.overflowed:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending and not self.overflowed:
                message = self._pending.popleft()
                self._pending_bytes -= len(message)
                await self._send(message)


class ConversationFeed:
    """The one read loop of a conversation in this process."""

    def __init__(
        self,
        conversation: str,
        store: SegmentStore,
        *,
        poll_interval: float,
        late_window_ms: int,
        settle_ms: int,
        history_ms: int,
    ) -> None:
        self.conversation = conversation
        self.listeners: set[Listener] = set()
        self.ready = asyncio.Event()
        self._store = store
        self._interval = poll_interval
        self._late_ms = late_window_ms
        self._settle_ms = settle_ms
        self._history_ms = max(history_ms, late_window_ms)
        self._high = cursor_at(_now_ms() - late_window_ms)
        self.seen: dict[str, str] = {}  # id -> cursor of everything read above the floor
        # What the feed has read of the last `history_ms`, complete above `_history_floor`: the
        # snapshots of joining listeners come from here rather than from one query each.
        self._history: list[Segment] = []
        self._history_floor = cursor_at(_now_ms() - self._history_ms)
        self._task: asyncio.Task[None] | None = None

    @property
    def floor(self) -> str:
        """Segments at or below this cursor are no longer read by this feed."""
        return cursor_at(cursor_timestamp(self._high) - self._late_ms)

    def snapshot_after(self, cursor: str) -> list[Segment] | None:
        """The segments read so far with a cursor above ``cursor``, in cursor order; None when
        this feed's history does not reach that far back (then the table must be queried)."""
        if not self.ready.is_set() or cursor < self._history_floor:
            return None
        start = bisect.bisect_right(self._history, cursor, key=_cursor)
        return self._history[start:]

    def start(self) -> None:
        """Start the read loop."""
        self._task = asyncio.create_task(self._run(), name=f"feed:{self.conversation}")

    async def stop(self) -> None:
        """Stop the read loop and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        failures = 0
        while True:
            started = time.perf_counter()
            try:
                # The first read covers the whole history the feed keeps; later ones its window.
                floor = self.floor if self.ready.is_set() else self._history_floor
                found = await self._store.after(self.conversation, floor)
            except Exception:  # any store failure: keep the loop, back off, try again
                failures += 1
                metrics.POLLS.labels("error").inc()
                log.warning("poll_failed", conversation=self.conversation, exc_info=True)
                await asyncio.sleep(min(self._interval * 2**failures, 5.0))
                continue
            failures = 0
            metrics.POLLS.labels("ok").inc()
            metrics.POLL_SECONDS.observe(time.perf_counter() - started)
            self._absorb(found, emit=self.ready.is_set())
            self.ready.set()
            await asyncio.sleep(max(0.0, self._interval - (time.perf_counter() - started)))

    def _absorb(self, found: list[Segment], *, emit: bool) -> None:
        """Take the segments just read; emit the unseen ones (the first read is a baseline)."""
        settled_before = _now_ms() - self._settle_ms
        fresh = [
            segment
            for segment in found
            if segment.id not in self.seen and (not emit or segment.timestamp <= settled_before)
        ]
        if not fresh:
            return
        for segment in fresh:
            self.seen[segment.id] = segment.cursor
            bisect.insort(self._history, segment, key=_cursor)
        if emit:
            self._emit(fresh)
        self._high = max(self._high, fresh[-1].cursor)
        floor = self.floor
        self.seen = {key: cursor for key, cursor in self.seen.items() if cursor > floor}
        history_floor = cursor_at(_now_ms() - self._history_ms)
        if history_floor > self._history_floor:
            del self._history[: bisect.bisect_right(self._history, history_floor, key=_cursor)]
            self._history_floor = history_floor
        for listener in self.listeners:
            listener.forget_below(floor)

    def _emit(self, fresh: list[Segment]) -> None:
        late = sum(1 for segment in fresh if segment.cursor < self._high)
        if late:
            metrics.LATE_SEGMENTS.inc(late)
        now = _now_ms()
        for segment in fresh:
            metrics.DELIVERY_LAG.observe(max(0, now - segment.timestamp) / 1000)
        emission = encode("segments", self.conversation, fresh)
        queued = sum(listener.offer(emission) for listener in self.listeners)
        metrics.SEGMENTS_DELIVERED.inc(queued)


class FeedHub:
    """This process's feeds, one per conversation that has listeners."""

    def __init__(
        self,
        store: SegmentStore,
        *,
        poll_interval: float,
        late_window_ms: int,
        settle_ms: int,
        history_ms: int,
    ) -> None:
        self._store = store
        self._options = {
            "poll_interval": poll_interval,
            "late_window_ms": late_window_ms,
            "settle_ms": settle_ms,
            "history_ms": history_ms,
        }
        self._feeds: dict[str, ConversationFeed] = {}

    def __len__(self) -> int:
        return len(self._feeds)

    def join(self, listener: Listener) -> ConversationFeed:
        """Attach ``listener`` to its conversation's feed, starting the feed if needed."""
        feed = self._feeds.get(listener.conversation)
        if feed is None:
            feed = ConversationFeed(
                listener.conversation,
                self._store,
                poll_interval=float(self._options["poll_interval"]),
                late_window_ms=int(self._options["late_window_ms"]),
                settle_ms=int(self._options["settle_ms"]),
                history_ms=int(self._options["history_ms"]),
            )
            self._feeds[listener.conversation] = feed
            feed.start()
            metrics.ACTIVE_CONVERSATIONS.set(len(self._feeds))
        feed.listeners.add(listener)
        return feed

    async def leave(self, listener: Listener) -> None:
        """Detach ``listener``; the feed stops when its last listener leaves."""
        feed = self._feeds.get(listener.conversation)
        if feed is None:
            return
        feed.listeners.discard(listener)
        if not feed.listeners:
            del self._feeds[listener.conversation]
            metrics.ACTIVE_CONVERSATIONS.set(len(self._feeds))
            await feed.stop()

    async def close(self) -> None:
        """Stop every feed."""
        feeds, self._feeds = list(self._feeds.values()), {}
        metrics.ACTIVE_CONVERSATIONS.set(0)
        await asyncio.gather(*(feed.stop() for feed in feeds))


def _cursor(segment: Segment) -> str:
    return segment.cursor


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
