"""One streaming session: AudioEvents in, engine work off the event loop, TranscriptEvents out.

Two tasks per session: the reader (the handler's own task) decodes frames and queues audio; the
recognizer task takes the queue in order and runs every engine call in the shared thread pool, so
one session's calls never overlap or reorder while many sessions share the threads. The queue is
bounded in bytes: a client sending faster than the engine keeps up with, beyond the bound, gets
``LimitExceededException``.

Work an engine does later (a whisper decode) comes back as futures; a third task, the deliverer,
sends their results in the order the engine answered them, as each is ready, while the recognizer
task goes on with later audio. At most ``MAX_PENDING`` may wait: beyond that the engine is falling
behind the audio, and the session gets ``LimitExceededException`` too.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures import Future as ConcurrentFuture
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import numpy as np
import soxr
from aiohttp import WSCloseCode, WSMsgType, web

from captionist_core.eventstream import EventStreamError, decode, event_message, exception_message
from captionist_transcribe_local import metrics
from captionist_transcribe_local.engines.base import (
    SAMPLE_RATE,
    Engine,
    Output,
    Recognizer,
    Result,
)
from captionist_transcribe_local.protocol import (
    BAD_REQUEST,
    EMPTY_TRANSCRIPT_PAYLOAD,
    INTERNAL_FAILURE,
    LIMIT_EXCEEDED,
    StreamParameters,
    transcript_payload,
)

CLOSE_TIMEOUT: Final = 2.0
# As Transcribe does, a session that has sent nothing for this long gets an empty transcript, so
# the client knows the stream is alive while it only hears silence.
QUIET_INTERVAL: Final = 2.0
MAX_PENDING: Final = 16
_CLOSE_CODES: Final = {
    BAD_REQUEST: WSCloseCode.POLICY_VIOLATION,
    LIMIT_EXCEEDED: WSCloseCode.TRY_AGAIN_LATER,
    INTERNAL_FAILURE: WSCloseCode.INTERNAL_ERROR,
}
_T = TypeVar("_T")


class SessionError(Exception):
    """Ends a session with a Transcribe exception message (``code``) and a close."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(slots=True)
class SessionStats:
    """What the per-session summary log line reports."""

    audio_bytes: int = 0
    partials: int = 0
    finals: int = 0
    outcome: str = "client_closed"


class _Pipeline:
    """Resampler and recognizer of one session; only ever called from one thread at a time."""

    def __init__(self, engine: Engine, parameters: StreamParameters) -> None:
        self._recognizer: Recognizer = engine.recognizer(parameters.language_code)
        self._resampler: soxr.ResampleStream | None = (
            None
            if parameters.sample_rate == SAMPLE_RATE
            else soxr.ResampleStream(parameters.sample_rate, SAMPLE_RATE, 1, dtype="int16")
        )

    def _to_16k(self, pcm: bytes, last: bool) -> bytes:
        if self._resampler is None:
            return pcm
        samples = np.frombuffer(pcm, dtype="<i2")
        return bytes(self._resampler.resample_chunk(samples, last=last).astype("<i2").tobytes())

    def accept(self, pcm: bytes) -> list[Output]:
        return self._recognizer.accept(self._to_16k(pcm, last=False))

    def finish(self) -> list[Output]:
        tail = self._to_16k(b"", last=True)
        outputs = self._recognizer.accept(tail) if tail else []
        return outputs + self._recognizer.finish()

    def close(self) -> None:
        self._recognizer.close()


