"""One speaker's session: their websocket, one Transcribe stream, and the queue.

Three tasks run per session: the speaker reader (validates frames, queues audio), the upstream
feeder (AudioEvents out, silence when the speaker pauses, the empty AudioEvent at the end) and the
transcript reader (partials to the speaker; finals to the queue, then to the speaker). When the
stream fails in a way a new one may get past, a new stream is opened, fed the audio since the last
final, and the feeder and transcript reader start again on it (README: "Upstream recovery").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from captionist_core.eventstream import audio_event
from captionist_core.segment import Segment
from captionist_core.web import error_message
from captionist_ingest import metrics
from captionist_ingest.audio import ReplayBuffer, Timeline, pcm_seconds, silence
from captionist_ingest.credentials import CredentialSource
from captionist_ingest.publisher import PublishError, SegmentPublisher
from captionist_ingest.settings import IngestSettings
from captionist_ingest.upstream import (
    RETRYABLE_KINDS,
    Result,
    UpstreamError,
    lost_error,
    open_stream,
    protocol_error,
    read_message,
    stream_params,
)

log = structlog.get_logger()

MAX_FRAME_BYTES: Final = 64 * 1024
# Above the contract's limit, so that a frame too large (up to 1 MiB) is read and answered with an
# error message; aiohttp itself closes with 1009 on anything larger still.
MAX_MESSAGE_SIZE: Final = 1 << 20
CLOSE_TIMEOUT: Final = 2.0
MAX_TEXT_LENGTH: Final = 10_000
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_.:-]")


@dataclass(frozen=True, slots=True)
class SpeakerRequest:
    """The validated query of a speaker's websocket."""

    conversation: str
    speaker: str
    language: str
    sample_rate: int


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a session ends early: the ``error`` message's code and text, and the close code."""

    code: str
    close_code: WSCloseCode
    message: str


def segment_id(session: str, result_id: str) -> str:
    """A segment id unique across sessions and stable for one result: ``<session>-<resultId>``."""
    return _UNSAFE_ID_CHARS.sub("_", f"{session}-{result_id}")[:128]


def now_ms() -> int:
    """Epoch milliseconds now."""
    return time.time_ns() // 1_000_000


def _is_end(text: str) -> bool:
    try:
        document = json.loads(text)
    except ValueError:
        return False
    return isinstance(document, dict) and document.get("type") == "end"


