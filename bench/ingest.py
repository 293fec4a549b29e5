"""Ingest overhead benchmark: how many concurrent speaker streams ONE ingest process sustains.

Starts moto server (for the segments queue), a trivial Transcribe upstream and ONE ingest (its
console script), each a process of its own. The upstream speaks Amazon Transcribe's streaming
protocol with no speech engine: it decodes every AudioEvent, answers a partial TranscriptEvent every
few audio events and a final every few seconds of audio, and stamps each result's text with the
wall-clock time it sent it. For each stream count N, client processes open N speaker websockets on
``/api/stt/transcribe`` and send 100 ms PCM chunks at real-time pace; the clients measure the relay
latency of every partial (upstream send -> speaker receipt) and final (upstream send -> queue
accepted -> speaker receipt), count finals against the audio they sent, and record every error and
close. The orchestrator samples ingest's CPU and RSS from /proc, its ``/metrics``, and how long its
healthcheck takes to answer (a proxy for its event loop's delay).

Results go to ``docs/benchmarks.md`` (section "Ingest overhead") and, raw, to
``bench/.results/ingest.json``. ``python -m bench.ingest --quick`` is a smoke run that leaves the
docs alone; ``--profile FILE`` runs ingest under cProfile (investigation only, docs untouched).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
from aiohttp import WSMsgType, web

from bench.common import (
    HOST,
    RESULTS_DIR,
    ROOT,
    WorkerProcess,
    cpu_seconds,
    emit,
    exit_on_signal,
    fmt,
    free_port,
    histogram_mean,
    machine_busy_seconds,
    memory_mib,
    metric,
    percentile,
    raise_nofile_limit,
    run_header,
    save_results,
    scrape,
    seconds_ms,
    split,
    start_moto_in_order,
    stop_process,
    summarize,
    user_system_seconds,
    wait_until_zero,
)
from captionist_core.aws import sync_client
from captionist_core.eventstream import EventStreamError, decode, event_message
from captionist_core.settings import CaptionistSettings
from captionist_dev.emulator import wait_for_http
from captionist_dev.resources import ensure_resources
from captionist_transcribe_local.engines.base import Result, Word, new_result_id
from captionist_transcribe_local.protocol import transcript_payload

SECTION = "## Ingest overhead"
GOAL_STREAMS = 300
MAX_P99_MS = 250.0  # partial relay latency p99 a sustained phase stays under
SATURATED_CPU_PERCENT = 90.0  # of one core: ingest is one event loop
SAMPLE_RATE = 16_000
CHUNK_MS = 100
CHUNK_BYTES = SAMPLE_RATE * 2 * CHUNK_MS // 1000
STAMP_MARK = " @"  # the upstream appends " @<epoch ms>" to every result's text
STAMP_SLOT = b" @@stamp@@"  # where, filled in as the result is sent
WORD_SECONDS = 0.3


def tone_chunk() -> bytes:
    """100 ms of a 440 Hz tone at a moderate level, 16-bit little-endian mono (not silence)."""
    samples = SAMPLE_RATE * CHUNK_MS // 1000
    return b"".join(
        int(8000 * math.sin(2 * math.pi * 440 * i / SAMPLE_RATE)).to_bytes(2, "little", signed=True)
        for i in range(samples)
    )


async def exit_when_orphaned(period: float = 1.0) -> None:
    """End this child process if the orchestrator that started it is gone."""
    parent = os.getppid()
    while True:
        await asyncio.sleep(period)
        if os.getppid() != parent:
            os._exit(3)


# ---------------------------------------------------------------------------------------------
# The trivial upstream: Transcribe's streaming protocol, no speech engine


@dataclass
class UpstreamConfig:
    """When the trivial upstream answers."""

    port: int
    partial_every: int  # audio events between partials
    final_events: int  # audio events per segment (a final when reached)

    @classmethod
    def from_json(cls, text: str) -> UpstreamConfig:
        """Parse the ``--upstream`` argument."""
        raw = json.loads(text)
        return cls(int(raw["port"]), int(raw["partial_every"]), int(raw["final_events"]))


class TrivialUpstream:
    """Answers every stream with stamped partials and finals; counts what it served."""

    def __init__(self, config: UpstreamConfig) -> None:
        self.config = config
        self.stats = dict.fromkeys(
            ("streams", "open", "audio_events", "partials", "finals", "bad_frames"), 0
        )

    def app(self) -> web.Application:
        """The upstream as an aiohttp application."""
        app = web.Application()
        app.router.add_get("/stream-transcription-websocket", self._stream)
        app.router.add_get("/stats", self._stats)
        return app

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        # No signature check: this upstream measures ingest, not SigV4.
        rate = int(request.query.get("sample-rate", SAMPLE_RATE))
        bytes_per_second = 2 * rate
        ws = web.WebSocketResponse(max_msg_size=1 << 20)
        await ws.prepare(request)
        self.stats["streams"] += 1
        self.stats["open"] += 1
        # Reading audio and sending results are independent, as in Transcribe: a client slow to
        # read its results does not stop its audio from being read.
        outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        sender = asyncio.create_task(self._sender(ws, outbox))
        audio_bytes = 0
        segment_start = 0.0
        segment_events = 0
        result_id = new_result_id()
        try:
            async for message in ws:
                if message.type is not WSMsgType.BINARY:
                    break
                try:
                    event = decode(message.data)
                except EventStreamError:
                    self.stats["bad_frames"] += 1
                    break
                if event.event_type != "AudioEvent":
                    self.stats["bad_frames"] += 1
                    break
                now = audio_bytes / bytes_per_second
                if not event.payload:  # the end of the stream: the open segment becomes final
                    if segment_events:
                        self._result(outbox, result_id, segment_start, now, partial=False)
                    break
                self.stats["audio_events"] += 1
                audio_bytes += len(event.payload)
                segment_events += 1
                now = audio_bytes / bytes_per_second
                if segment_events >= self.config.final_events:
                    self._result(outbox, result_id, segment_start, now, partial=False)
                    segment_start, segment_events, result_id = now, 0, new_result_id()
                elif segment_events % self.config.partial_every == 0:
                    self._result(outbox, result_id, segment_start, now, partial=True)
            outbox.put_nowait(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sender, 30)
        finally:
            sender.cancel()
            self.stats["open"] -= 1
            await ws.close()
        return ws

    async def _sender(self, ws: web.WebSocketResponse, outbox: asyncio.Queue[bytes | None]) -> None:
        """Send queued results, stamped with the wall clock at the moment each goes out."""
        while (payload := await outbox.get()) is not None:
            stamp = f"{STAMP_MARK}{time.time_ns() / 1e6:.3f}".encode()
            frame = event_message("TranscriptEvent", payload.replace(STAMP_SLOT, stamp, 1))
            try:
                await ws.send_bytes(frame)
            except (ConnectionError, RuntimeError):
                return

    def _result(
        self,
        outbox: asyncio.Queue[bytes | None],
        result_id: str,
        start: float,
        end: float,
        *,
        partial: bool,
    ) -> None:
        count = max(1, int((end - start) / WORD_SECONDS))
        words = tuple(
            Word(
                f"word{k}",
                round(start + k * WORD_SECONDS, 3),
                round(min(start + (k + 1) * WORD_SECONDS, end), 3),
                stable=not partial or k < count - 2,
            )
            for k in range(count)
        )
        text = " ".join(word.text for word in words) + STAMP_SLOT.decode()
        result = Result(result_id, round(start, 3), round(end, 3), partial, text, words)
        self.stats["partials" if partial else "finals"] += 1
        outbox.put_nowait(transcript_payload(result))


def run_upstream(config_json: str) -> None:
    """Entry point of the upstream process (``--upstream``)."""
    raise_nofile_limit()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config = UpstreamConfig.from_json(config_json)
    app = TrivialUpstream(config).app()

    async def watchdog(app: web.Application) -> Any:
        task = asyncio.create_task(exit_when_orphaned())
        yield
        task.cancel()

    app.cleanup_ctx.append(watchdog)
    web.run_app(app, host=HOST, port=config.port, print=None, access_log=None, shutdown_timeout=2)


# ---------------------------------------------------------------------------------------------
# Speaker clients: a separate process holding some of the sessions


@dataclass
class WorkerConfig:
    """How a client worker connects, paces its audio and how long it may live."""

    port: int
    sessions: int
    index: int
    concurrency: int
    final_events: int
    stagger: float  # this worker's sessions start at offsets spread over this many seconds
    processes: int
    drain_timeout: float
    max_seconds: float

    @classmethod
    def from_json(cls, text: str) -> WorkerConfig:
        """Parse the ``--worker`` argument."""
        raw = json.loads(text)
        return cls(
            port=int(raw["port"]),
            sessions=int(raw["sessions"]),
            index=int(raw["index"]),
            concurrency=int(raw["concurrency"]),
            final_events=int(raw["final_events"]),
            stagger=float(raw["stagger"]),
            processes=int(raw["processes"]),
            drain_timeout=float(raw["drain_timeout"]),
            max_seconds=float(raw["max_seconds"]),
        )

    def to_json(self) -> str:
        """The ``--worker`` argument."""
        return json.dumps(self.__dict__)


@dataclass
class Speaker:
    """What one speaker session sent and saw."""

    conversation: str
    ws: aiohttp.ClientWebSocketResponse | None = None
    ready: bool = False
    ended: bool = False  # we sent {"type":"end"}
    chunks: int = 0
    partials: list[tuple[float, float]] = field(default_factory=list)  # (receipt epoch ms, lag)
    finals: list[tuple[float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)  # states other than live
    close_code: int | None = None
    error_code: str | None = None  # the first ``error`` message's code
    send_delays: list[float] = field(default_factory=list)  # ms behind the real-time schedule

    @property
    def completed(self) -> bool:
        """Ended by us, closed by ingest with 1000, no error on the way."""
        return self.ready and self.ended and self.close_code == 1000 and not self.errors


class SpeakerWorker:
    """The speakers of one client process and the commands the orchestrator sends it."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.speakers = [
            Speaker(f"bench-{uuid.uuid4().hex[:8]}-{config.index}-{k}")
            for k in range(config.sessions)
        ]
        self.chunk = tone_chunk()
        self.stop = asyncio.Event()
        self.settled = asyncio.Event()
        self._settled = 0
        self.cpu_mark = time.process_time()

    async def run(self) -> None:
        """Connect and stream every speaker, then obey commands on stdin until ``report``."""
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            gate = asyncio.Semaphore(self.config.concurrency)
            started = time.monotonic()
            # Speakers arrive spread over ``stagger`` seconds (interleaved across workers), so
            # their segments, and so their finals, do not all end at the same moment.
            slots = max(1, len(self.speakers) * self.config.processes)
            tasks = [
                asyncio.create_task(
                    self._speak(
                        session,
                        speaker,
                        gate,
                        self.config.stagger
                        * (k * self.config.processes + self.config.index)
                        / slots,
                    )
                )
                for k, speaker in enumerate(self.speakers)
            ]
            if not tasks:
                self.settled.set()
            await self.settled.wait()
            failed = [s.errors[0] for s in self.speakers if not s.ready and s.errors]
            emit(
                {
                    "event": "connected",
                    "ready": sum(1 for s in self.speakers if s.ready),
                    "failed": len(failed),
                    "errors": failed[:5],
                    "seconds": round(time.monotonic() - started, 3),
                }
            )
            try:
                await self._obey(tasks)
            finally:
                self.stop.set()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _obey(self, tasks: list[asyncio.Task[None]]) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=64 << 20)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            command = json.loads(line)
            if command["cmd"] == "mark":
                self.cpu_mark = time.process_time()
            elif command["cmd"] == "stop":
                self.stop.set()
                started = time.monotonic()
                _, pending = await asyncio.wait(tasks, timeout=self.config.drain_timeout + 5)
                emit(
                    {
                        "event": "stopped",
                        "pending": len(pending),
                        "seconds": round(time.monotonic() - started, 3),
                    }
                )
            elif command["cmd"] == "report":
                emit(self._report(float(command["window"][0]), float(command["window"][1])))
                return

    async def _speak(
        self,
        session: aiohttp.ClientSession,
        speaker: Speaker,
        gate: asyncio.Semaphore,
        offset: float,
    ) -> None:
        await asyncio.sleep(offset)
        url = (
            f"http://{HOST}:{self.config.port}/api/stt/transcribe?sampleRate={SAMPLE_RATE}"
            f"&conversation={speaker.conversation}&speaker=Bench"
        )
        try:
            async with gate, asyncio.timeout(30):
                speaker.ws = await session.ws_connect(
                    url, autoping=True, timeout=aiohttp.ClientWSTimeout(ws_close=5.0)
                )
                first = await speaker.ws.receive()
                if first.type is not WSMsgType.TEXT:
                    raise RuntimeError(f"no ready: {first.type.name} {first.data!r}"[:200])
                body = json.loads(first.data)
                if body.get("type") != "ready":
                    speaker.error_code = str(body.get("code", body.get("type")))
                    raise RuntimeError(f"first message: {str(body)[:150]}")
        except Exception as error:
            speaker.errors.append(f"connect: {type(error).__name__}: {error}"[:200])
            if speaker.ws is not None:
                with contextlib.suppress(Exception):
                    await speaker.ws.close()
            self._settle()
            return
        speaker.ready = True
        self._settle()
        ws = speaker.ws
        receiver = asyncio.create_task(self._receive(speaker, ws))
        try:
            await self._stream(speaker, ws, receiver)
            if not ws.closed:
                speaker.ended = True
                await ws.send_str('{"type":"end"}')
            await asyncio.wait_for(asyncio.shield(receiver), self.config.drain_timeout)
        except TimeoutError:
            speaker.errors.append("no close within the drain timeout after end")
        except (ConnectionError, RuntimeError, aiohttp.ClientError) as error:
            speaker.errors.append(f"send: {type(error).__name__}: {error}"[:200])
        finally:
            if not receiver.done():
                receiver.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await receiver
            if not ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), 5)

    async def _stream(
        self, speaker: Speaker, ws: aiohttp.ClientWebSocketResponse, receiver: asyncio.Task[None]
    ) -> None:
        """One chunk every 100 ms on an absolute schedule, until told to stop."""
        period = CHUNK_MS / 1000
        started = time.monotonic()
        while not self.stop.is_set() and not receiver.done():
            due = started + speaker.chunks * period
            delay = due - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)
                if self.stop.is_set():
                    return
            else:
                speaker.send_delays.append(-delay * 1000)
            if ws.closed:
                return
            await ws.send_bytes(self.chunk)
            speaker.chunks += 1

    async def _receive(self, speaker: Speaker, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                speaker.errors.append(f"unexpected frame {message.type.name}")
                continue
            received = time.time_ns() / 1e6
            body = json.loads(message.data)
            kind = body.get("type")
            if kind == "partial":
                speaker.partials.append((received, received - _stamp(body["text"])))
            elif kind == "final":
                speaker.finals.append((received, received - _stamp(body["segment"]["text"])))
            elif kind == "status":
                if body.get("state") != "live":
                    speaker.statuses.append(str(body.get("state")))
            elif kind == "error":
                speaker.error_code = speaker.error_code or str(body.get("code"))
                speaker.errors.append(f"{body.get('code')}: {body.get('message')}"[:200])
            else:
                speaker.errors.append(f"unexpected message: {str(body)[:150]}")
        speaker.close_code = ws.close_code

    def _settle(self) -> None:
        self._settled += 1
        if self._settled == len(self.speakers):
            self.settled.set()

    def _report(self, window_start_ms: float, window_end_ms: float) -> dict[str, Any]:
        def in_window(samples: list[tuple[float, float]]) -> list[float]:
            return [round(lag, 2) for at, lag in samples if window_start_ms <= at <= window_end_ms]

        speakers = self.speakers
        delays = sorted(d for s in speakers for d in s.send_delays)
        return {
            "event": "report",
            "sessions": len(speakers),
            "ready": sum(1 for s in speakers if s.ready),
            "completed": sum(1 for s in speakers if s.completed),
            "with_errors": sum(1 for s in speakers if s.errors),
            "error_samples": [e for s in speakers for e in s.errors][:10],
            "close_codes": _count(str(s.close_code) for s in speakers),
            "error_codes": _count(s.error_code for s in speakers if s.error_code),
            "statuses": _count(state for s in speakers for state in s.statuses),
            "chunks": sum(s.chunks for s in speakers),
            "partials": sum(len(s.partials) for s in speakers),
            "finals": sum(len(s.finals) for s in speakers),
            "finals_expected": sum(
                -(-s.chunks // self.config.final_events) for s in speakers if s.ready
            ),
            "sessions_missing_finals": sum(
                1
                for s in speakers
                if s.ready and len(s.finals) != -(-s.chunks // self.config.final_events)
            ),
            "partial_lags": [lag for s in speakers for lag in in_window(s.partials)],
            "final_lags": [lag for s in speakers for lag in in_window(s.finals)],
            "partial_lags_all_p99": percentile(
                sorted(lag for s in speakers for _, lag in s.partials), 99
            ),
            "late_sends": len(delays),
            "send_delay_ms": {"p99": percentile(delays, 99), "max": delays[-1] if delays else None},
            "cpu_seconds": round(time.process_time() - self.cpu_mark, 3),
        }


def _stamp(text: str) -> float:
    return float(text.rsplit(STAMP_MARK, 1)[1])


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def run_worker(config_json: str) -> None:
    """Entry point of a client process (``--worker``)."""
    raise_nofile_limit()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config = WorkerConfig.from_json(config_json)

    async def bounded() -> None:
        watchdog = asyncio.create_task(exit_when_orphaned())
        try:
            async with asyncio.timeout(config.max_seconds):
                await SpeakerWorker(config).run()
        finally:
            watchdog.cancel()

    asyncio.run(bounded())


# ---------------------------------------------------------------------------------------------
# Orchestrator side: processes, /proc, /metrics


class HealthProbe:
    """Times ingest's healthcheck every ``period`` seconds: how late its event loop answers."""

    def __init__(self, port: int, period: float = 0.25) -> None:
        self.url = f"http://{HOST}:{port}/api/stt/healthcheck"
        self.period = period
        self.samples: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            before = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    response.read()
            except OSError:
                self.failures += 1
                continue
            self.samples.append((time.perf_counter() - before) * 1000)


class QueueConsumer:
    """Receives and deletes the segments ingest queues, as the processor does in the stack.

    moto's SendMessage slows down as a queue grows (tens of ms per send at a few thousand
    messages), so an unconsumed queue would make ingest look slower phase after phase.
    """

    def __init__(self, settings: CaptionistSettings) -> None:
        self.settings = settings
        self.received = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        """Start consuming in a thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop consuming (bounded)."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        sqs = sync_client("sqs", self.settings)
        url = sqs.get_queue_url(QueueName=self.settings.segments_queue)["QueueUrl"]
        while not self._stop.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", [])
                if messages:
                    sqs.delete_message_batch(
                        QueueUrl=url,
                        Entries=[
                            {"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]}
                            for k, m in enumerate(messages)
                        ],
                    )
                    self.received += len(messages)
            except Exception:  # moto busy or stopping: try again, bounded by the stop flag
                self.failures += 1
                self._stop.wait(0.5)


# Ingest under cProfile (``--profile``): argv[1] is where the stats go, written when ingest
# shuts down gracefully (SIGTERM at the end of the run). Otherwise the console script runs.
PROFILED_INGEST = """
import cProfile, sys
from captionist_ingest.app import main
cProfile.run("main()", sys.argv[1])
"""
# What an error code means when the speakers send at real-time pace and the upstream answers at
# once; every code a failed phase's sessions ended with is counted in the notes.
ERROR_NOTES = {
    "falling_behind": (
        "`falling_behind` means audio waited in a session's queue more than "
        "`MAX_BUFFERED_AUDIO_SECONDS` for the feeder to hand it to the upstream; the upstream "
        "here takes audio as fast as it comes, so the feeder (ingest's event loop, or the CPU "
        "it shares) did not keep up"
    ),
    "too_fast": (
        "`too_fast` means audio arrived more than `MAX_BUFFERED_AUDIO_SECONDS` ahead of real "
        "time as ingest counts it from the session's start, though the speakers here send at "
        "real-time pace (see *client send delay*)"
    ),
    "upstream_unavailable": (
        "`upstream_unavailable` means the upstream stream could not be opened (or reopened) "
        "within `CONNECT_TIMEOUT`"
    ),
}


@dataclass
class Stack:
    """The processes of one benchmark run."""

    settings: CaptionistSettings
    port: int
    upstream_port: int
    moto: subprocess.Popen[bytes] | None = None
    upstream: subprocess.Popen[bytes] | None = None
    ingest: subprocess.Popen[bytes] | None = None
    workers: list[WorkerProcess] = field(default_factory=list)
    consumer: QueueConsumer | None = None

    def stop(self) -> None:
        """Stop every process this run started, clients first (each is killed if slow)."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if self.consumer is not None:
            self.consumer.stop()
        for worker in self.workers:
            with contextlib.suppress(Exception):
                worker.stop(timeout=10)
        self.workers.clear()
        for process in (self.ingest, self.upstream, self.moto):
            if process is not None:
                with contextlib.suppress(Exception):
                    stop_process(process, timeout=25)

    def upstream_stats(self) -> dict[str, int]:
        """The trivial upstream's counters."""
        url = f"http://{HOST}:{self.upstream_port}/stats"
        with urllib.request.urlopen(url, timeout=10) as response:
            stats: dict[str, int] = json.loads(response.read())
        return stats


def start_stack(args: argparse.Namespace, ingest_log: IO[bytes]) -> Stack:
    """moto server with the queue, the trivial upstream, and one ingest process."""
    moto_port = free_port()
    endpoint = f"http://{HOST}:{moto_port}"
    shared_env = {
        "CAPTIONIST_ENV": f"bench{uuid.uuid4().hex[:8]}",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": "us-east-1",
        "CAPTIONIST_LOG_FORMAT": "json",
        "CAPTIONIST_LOG_LEVEL": "WARNING",
    }
    os.environ.update(shared_env)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    settings = CaptionistSettings(env=shared_env["CAPTIONIST_ENV"], aws_endpoint_url=endpoint)
    stack = Stack(settings=settings, port=free_port(), upstream_port=free_port())
    try:
        stack.moto = start_moto_in_order(moto_port)
        ensure_resources(settings)
        stack.consumer = QueueConsumer(settings)
        stack.consumer.start()
        upstream = UpstreamConfig(stack.upstream_port, args.partial_every, args.final_events)
        stack.upstream = subprocess.Popen(
            [sys.executable, "-m", "bench.ingest", "--upstream", json.dumps(upstream.__dict__)],
            cwd=ROOT,
            stdout=ingest_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_http(f"http://{HOST}:{stack.upstream_port}/stats", 30, stack.upstream)
    except BaseException:
        stack.stop()
        raise
    return stack


def start_ingest(stack: Stack, args: argparse.Namespace, ingest_log: IO[bytes]) -> None:
    """One ingest process: its console script, or under cProfile with ``--profile``."""
    script = shutil.which("captionist-ingest", path=str(Path(sys.executable).parent))
    if script is None:
        raise RuntimeError("console script captionist-ingest not found next to python")
    env = {
        **os.environ,
        "CAPTIONIST_INGEST_HOST": HOST,
        "CAPTIONIST_INGEST_PORT": str(stack.port),
        "CAPTIONIST_INGEST_TRANSCRIBE_ENDPOINT": f"http://{HOST}:{stack.upstream_port}",
        "CAPTIONIST_LOG_LEVEL": args.ingest_log_level,
    }
    command = [script]
    if args.profile:
        command = [sys.executable, "-c", PROFILED_INGEST, str(Path(args.profile).resolve())]
    stack.ingest = subprocess.Popen(
        command,
        env=env,
        stdout=ingest_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C goes to us; we stop it in order
    )
    wait_for_http(f"http://{HOST}:{stack.port}/api/stt/healthcheck", 60, stack.ingest)


def stop_ingest(stack: Stack) -> None:
    """Stop the ingest process (gracefully: a profile is written then)."""
    if stack.ingest is not None:
        stop_process(stack.ingest, timeout=25)
        stack.ingest = None


def run_phase(
    stack: Stack, args: argparse.Namespace, streams: int, client_log: IO[bytes]
) -> dict[str, Any]:
    """Open ``streams`` speaker sessions, stream for the window, end them, measure."""
    assert stack.ingest is not None
    assert stack.upstream is not None
    assert stack.moto is not None
    processes = max(1, min(args.client_processes, streams))
    connect_budget = 60 + streams / 10
    max_seconds = connect_budget + args.settle + args.duration + args.drain_timeout + 120
    for index, share in enumerate(split(streams, processes)):
        config = WorkerConfig(
            port=stack.port,
            sessions=share,
            index=index,
            concurrency=max(1, args.connect_concurrency // processes),
            final_events=args.final_events,
            stagger=args.stagger,
            processes=processes,
            drain_timeout=args.drain_timeout,
            max_seconds=max_seconds,
        )
        stack.workers.append(WorkerProcess("bench.ingest", index, config.to_json(), client_log))
    pid = stack.ingest.pid
    pids = {
        "ingest": [pid],
        "upstream": [stack.upstream.pid],
        "moto": [stack.moto.pid],
        "clients": [worker.process.pid for worker in stack.workers],
        "orchestrator": [os.getpid()],
    }
    assert stack.consumer is not None
    queued_before = stack.consumer.received
    upstream_before = stack.upstream_stats()
    connect_started = time.monotonic()
    cpu_connect = cpu_seconds(pid)
    connected = [worker.expect("connected", connect_budget) for worker in stack.workers]
    connect_seconds = time.monotonic() - connect_started
    connect_cpu = cpu_seconds(pid) - cpu_connect
    ready = sum(int(c["ready"]) for c in connected)
    print(f"  {ready}/{streams} ready in {connect_seconds:.1f} s; streaming", flush=True)
    time.sleep(args.settle)
    with HealthProbe(stack.port) as probe:
        metrics_before = scrape(stack.port)
        cpu_before = {name: sum(map(cpu_seconds, group)) for name, group in pids.items()}
        busy_before = machine_busy_seconds()
        split_before = user_system_seconds(pid)
        for worker in stack.workers:
            worker.send({"cmd": "mark"})
        window_started = time.monotonic()
        window_epoch = [time.time_ns() / 1e6]
        rss: list[float] = []
        while (left := window_started + args.duration - time.monotonic()) > 0:
            time.sleep(min(1.0, left))
            rss.append(memory_mib(pid))
        window = time.monotonic() - window_started
        window_epoch.append(time.time_ns() / 1e6)
        cpu_after = {name: sum(map(cpu_seconds, group)) for name, group in pids.items()}
        busy_after = machine_busy_seconds()
        split_after = user_system_seconds(pid)
        metrics_after = scrape(stack.port)
    for worker in stack.workers:
        worker.send({"cmd": "stop"})
    stopped = [worker.expect("stopped", args.drain_timeout + 60) for worker in stack.workers]
    for worker in stack.workers:
        worker.send({"cmd": "report", "window": window_epoch})
    reports = [worker.expect("report", 120) for worker in stack.workers]
    for worker in stack.workers:
        worker.stop()
    stack.workers.clear()
    wait_until_zero(
        stack.port,
        "captionist_ingest_sessions_active",
        "sessions still active on ingest",
        args.drain_timeout + 30,
    )
    metrics_end = scrape(stack.port)
    upstream_after = stack.upstream_stats()
    consumed_deadline = time.monotonic() + 30
    while (
        stack.consumer.received - queued_before < total_finals(reports)
        and time.monotonic() < consumed_deadline
    ):
        time.sleep(0.2)
    queued = stack.consumer.received - queued_before
    hwm = memory_mib(pid, "VmHWM")

    def total(key: str) -> int:
        return sum(int(report[key]) for report in reports)

    partial_lag = summarize([lag for r in reports for lag in r["partial_lags"]])
    final_lag = summarize([lag for r in reports for lag in r["final_lags"]])
    health = summarize(probe.samples)
    cpu = {name: round(100 * (cpu_after[name] - cpu_before[name]) / window, 1) for name in pids}
    ours = sum(cpu_after.values()) - sum(cpu_before.values()) + 0.0
    # Everything else the machine ran meanwhile.
    cpu["others"] = round(100 * (busy_after - busy_before - ours) / window, 1)
    upstream_delta = {
        key: upstream_after[key] - upstream_before.get(key, 0) for key in upstream_after
    }

    def rate(name: str) -> float:
        return round((metric(metrics_after, name) - metric(metrics_before, name)) / window, 1)

    checks = {
        "all_ready": ready == streams,
        "all_completed": total("completed") == streams,
        "all_finals": total("finals") == total("finals_expected") and total("finals") > 0,
        "no_errors": total("with_errors") == 0,
        "partial_p99": partial_lag["p99"] is not None and partial_lag["p99"] < MAX_P99_MS,
        "cpu_headroom": cpu["ingest"] < SATURATED_CPU_PERCENT,
    }
    errors = [e for c in connected for e in c["errors"]] + [
        e for r in reports for e in r["error_samples"]
    ]
    return {
        "streams": streams,
        "sustained": all(checks.values()),
        "checks": checks,
        "ready": ready,
        "completed": total("completed"),
        "sessions_with_errors": total("with_errors"),
        "error_samples": errors[:10],
        "close_codes": _merge(r["close_codes"] for r in reports),
        "error_codes": _merge(r["error_codes"] for r in reports),
        "statuses": _merge(r["statuses"] for r in reports),
        "chunks_sent": total("chunks"),
        "partials_received": total("partials"),
        "finals_received": total("finals"),
        "finals_expected": total("finals_expected"),
        "sessions_missing_finals": total("sessions_missing_finals"),
        "segments_consumed_from_queue": queued,
        "upstream": upstream_delta,
        "partial_lag_ms": partial_lag,
        "partial_lag_p99_whole_session_ms": max(
            (r["partial_lags_all_p99"] or 0.0) for r in reports
        ),
        "final_lag_ms": final_lag,
        "healthcheck_ms": {**health, "failures": probe.failures, "samples": len(probe.samples)},
        "connect": {
            "seconds": round(connect_seconds, 2),
            "failed": sum(int(c["failed"]) for c in connected),
            "ingest_cpu_seconds": round(connect_cpu, 2),
        },
        "stop": stopped,
        "window_seconds": round(window, 2),
        "window_epoch_ms": [round(at, 1) for at in window_epoch],
        "cpu_percent": cpu,
        "ingest": {
            "cpu_percent": cpu["ingest"],
            "cpu_ms_per_stream_second": round(10 * cpu["ingest"] / streams, 3),
            "user_percent": round(100 * (split_after[0] - split_before[0]) / window, 1),
            "system_percent": round(100 * (split_after[1] - split_before[1]) / window, 1),
            "rss_mib_mean": round(sum(rss) / len(rss), 1) if rss else None,
            "rss_mib_peak": round(hwm, 1),
            "audio_seconds_per_second": rate("captionist_ingest_audio_seconds_total"),
            "partials_per_second": rate("captionist_ingest_partials_total"),
            "finals_per_second": rate("captionist_ingest_finals_total"),
            "sqs_send_ms_mean": seconds_ms(
                histogram_mean(metrics_before, metrics_after, "captionist_ingest_sqs_send_seconds")
            ),
            "sqs_send_retries": metric(metrics_end, "captionist_ingest_sqs_send_retries_total")
            - metric(metrics_before, "captionist_ingest_sqs_send_retries_total"),
            "upstream_errors": metric(metrics_end, "captionist_ingest_upstream_errors_total")
            - metric(metrics_before, "captionist_ingest_upstream_errors_total"),
        },
        "client_send_delay_ms": {
            "p99": max((r["send_delay_ms"]["p99"] or 0.0) for r in reports),
            "max": max((r["send_delay_ms"]["max"] or 0.0) for r in reports),
            "late_sends": total("late_sends"),
        },
    }


def total_finals(reports: list[dict[str, Any]]) -> int:
    """Finals the speakers received in one phase."""
    return sum(int(report["finals"]) for report in reports)


def _merge(dicts: Any) -> dict[str, int]:
    merged: dict[str, int] = {}
    for counts in dicts:
        for key, value in counts.items():
            merged[key] = merged.get(key, 0) + int(value)
    return merged


# ---------------------------------------------------------------------------------------------
# Reporting


def verdict(result: dict[str, Any]) -> str:
    """Whether the run reached the goal, in a sentence."""
    best = result["max_sustained"]
    best_phase = next((p for p in result["phases"] if p["streams"] == best), None)
    if best is None or best_phase is None:
        text = f"**missed**: no phase sustained (goal {GOAL_STREAMS:,})"
    else:
        cost = (
            f"ingest at {fmt(best_phase['ingest']['cpu_percent'])} % of one core, "
            f"{fmt(best_phase['ingest']['cpu_ms_per_stream_second'], 2)} ms CPU per stream-second"
        )
        met = "**met**" if best >= GOAL_STREAMS else "**missed**"
        text = f"{met}: {best:,} streams sustained ({cost})"
    if result["limit"]:
        text += f"; first phase not sustained: {result['limit']}"
    elif result["phases"]:
        text += "; every phase run was sustained (the run stopped at its largest stream count)"
    return text


def failure_note(phase: dict[str, Any], cores: int) -> str:
    """Why a phase was not sustained: its error codes, counted, and what the machine did."""
    codes = phase.get("error_codes", {})
    counted = ", ".join(f"{count:,} `{code}`" for code, count in sorted(codes.items()))
    failed = [name for name, ok in phase["checks"].items() if not ok]
    cpu = phase["cpu_percent"]
    busy = sum(value for value in cpu.values() if value is not None)
    parts = [
        f"- {phase['streams']:,} streams, not sustained ({', '.join(failed)}): sessions ended "
        f"with {counted or 'no error message'}",
        *(ERROR_NOTES[code] for code in sorted(codes) if code in ERROR_NOTES),
        f"over the window the machine's {cores} cores were {busy / cores:.0f} % busy (ingest "
        f"{fmt(cpu['ingest'])} % of one core), ingest's healthcheck p99 was "
        f"{fmt(phase['healthcheck_ms']['p99'], 1)} ms and its SQS send mean "
        f"{fmt(phase['ingest']['sqs_send_ms_mean'], 1)} ms",
    ]
    return "; ".join(parts) + "."


def render_section(result: dict[str, Any]) -> str:
    """The markdown section for docs/benchmarks.md."""
    params = result["parameters"]
    host = result["machine"]
    phases = result["phases"]
    rows = [
        "| streams | sustained | completed / errors | finals / expected | "
        "partial relay p50 | p95 | p99 | max | final relay p50 / p99 | ingest CPU | "
        "CPU per stream | RSS mean → peak | healthcheck p50 / p99 |",
        "|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in phases:
        lag = phase["partial_lag_ms"]
        final = phase["final_lag_ms"]
        ingest = phase["ingest"]
        health = phase["healthcheck_ms"]
        failed = [name for name, ok in phase["checks"].items() if not ok]
        sustained = "yes" if phase["sustained"] else "no: " + ", ".join(failed)
        rows.append(
            f"| {phase['streams']:,} | {sustained} | "
            f"{phase['completed']:,} / {phase['sessions_with_errors']:,} | "
            f"{phase['finals_received']:,} / {phase['finals_expected']:,} | "
            f"{fmt(lag['p50'], 1)} ms | {fmt(lag['p95'], 1)} ms | {fmt(lag['p99'], 1)} ms | "
            f"{fmt(lag['max'])} ms | {fmt(final['p50'])} / {fmt(final['p99'])} ms | "
            f"{fmt(ingest['cpu_percent'])} % | {fmt(ingest['cpu_ms_per_stream_second'], 2)} ms/s | "
            f"{fmt(ingest['rss_mib_mean'])} → {fmt(ingest['rss_mib_peak'])} MiB | "
            f"{fmt(health['p50'], 1)} / {fmt(health['p99'], 1)} ms |"
        )
    detail = [
        "| streams | connect time | audio in | partials/s | finals/s | SQS send mean | "
        "CPU % ingest / upstream / clients / moto / orchestrator / others | "
        "client send delay p99 / max |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in phases:
        cpu = phase["cpu_percent"]
        ingest = phase["ingest"]
        delay = phase["client_send_delay_ms"]
        detail.append(
            f"| {phase['streams']:,} | {phase['connect']['seconds']:.1f} s | "
            f"{fmt(ingest['audio_seconds_per_second'], 1)} s/s | "
            f"{fmt(ingest['partials_per_second'])} | {fmt(ingest['finals_per_second'], 1)} | "
            f"{fmt(ingest['sqs_send_ms_mean'], 1)} ms | "
            f"{fmt(cpu['ingest'])} / {fmt(cpu['upstream'])} / {fmt(cpu['clients'])} / "
            f"{fmt(cpu['moto'])} / {fmt(cpu.get('orchestrator'))} / {fmt(cpu.get('others'))} | "
            f"{fmt(delay['p99'])} / {fmt(delay['max'])} ms |"
        )
    notes = []
    held = [p for p in phases if p["sustained"]]
    if len(held) >= 2 and held[-1]["streams"] > held[0]["streams"]:
        first, last = held[0], held[-1]
        slope = (last["ingest"]["cpu_percent"] - first["ingest"]["cpu_percent"]) / (
            last["streams"] - first["streams"]
        )
        notes.append(
            f"- Each stream added between {first['streams']:,} and {last['streams']:,} cost "
            f"{10 * slope:.2f} ms of ingest CPU per second ({slope:.3f} % of a core); ingest's "
            f"CPU was {fmt(last['ingest']['user_percent'])} % user + "
            f"{fmt(last['ingest']['system_percent'])} % system at {last['streams']:,} (on "
            "loopback the kernel's TCP work for both ends of a socket lands on the sender)."
        )
    notes.extend(
        failure_note(phase, int(host["cores"])) for phase in phases if not phase["sustained"]
    )
    busiest = max((p["cpu_percent"].get("others") or 0.0 for p in phases), default=0.0)
    if busiest > 30:
        notes.append(
            f"- Other work shared the machine during this run (up to {busiest:.0f} % of a core "
            "in a window, see *others*): every latency above is pessimistic for that reason too."
        )
    lines = [
        SECTION,
        "",
        f"Goal: at least {GOAL_STREAMS} concurrent speaker streams on ONE ingest process against "
        "a trivial upstream (no speech engine), CPU stated. A phase is *sustained* when every "
        'session got `ready`, streamed, ended with `{"type":"end"}` and was closed with 1000 '
        "without an error, every final expected from the audio sent reached its speaker (after "
        f"the queue accepted it), partial relay p99 stayed under {MAX_P99_MS:.0f} ms, and ingest "
        f"stayed under {SATURATED_CPU_PERCENT:.0f} % of one core (it is one event loop). "
        "Phases run with more streams each until the first one not sustained. Result:",
        "",
        f"- {verdict(result)}.",
        "",
        *rows,
        "",
        "*partial relay*: the upstream's wall clock when it sent a partial (stamped in its text) "
        "→ the speaker's client reading it; *final relay* also includes ingest's SQS send to moto, "
        "made before the final goes to the speaker (a session relays its results in order, so "
        "partials that follow a final wait for that send too). Both are measured over the steady "
        "window only "
        "(all sessions streaming). CPU % is of one core; *CPU per stream* is ingest's CPU "
        "milliseconds per second of one stream (10 chunks of 100 ms in, their AudioEvents out, "
        "the partials and finals back). *healthcheck*: `/api/stt/healthcheck` answered on "
        "ingest's own loop every 250 ms during the window, a proxy for its event-loop delay.",
        "",
        "Where the CPU goes (same phases):",
        "",
        *detail,
        "",
        "*orchestrator*: the benchmark's own process, which also consumes the queue as the "
        "processor would (moto's SendMessage slows down as a queue fills); *others*: every other "
        "process on the machine during the window, from /proc/stat. *client send delay*: how "
        "late the speaker clients sent a chunk behind their real-time schedule (their own load; "
        "late chunks make ingest's input burstier, not larger). *SQS send mean*: "
        "`captionist_ingest_sqs_send_seconds`, final received → moto accepted it.",
        "",
        *notes,
        *([""] if notes else []),
        f"- Run: {result['date']}, commit `{result['commit']}`, "
        f"`{' '.join(['python -m bench.ingest', result['command_line']]).strip()}` "
        f"({len(phases)} phase(s), one run: expect run-to-run spread in the tails).",
        f"- Parameters: 16 kHz PCM in {CHUNK_MS} ms chunks ({CHUNK_BYTES:,} bytes) at real-time "
        f"pace; {params['duration']:g} s measured window per phase after {params['settle']:g} s "
        f"of settling; the upstream answers a partial every {params['partial_every']} audio events "
        f"({params['partial_every'] * CHUNK_MS} ms) and a final every "
        f"{params['final_events'] * CHUNK_MS / 1000:g} s of audio; sessions start spread over "
        f"{params['stagger']:g} s; {params['client_processes']} client process(es); handshakes "
        f"in waves of at most {params['connect_concurrency']}; "
        "ingest with its default settings, logging at WARNING.",
        f"- Machine: {host['cpu']}, {host['cores']} cores, {host['ram_gib']:g} GiB RAM, Linux "
        f"{host['kernel']}, Python {host['python']}, aiohttp {host['aiohttp']}.",
        "",
        "Method: `python -m bench.ingest` starts moto server (the segments queue), a trivial "
        "upstream and one ingest (its console script) on 127.0.0.1, each a process of its own, "
        "with `CAPTIONIST_INGEST_TRANSCRIBE_ENDPOINT` pointing at the upstream. The upstream "
        "speaks Transcribe's streaming protocol: it decodes every AudioEvent with the "
        "event-stream codec and answers TranscriptEvents in Transcribe's JSON shape (words with "
        "times, `IsPartial`, `Stable`), with no signature check and no speech engine, so what "
        "is measured is ingest's own work: the speaker websocket, presigning and opening the "
        "upstream stream, AudioEvent framing, relaying results, SQS sends. For each stream count "
        "the speaker clients (separate processes) connect, stream at real-time pace, and after the "
        "window send `end` and wait for their last finals and the close. Ingest's CPU is "
        "read from /proc over the window. Clients, upstream, moto and ingest share the same "
        f"{host['cores']} cores, so the latencies are pessimistic for ingest alone: their CPU is "
        "listed above. Raw numbers: `bench/.results/ingest.json`.",
        "",
    ]
    return "\n".join(lines)


def run_phases(
    stack: Stack, args: argparse.Namespace, service_log: IO[bytes], client_log: IO[bytes]
) -> dict[str, Any]:
    """The phases against one ingest process, up to the first one not sustained."""
    outcome: dict[str, Any] = {"phases": [], "max_sustained": None, "limit": None}
    start_ingest(stack, args, service_log)
    try:
        counts = list(args.stream_counts)
        while counts:
            streams = counts.pop(0)
            print(f"ingest with {streams:,} streams", flush=True)
            phase = run_phase(stack, args, streams, client_log)
            outcome["phases"].append(phase)
            lag = phase["partial_lag_ms"]
            print(
                f"  sustained {phase['sustained']} {phase['checks']}\n"
                f"  partial p50 {fmt(lag['p50'], 1)} p99 {fmt(lag['p99'], 1)} ms; finals "
                f"{phase['finals_received']}/{phase['finals_expected']}; errors "
                f"{phase['error_codes']}; CPU % {phase['cpu_percent']}",
                flush=True,
            )
            if not phase["sustained"]:
                failed = [key for key, ok in phase["checks"].items() if not ok]
                outcome["limit"] = f"{streams:,} ({', '.join(failed)})"
                break  # more streams only fail the same way, and take minutes to show it
            outcome["max_sustained"] = max(outcome["max_sustained"] or 0, streams)
            if not counts and streams + args.extend_step <= args.extend_to:
                counts.append(streams + args.extend_step)
    finally:
        stop_ingest(stack)
    return outcome


# ---------------------------------------------------------------------------------------------
# Entry point


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--streams",
        default="100,200,300,400",
        help="comma-separated stream counts, one phase each (default 100,200,300,400)",
    )
    parser.add_argument(
        "--extend-to",
        type=int,
        default=1000,
        help="while the last phase is sustained, add phases of +--extend-step streams up to this "
        "(default 1000; 0 turns it off)",
    )
    parser.add_argument("--extend-step", type=int, default=100)
    parser.add_argument(
        "--duration", type=float, default=30, help="measured seconds per phase (default 30)"
    )
    parser.add_argument(
        "--settle", type=float, default=3, help="seconds of streaming before the window (3)"
    )
    parser.add_argument(
        "--partial-every", type=int, default=3, help="audio events between partials (default 3)"
    )
    parser.add_argument(
        "--final-seconds", type=float, default=10, help="audio seconds per final (default 10)"
    )
    parser.add_argument(
        "--stagger",
        type=float,
        default=10,
        help="sessions start spread over this many seconds, so finals do not coincide (10)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 20 streams, 6 s; does not touch docs/ unless --docs",
    )
    parser.add_argument(
        "--ingest-log-level",
        default="WARNING",
        help="ingest's CAPTIONIST_LOG_LEVEL (default WARNING; INFO adds a line per session)",
    )
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--drain-timeout", type=float, default=20)
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="run ingest under cProfile and write its stats to FILE (investigation only)",
    )
    parser.add_argument(
        "--docs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write docs/benchmarks.md and ingest.json (default: yes, except --quick/--profile)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.streams = "20"
        args.duration = 6.0
        args.settle = 1.0
        args.extend_to = 0
    args.stream_counts = [int(part) for part in str(args.streams).split(",") if part.strip()]
    if not args.stream_counts or min(args.stream_counts) < 1:
        parser.error("--streams needs positive counts")
    if args.duration <= 0 or args.partial_every < 1 or args.final_seconds < CHUNK_MS / 1000:
        parser.error("--duration, --partial-every and --final-seconds must be positive")
    args.final_events = max(1, round(args.final_seconds * 1000 / CHUNK_MS))
    if args.docs is None:
        args.docs = not (args.quick or args.profile)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the process exit status."""
    args = parse_args(argv)
    if args.worker is not None:
        run_worker(args.worker)
        return 0
    if args.upstream is not None:
        run_upstream(args.upstream)
        return 0
    signal.signal(signal.SIGTERM, exit_on_signal)
    limit = raise_nofile_limit()
    needed = 2 * max([*args.stream_counts, args.extend_to]) + 200
    if needed > limit:
        print(f"open-file limit {limit} is below the ~{needed} this run needs", file=sys.stderr)
        return 2
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        **run_header("ingest", argv),
        "goal_streams": GOAL_STREAMS,
        "parameters": {
            "streams": args.stream_counts,
            "extend_to": args.extend_to,
            "extend_step": args.extend_step,
            "duration": args.duration,
            "settle": args.settle,
            "partial_every": args.partial_every,
            "final_events": args.final_events,
            "stagger": args.stagger,
            "client_processes": args.client_processes,
            "connect_concurrency": args.connect_concurrency,
            "drain_timeout": args.drain_timeout,
            "profiled": bool(args.profile),
        },
    }
    name = "ingest" if args.docs else ("ingest-quick" if args.quick else "ingest-adhoc")
    with (
        (RESULTS_DIR / f"{name}-services.log").open("wb") as service_log,
        (RESULTS_DIR / f"{name}-clients.log").open("wb") as client_log,
    ):
        stack = start_stack(args, service_log)
        try:
            result.update(run_phases(stack, args, service_log, client_log))
        except KeyboardInterrupt:
            print("interrupted: stopping every process this run started", file=sys.stderr)
            return 130
        finally:
            stack.stop()
    path = save_results(name, result, (SECTION, render_section) if args.docs else None)
    print(f"wrote {path.relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