class StreamSession:
    """Serves one ``/stream-transcription-websocket`` connection after its upgrade."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        parameters: StreamParameters,
        engine: Engine,
        executor: Executor,
        audio_timeout: float,
        max_buffered_seconds: float,
    ) -> None:
        """Bind the session to its socket, engine and the shared thread pool."""
        self._ws = ws
        self._parameters = parameters
        self._engine = engine
        self._executor = executor
        self._audio_timeout = audio_timeout
        self._bytes_per_second = parameters.sample_rate * 2
        self._max_buffered = int(max_buffered_seconds * self._bytes_per_second)
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._buffered = 0
        self._carry = b""  # an odd trailing byte, completed by the next event
        self._failed = False
        self._last_call: Future[Any] | None = None
        self._last_sent = time.monotonic()
        # Results the engine computes later, in the order it answered them; None: no more.
        self._pending: asyncio.Queue[tuple[float, Future[list[Result]]] | None] = asyncio.Queue()
        self.stats = SessionStats()

    async def run(self) -> None:
        """Read until end of stream, error or disconnect; ``stats.outcome`` says which."""
        recognizer = asyncio.create_task(self._recognize())
        try:
            if await self._read():
                await recognizer
        except SessionError as error:
            await _cancel(recognizer)
            await self._fail(error)
        finally:
            await _cancel(recognizer)

    async def _read(self) -> bool:
        """Queue audio; True once the client ended the stream, False if the socket closed."""
        while True:
            try:
                message = await self._ws.receive(timeout=self._audio_timeout)
            except TimeoutError:
                raise SessionError(
                    BAD_REQUEST,
                    "Your request timed out because no new audio was received for "
                    f"{self._audio_timeout:g} seconds.",
                ) from None
            if message.type == WSMsgType.BINARY:
                if self._accept_frame(message.data):
                    return True
            elif message.type == WSMsgType.TEXT:
                raise SessionError(BAD_REQUEST, "Frames must be binary event-stream messages.")
            else:  # CLOSE, CLOSING, CLOSED or ERROR: the peer (or our own failure) ended it
                return False

    def _accept_frame(self, frame: bytes) -> bool:
        """Queue one AudioEvent's audio; True for the empty one that ends the stream."""
        try:
            event = decode(frame)
        except EventStreamError as error:
            raise SessionError(BAD_REQUEST, f"Could not decode the event stream: {error}") from None
        if event.message_type != "event":
            raise SessionError(BAD_REQUEST, "Only event messages are accepted.")
        if event.event_type == "ConfigurationEvent":
            return False  # channel definitions only matter for multi-channel audio
        if event.event_type != "AudioEvent":
            raise SessionError(BAD_REQUEST, f"Unexpected event type: {event.event_type}.")
        if not event.payload:
            self._queue.put_nowait(None)
            return True
        pcm = self._carry + event.payload
        usable = len(pcm) - len(pcm) % 2
        self._carry = pcm[usable:]
        self.stats.audio_bytes += len(event.payload)
        metrics.AUDIO_SECONDS.inc(len(event.payload) / self._bytes_per_second)
        if self._buffered + usable > self._max_buffered:
            raise SessionError(
                LIMIT_EXCEEDED,
                "Audio arrives faster than it can be transcribed. Send it at most as fast as "
                "real time.",
            )
        if usable:
            self._buffered += usable
            self._queue.put_nowait(pcm[:usable])
        return False

    async def _call(self, function: Callable[[], _T]) -> _T:
        started = time.perf_counter()
        future = self._executor.submit(function)
        self._last_call = future
        try:
            return await asyncio.wrap_future(future)
        finally:
            metrics.ENGINE_SECONDS.observe(time.perf_counter() - started)

    async def _recognize(self) -> None:
        """Feed queued audio to the engine in order; flush and close at end of stream."""
        pipeline: _Pipeline | None = None
        deliverer = asyncio.create_task(self._deliver())
        try:
            pipeline = await self._call(lambda: _Pipeline(self._engine, self._parameters))
            while (chunk := await self._queue.get()) is not None:
                self._buffered -= len(chunk)
                await self._output(await self._call(functools.partial(pipeline.accept, chunk)))
                if time.monotonic() - self._last_sent >= QUIET_INTERVAL:
                    await self._send_event(EMPTY_TRANSCRIPT_PAYLOAD)
            await self._output(await self._call(pipeline.finish))
            self._pending.put_nowait(None)
            await deliverer
            self.stats.outcome = "completed"
            await asyncio.wait_for(self._ws.close(code=WSCloseCode.OK), CLOSE_TIMEOUT)
        except (asyncio.CancelledError, ConnectionError, TimeoutError):
            raise
        except SessionError as error:
            await self._fail(error)
        except Exception as error:  # the engine failed: this session ends, the server stays up
            await self._fail(SessionError(INTERNAL_FAILURE, f"The engine failed: {error}"))
        finally:
            await _cancel(deliverer)
            self._drop_pending()
            if pipeline is not None:
                self._release(pipeline)

    async def _output(self, outputs: list[Output]) -> None:
        """Send results now; queue futures for the deliverer."""
        for output in outputs:
            if isinstance(output, ConcurrentFuture):
                if self._pending.qsize() >= MAX_PENDING:
                    output.cancel()
                    raise SessionError(
                        LIMIT_EXCEEDED,
                        "Transcription is falling behind the audio. Try again when the server "
                        "is less busy.",
                    )
                self._pending.put_nowait((time.perf_counter(), output))
            else:
                await self._send([output])

    async def _deliver(self) -> None:
        """Send the results of the engine's futures, in order, each as soon as it is ready."""
        while (item := await self._pending.get()) is not None:
            answered, future = item
            try:
                results = await asyncio.wrap_future(future)
            except Exception as error:
                await self._fail(SessionError(INTERNAL_FAILURE, f"The engine failed: {error}"))
                return
            metrics.DEFERRED_SECONDS.observe(time.perf_counter() - answered)
            await self._send(results)

    def _drop_pending(self) -> None:
        """Cancel the engine's work nobody will read (work already running finishes unread)."""
        while not self._pending.empty():
            item = self._pending.get_nowait()
            if item is not None:
                item[1].cancel()

    def _release(self, pipeline: _Pipeline) -> None:
        """Close the pipeline in the pool once the call still running there (if any) is done."""
        last = self._last_call
        if last is not None and not last.done():
            last.add_done_callback(lambda _: pipeline.close())
            return
        with contextlib.suppress(RuntimeError):  # the pool is already shut down
            self._executor.submit(pipeline.close)

    async def _send(self, results: list[Result]) -> None:
        for result in results:
            await self._send_event(transcript_payload(result))
            if result.is_partial:
                self.stats.partials += 1
                metrics.RESULTS.labels("partial").inc()
            else:
                self.stats.finals += 1
                metrics.RESULTS.labels("final").inc()

    async def _send_event(self, payload: bytes) -> None:
        self._last_sent = time.monotonic()
        await self._ws.send_bytes(event_message("TranscriptEvent", payload))

    async def _fail(self, error: SessionError) -> None:
        """Send the exception message and close; drop a peer that does not take them."""
        if self._failed:
            return
        self._failed = True
        self.stats.outcome = error.code
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._ws.send_bytes(exception_message(error.code, error.message))
                await self._ws.close(code=_CLOSE_CODES[error.code], message=error.code.encode())
        except (TimeoutError, ConnectionError, RuntimeError):
            await self._ws.close(code=WSCloseCode.ABNORMAL_CLOSURE)


async def _cancel(task: asyncio.Task[None]) -> None:
    if not task.done():
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