class Session:
    """Runs one speaker's session from the upgrade to the close."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: SpeakerRequest,
        session_id: str,
        settings: IngestSettings,
        publisher: SegmentPublisher,
    ) -> None:
        """A session for the speaker on ``ws``; nothing runs before :meth:`run`."""
        self.ws = ws
        self.request = request
        self.id = session_id
        self.settings = settings
        self.publisher = publisher
        rate = request.sample_rate
        self._bytes_per_second = 2 * rate
        self._max_ahead_bytes = int(settings.max_buffered_audio_seconds * self._bytes_per_second)
        # Bounded in bytes by the speaker reader (too_fast), so the queue itself is unbounded.
        self._audio: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._queued_bytes = 0
        self.timeline = Timeline(rate)
        self.replay = ReplayBuffer(int(settings.replay_buffer_seconds * self._bytes_per_second))
        self._keepalive = silence(settings.keepalive_chunk_ms, rate)
        self.state = "connecting"
        self.ending = False
        self.started = time.monotonic()
        # Monotonic times of the last speaker audio sent upstream and the last upstream message.
        self._last_audio_sent = 0.0
        self._last_upstream_message = 0.0
        self.received_bytes = 0
        self.keepalive_bytes = 0
        self.partials = 0
        self.finals = 0
        self.outcome = "closed"
        self.reconnects = 0
        # Upstream byte offset (ingest's whole upstream timeline, across streams) where the current
        # stream's audio starts, and where the last final ended.
        self._stream_base = 0
        self._final_end = 0
        # Monotonic deadline of the recovery under way; reset once a new stream answers.
        self._recovery_deadline: float | None = None
        # ResultIds of the finals sent: a reopened stream's ids are new, but never trusted to be.
        self._final_result_ids: set[str] = set()
        self._http: aiohttp.ClientSession | None = None
        self._credentials: CredentialSource | None = None

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio the speaker sent."""
        return pcm_seconds(self.received_bytes, self.request.sample_rate)

    @property
    def replay_dropped_seconds(self) -> float:
        """Unfinalized audio dropped from the replay buffer during an outage longer than it."""
        return self.replay.dropped_bytes / self._bytes_per_second

    @property
    def keepalive_seconds(self) -> float:
        """Seconds of silence sent upstream while the speaker sent nothing."""
        return pcm_seconds(self.keepalive_bytes, self.request.sample_rate)

    async def run(self, http: aiohttp.ClientSession, credentials: CredentialSource) -> None:
        """Open the upstream stream, relay until either side ends, flush, close the speaker."""
        self._http, self._credentials = http, credentials
        try:
            self._upstream = await self._open(http, credentials, self.settings.connect_timeout)
        except UpstreamError as error:
            await self._fail_upstream(error)
            return
        try:
            await self._send(
                {
                    "type": "ready",
                    "conversation": self.request.conversation,
                    "session": self.id,
                    "sampleRate": self.request.sample_rate,
                }
            )
            self.started = time.monotonic()
            await self._set_state("live", "Transcribing")
            await self._relay()
        finally:
            await self._upstream.close()

    async def _open(
        self, http: aiohttp.ClientSession, credentials: CredentialSource, within: float
    ) -> aiohttp.ClientWebSocketResponse:
        frozen = await credentials.current()
        if frozen is None:
            raise UpstreamError(
                "rejected",
                "upstream_rejected",
                WSCloseCode.INTERNAL_ERROR,
                "Ingest has no credentials for the transcription service",
            )
        params = stream_params(
            self.request.language,
            self.request.sample_rate,
            self.settings.partial_results_stability,
        )
        return await open_stream(
            http,
            self.settings.transcribe_url,
            self.settings.aws_region,
            frozen,
            params,
            within,
        )

    async def _relay(self) -> None:
        speaker = asyncio.create_task(self._read_speaker())
        replay: list[bytes] = []
        try:
            while True:
                upstream = self._upstream
                feeder = asyncio.create_task(self._feed_upstream(upstream, replay))
                transcripts = asyncio.create_task(self._read_upstream(upstream))
                try:
                    await asyncio.wait({speaker, transcripts}, return_when=asyncio.FIRST_COMPLETED)
                    if transcripts.done() and (error := self._recoverable(transcripts)):
                        await _cancel(feeder)
                        recovered = await self._reconnect(error)
                        if recovered is None:
                            return
                        replay = recovered
                        continue
                    if not speaker.done():
                        await _cancel(speaker)
                        await self._fail_from(transcripts)
                        return
                    failure = speaker.result()
                    if failure is not None:
                        # The speaker hears at once; audio already sent still yields its finals.
                        await self._close_with_error(failure)
                    await self._flush(transcripts, feeder)
                    if failure is None and not self.ws.closed:
                        await self.ws.close(code=WSCloseCode.OK, message=b"end")
                        self.outcome = "end"
                    return
                finally:
                    for task in (feeder, transcripts):
                        await _cancel(task)
        finally:
            await _cancel(speaker)

    def _recoverable(self, transcripts: asyncio.Task[None]) -> UpstreamError | None:
        """The error ``transcripts`` failed with if a new stream may get past it."""
        error = transcripts.exception()
        if (
            isinstance(error, UpstreamError)
            and error.kind in RETRYABLE_KINDS
            and self.settings.reconnect_timeout > 0
        ):
            return error
        return None

    async def _reconnect(
        self, error: UpstreamError, until: float | None = None
    ) -> list[bytes] | None:
        """Open a new stream within the budget (and ``until``, a monotonic time, if given); the
        audio to replay, or ``None`` (reported)."""
        metrics.UPSTREAM_ERRORS.labels(error.kind).inc()
        log.warning("upstream_interrupted", kind=error.kind, code=error.code)
        if self._recovery_deadline is None:
            self._recovery_deadline = time.monotonic() + self.settings.reconnect_timeout
        deadline = self._recovery_deadline if until is None else min(self._recovery_deadline, until)
        await self._set_state(
            "reconnecting", "The transcription service connection was interrupted; reconnecting"
        )
        await self._upstream.close()
        assert self._http is not None
        assert self._credentials is not None
        holder = asyncio.create_task(self._hold_audio())
        last = error
        opened: aiohttp.ClientWebSocketResponse | None = None
        delay = self.settings.reconnect_backoff
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    opened = await self._open(
                        self._http,
                        self._credentials,
                        min(self.settings.connect_timeout, remaining),
                    )
                    break
                except UpstreamError as failure:
                    last = failure
                    if failure.kind not in RETRYABLE_KINDS:
                        break
                await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0)))
                delay = min(delay * 2, self.settings.reconnect_backoff_max)
        finally:
            await _cancel(holder)
        if opened is None:
            metrics.UPSTREAM_RECONNECTS.labels("failed").inc()
            if last is not error:
                metrics.UPSTREAM_ERRORS.labels(last.kind).inc()
            log.warning("upstream_failed", kind=last.kind, code=last.code, reconnecting=True)
            await self._close_with_error(Failure(last.code, last.close_code, last.message))
            return None
        self._upstream = opened
        self.reconnects += 1
        metrics.UPSTREAM_RECONNECTS.labels("recovered").inc()
        self._stream_base, replay = self.replay.replay_from(self._final_end)
        log.info("upstream_reconnected", replay_bytes=sum(len(chunk) for chunk in replay))
        await self._set_state("live", "Transcribing")
        return replay

    async def _hold_audio(self) -> None:
        """While no stream is open, keep the speaker's audio for replay (bounded by its buffer)."""
        while True:
            chunk = await self._audio.get()
            if chunk is None:  # the end, queued when flushing: :meth:`_flush` queues it again
                return
            self._queued_bytes -= len(chunk)
            self.timeline.speaker_audio(len(chunk))
            self.replay.append(chunk)

    async def _flush(self, transcripts: asyncio.Task[None], feeder: asyncio.Task[None]) -> None:
        """End the upstream stream and wait (bounded) for the finals it still holds.

        A stream that fails meanwhile in a way a new one may get past is reopened, fed the audio
        since the last final and ended again, all within the same ``END_TIMEOUT``.
        """
        self.ending = True
        self._audio.put_nowait(None)
        deadline = time.monotonic() + self.settings.end_timeout
        reopened: list[asyncio.Task[None]] = []
        try:
            while True:
                left = max(deadline - time.monotonic(), 0)
                done, _ = await asyncio.wait({transcripts}, timeout=left)
                if not done:
                    metrics.UPSTREAM_ERRORS.labels("lost").inc()
                    await self._close_with_error(
                        Failure(
                            "upstream_timeout",
                            WSCloseCode.INTERNAL_ERROR,
                            "The transcription service did not finish in time; "
                            "finals may be missing",
                        )
                    )
                    return
                error = self._recoverable(transcripts)
                if error is None:
                    await self._fail_from(transcripts)
                    return
                await _cancel(feeder)
                replay = await self._reconnect(error, until=deadline)
                if replay is None:
                    return
                self._audio.put_nowait(None)  # the new stream ends right after its replay
                upstream = self._upstream
                feeder = asyncio.create_task(self._feed_upstream(upstream, replay))
                transcripts = asyncio.create_task(self._read_upstream(upstream))
                reopened += [feeder, transcripts]
        finally:
            for task in reopened:
                await _cancel(task)

    async def _fail_from(self, transcripts: asyncio.Task[None]) -> None:
        """End the session with the error ``transcripts`` failed with, if it failed."""
        error = transcripts.exception()
        if isinstance(error, UpstreamError):
            await self._fail_upstream(error)
        elif isinstance(error, PublishError):
            await self._close_with_error(
                Failure(
                    "queue_unavailable",
                    WSCloseCode.INTERNAL_ERROR,
                    "A final segment could not be stored; the session was stopped",
                )
            )
        elif error is not None:
            log.error("transcript_reader_failed", exc_info=error)
            await self._close_with_error(
                Failure("internal_error", WSCloseCode.INTERNAL_ERROR, "Ingest failed")
            )

    async def _fail_upstream(self, error: UpstreamError) -> None:
        metrics.UPSTREAM_ERRORS.labels(error.kind).inc()
        log.warning("upstream_failed", kind=error.kind, code=error.code)
        await self._close_with_error(Failure(error.code, error.close_code, error.message))

    async def _read_speaker(self) -> Failure | None:
        """Queue the speaker's audio until they end, leave, or send something they must not."""
        async for message in self.ws:
            if message.type is WSMsgType.BINARY:
                if failure := self._accept_audio(message.data):
                    return failure
            elif message.type is WSMsgType.TEXT:
                if _is_end(message.data):
                    return None
                return Failure(
                    "unsupported_message",
                    WSCloseCode.UNSUPPORTED_DATA,
                    'Text frames other than {"type":"end"} are not supported',
                )
        return None

    def _accept_audio(self, data: bytes) -> Failure | None:
        size = len(data)
        if size > MAX_FRAME_BYTES:
            return Failure(
                "frame_too_large",
                WSCloseCode.MESSAGE_TOO_BIG,
                f"Audio frames carry at most {MAX_FRAME_BYTES} bytes",
            )
        if size % 2:
            return Failure(
                "invalid_audio",
                WSCloseCode.UNSUPPORTED_DATA,
                "Audio is 16-bit PCM: a frame has an even number of bytes",
            )
        if size == 0:
            return None  # an empty AudioEvent would end the upstream stream
        self.received_bytes += size
        metrics.AUDIO_BYTES.inc(size)
        metrics.AUDIO_SECONDS.inc(pcm_seconds(size, self.request.sample_rate))
        ahead = self.audio_seconds - (time.monotonic() - self.started)
        if ahead > self.settings.max_buffered_audio_seconds:
            return Failure(
                "too_fast",
                WSCloseCode.TRY_AGAIN_LATER,
                "Audio is arriving faster than real time; send it as it is captured",
            )
        if self._queued_bytes + size > self._max_ahead_bytes:
            return Failure(
                "falling_behind",
                WSCloseCode.TRY_AGAIN_LATER,
                "The transcription service is not keeping up with your audio; try again later",
            )
        self._queued_bytes += size
        self._audio.put_nowait(data)
        return None

    async def _feed_upstream(
        self, upstream: aiohttp.ClientWebSocketResponse, replay: list[bytes]
    ) -> None:
        """Send ``replay``, then queued audio; silence while the speaker pauses; the end marker."""
        try:
            for held in replay:
                await upstream.send_bytes(audio_event(held))
                self._last_audio_sent = time.monotonic()
            while True:
                if self._audio.empty():
                    try:
                        async with asyncio.timeout(self.settings.keepalive_seconds):
                            first = await self._audio.get()
                    except TimeoutError:
                        # Transcribe ends a stream that gets no audio for 15 s.
                        self.timeline.inserted_silence(len(self._keepalive))
                        self.keepalive_bytes += len(self._keepalive)
                        metrics.KEEPALIVE_SECONDS.inc(
                            pcm_seconds(len(self._keepalive), self.request.sample_rate)
                        )
                        await self._send_audio(upstream, self._keepalive)
                        continue
                else:  # behind: take what is queued without a timer per chunk
                    first = self._audio.get_nowait()
                if first is None:
                    await upstream.send_bytes(audio_event(b""))
                    return
                self._queued_bytes -= len(first)
                self.timeline.speaker_audio(len(first))
                await self._send_audio(upstream, first)
                self._last_audio_sent = time.monotonic()
        except (ConnectionError, aiohttp.ClientError, RuntimeError):
            return  # the transcript reader sees the stream close and reports it

    async def _send_audio(self, upstream: aiohttp.ClientWebSocketResponse, chunk: bytes) -> None:
        self.replay.append(chunk)
        await upstream.send_bytes(audio_event(chunk))

    async def _read_upstream(self, upstream: aiohttp.ClientWebSocketResponse) -> None:
        """Relay results until the stream closes; raise ``UpstreamError`` or ``PublishError``."""
        while True:
            try:
                message = await upstream.receive(timeout=self.settings.stall_seconds)
            except TimeoutError:
                if self._last_audio_sent <= self._last_upstream_message:
                    continue  # nothing was said since its last answer: silence is not a stall
                await self._set_state(
                    "stalled",
                    f"No answer from the transcription service for "
                    f"{self.settings.stall_seconds:g} s",
                )
                continue
            if message.type is WSMsgType.BINARY:
                self._last_upstream_message = time.monotonic()
                results = read_message(message.data)
                self._recovery_deadline = None  # this stream works: a new failure has a new budget
                await self._set_state("live", "Transcribing")
                for result in results:
                    await self._relay_result(result)
            elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                # After the end marker, a close frame ends the stream; a connection that just
                # went away (no close frame) may have taken the last finals with it.
                if self.ending and message.type is WSMsgType.CLOSE:
                    return
                raise lost_error()
            elif message.type is WSMsgType.ERROR:
                raise lost_error()
            else:
                raise protocol_error()

    async def _relay_result(self, result: Result) -> None:
        # Times count from the start of this stream's audio: its replay, when it replaced another.
        base = self._stream_base / self._bytes_per_second
        start = self.timeline.to_speaker(base + result.start)
        end = max(self.timeline.to_speaker(base + result.end), start)
        if result.is_partial:
            self.partials += 1
            metrics.PARTIALS.inc()
            await self._send(
                {
                    "type": "partial",
                    "resultId": result.result_id,
                    "text": result.text,
                    "start": start,
                    "end": end,
                }
            )
            return
        final_end = self._stream_base + int(result.end * self.request.sample_rate) * 2
        if self.reconnects and final_end <= self._final_end:
            return  # a replayed stream repeating what an acknowledged final already covered
        self._final_end = max(self._final_end, final_end)
        self.replay.release_before(self._final_end)
        if not result.text:
            return
        arrived = time.monotonic()
        result_id = result.result_id
        if result_id in self._final_result_ids and self.reconnects:
            result_id = f"{result_id}-{self.reconnects}"
        self._final_result_ids.add(result_id)
        segment = Segment(
            id=segment_id(self.id, result_id),
            conversation=self.request.conversation,
            speaker=self.request.speaker,
            text=result.text[:MAX_TEXT_LENGTH],
            start=start,
            end=end,
            timestamp=now_ms(),
            language=self.request.language,
        )
        await self.publisher.publish(segment)
        metrics.SQS_SEND_SECONDS.observe(time.monotonic() - arrived)
        self.finals += 1
        metrics.FINALS.inc()
        await self._send({"type": "final", "segment": segment.model_dump()})

    async def _set_state(self, state: str, detail: str) -> None:
        if state != self.state:
            self.state = state
            await self._send({"type": "status", "state": state, "detail": detail})

    async def _send(self, message: dict[str, object]) -> None:
        """Send to the speaker; a speaker who left no longer hears anything (finals still land)."""
        if self.ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_json(message)

    async def _close_with_error(self, failure: Failure) -> None:
        """Send ``error`` and close; drop a speaker who does not read them."""
        if self.outcome == "closed":
            self.outcome = failure.code
        if self.ws.closed:
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.ws.send_json(error_message(failure.code, failure.message))
                await self.ws.close(code=failure.close_code, message=failure.code.encode())
        except (TimeoutError, ConnectionError, RuntimeError):
            with contextlib.suppress(Exception):
                await self.ws.close(code=failure.close_code)


async def _cancel(task: asyncio.Task[Any]) -> None:
    if not task.done():
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
