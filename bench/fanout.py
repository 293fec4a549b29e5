"""Fan-out benchmark: how fast one broadcaster process pushes a conversation to N listeners.

Starts moto server and ONE broadcaster (its console script, a process of its own), then, for each
listener count N, connects N websocket listeners to one conversation from separate client
processes, stores segments straight into the DynamoDB table at a steady rate (as the processor
does) and measures, for every (listener, segment), the lag from the segment's ``timestamp`` to its
receipt by the listener. It checks that every listener got every segment exactly once and in order,
and samples the broadcaster's CPU, RSS and DynamoDB query rate (from its ``/metrics``).

Results go to ``docs/benchmarks.md`` (section "Fan-out (broadcaster)") and, raw, to
``bench/.results/fanout.json``. ``python -m bench.fanout --quick`` is a smoke run that leaves the
docs alone. For investigation, ``--profile FILE`` runs the broadcaster under cProfile and
``--gc-trace FILE`` times its garbage-collector pauses (neither touches the docs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
from boto3.dynamodb.types import TypeSerializer

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
    histogram_bound,
    histogram_mean,
    memory_mib,
    metric,
    now_ms,
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
    wait_until_zero,
)
from captionist_broadcaster.settings import BroadcasterSettings
from captionist_core.aws import sync_client
from captionist_core.segment import Segment
from captionist_core.settings import CaptionistSettings
from captionist_dev.emulator import wait_for_http
from captionist_dev.resources import ensure_resources

SECTION = "## Fan-out (broadcaster)"
GOAL_LISTENERS = 5000
GOAL_P99_MS = 500.0
# Browsers offer permessage-deflate on every websocket; aiohttp's client only does when asked.
BROWSER_DEFLATE_WBITS = 15
SEGMENT_TEXT = (
    "this is benchmark sentence number {k} and it is about as long as a spoken sentence "
    "usually is when it has been stabilized"
)


# ---------------------------------------------------------------------------------------------
# Shared helpers


# ---------------------------------------------------------------------------------------------
# Client worker: a separate process holding some of the listeners


@dataclass
class ListenerState:
    """What one listener saw."""

    conversation: str
    ids: list[str] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    ws: aiohttp.ClientWebSocketResponse | None = None
    connected: bool = False
    closed_early: bool = False
    error: str | None = None


@dataclass
class WorkerConfig:
    """How a client worker connects and how long it may live."""

    port: int
    groups: dict[str, int]  # conversation -> listeners
    concurrency: int
    compress: bool
    handshake_timeout: float
    max_seconds: float

    @classmethod
    def from_json(cls, text: str) -> WorkerConfig:
        """Parse the ``--worker`` argument."""
        raw = json.loads(text)
        return cls(
            port=int(raw["port"]),
            groups={str(key): int(value) for key, value in raw["groups"].items()},
            concurrency=int(raw["concurrency"]),
            compress=bool(raw["compress"]),
            handshake_timeout=float(raw["handshake_timeout"]),
            max_seconds=float(raw["max_seconds"]),
        )

    def to_json(self) -> str:
        """The ``--worker`` argument."""
        return json.dumps(self.__dict__)


class ClientWorker:
    """The listeners of one client process and the commands the orchestrator sends it."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.listeners = [
            ListenerState(conversation)
            for conversation, count in config.groups.items()
            for _ in range(count)
        ]
        self.stopping = asyncio.Event()
        self.settled = asyncio.Event()
        self._settled_count = 0
        self.loop_lags: list[float] = []
        self.cpu_mark = time.process_time()

    async def run(self) -> None:
        """Connect every listener, then obey commands on stdin until ``report`` or EOF."""
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.config.handshake_timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            gate = asyncio.Semaphore(self.config.concurrency)
            watcher = asyncio.create_task(self._watch_loop())
            started = time.monotonic()
            tasks = [
                asyncio.create_task(self._listen(session, listener, gate))
                for listener in self.listeners
            ]
            if not tasks:
                self.settled.set()
            await self.settled.wait()
            errors = [listener.error for listener in self.listeners if listener.error]
            emit(
                {
                    "event": "connected",
                    "connected": sum(1 for listener in self.listeners if listener.connected),
                    "failed": len(errors),
                    "errors": errors[:5],
                    "seconds": round(time.monotonic() - started, 3),
                }
            )
            try:
                await self._obey()
            finally:
                self.stopping.set()
                watcher.cancel()
                await asyncio.gather(
                    *(
                        asyncio.wait_for(listener.ws.close(), 5)
                        for listener in self.listeners
                        if listener.ws is not None and not listener.ws.closed
                    ),
                    return_exceptions=True,
                )
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, watcher, return_exceptions=True)

    async def _obey(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=64 << 20)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            command = json.loads(line)
            if command["cmd"] == "start":
                self.loop_lags.clear()
                self.cpu_mark = time.process_time()
            elif command["cmd"] == "drain":
                emit(await self._drain(command["expected"], float(command["timeout"])))
            elif command["cmd"] == "report":
                emit(self._report(command["expected"]))
                return

    async def _listen(
        self, session: aiohttp.ClientSession, listener: ListenerState, gate: asyncio.Semaphore
    ) -> None:
        url = (
            f"http://{HOST}:{self.config.port}/api/stt/connect?conversation={listener.conversation}"
        )
        try:
            # The gate bounds handshakes in flight: listeners connect in waves.
            async with gate, asyncio.timeout(self.config.handshake_timeout):
                listener.ws = await session.ws_connect(
                    url,
                    compress=BROWSER_DEFLATE_WBITS if self.config.compress else 0,
                    autoping=True,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0),
                )
                first = await listener.ws.receive()
                if first.type is not aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"no snapshot: {first.type.name} {first.data!r}"[:200])
                snapshot = json.loads(first.data)
                if snapshot.get("type") != "snapshot":
                    raise RuntimeError(f"first message was {snapshot.get('type')!r}")
                listener.ids.extend(segment["id"] for segment in snapshot["segments"])
        except Exception as error:
            listener.error = f"connect: {type(error).__name__}: {error}"[:200]
            if listener.ws is not None:
                with contextlib.suppress(Exception):
                    await listener.ws.close()
            self._settle()
            return
        listener.connected = True
        self._settle()
        await self._receive(listener, listener.ws)

    async def _receive(self, listener: ListenerState, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                listener.error = f"unexpected frame {message.type.name}"
                break
            received = time.time_ns() / 1e6
            body = json.loads(message.data)
            if body.get("type") != "segments":
                listener.error = f"unexpected message: {str(body)[:150]}"
                continue
            for segment in body["segments"]:
                listener.ids.append(segment["id"])
                listener.lags.append(received - segment["timestamp"])
        if not self.stopping.is_set():
            listener.closed_early = True
            listener.error = listener.error or f"closed by the server with {ws.close_code}"

    def _settle(self) -> None:
        self._settled_count += 1
        if self._settled_count == len(self.listeners):
            self.settled.set()

    async def _watch_loop(self) -> None:
        """Sample this process's event-loop delay: lag the clients themselves add."""
        period = 0.05
        for _ in range(int(self.config.max_seconds / period) + 1):
            before = time.perf_counter()
            await asyncio.sleep(period)
            self.loop_lags.append((time.perf_counter() - before - period) * 1000)

    async def _drain(self, expected: dict[str, int], timeout: float) -> dict[str, Any]:
        """Wait until every live listener holds its conversation's ``expected`` count."""
        started = time.monotonic()
        deadline = started + timeout
        while True:
            waiting = sum(
                1
                for listener in self.listeners
                if listener.connected
                and not listener.closed_early
                and len(listener.ids) < expected.get(listener.conversation, 0)
            )
            if waiting == 0 or time.monotonic() > deadline:
                return {
                    "event": "drained",
                    "waiting": waiting,
                    "seconds": round(time.monotonic() - started, 3),
                }
            await asyncio.sleep(0.05)

    def _report(self, expected: dict[str, list[str]]) -> dict[str, Any]:
        groups: dict[str, dict[str, Any]] = {}
        for conversation in self.config.groups:
            mine = [item for item in self.listeners if item.conversation == conversation]
            verdicts = [verify(item.ids, expected.get(conversation, [])) for item in mine]
            groups[conversation] = {
                "listeners": len(mine),
                "connected": sum(1 for item in mine if item.connected),
                "closed_early": sum(1 for item in mine if item.closed_early),
                "errors": sum(1 for item in mine if item.error),
                "error_samples": [item.error for item in mine if item.error][:5],
                "receipts": sum(len(item.ids) for item in mine),
                "exact": sum(1 for verdict in verdicts if verdict["exact"]),
                **{
                    key: sum(int(verdict[key]) for verdict in verdicts)
                    for key in ("missing", "duplicates", "out_of_order", "unexpected")
                },
                "lags": [round(lag, 1) for item in mine for lag in item.lags],
            }
        ordered = sorted(self.loop_lags)
        return {
            "event": "report",
            "groups": groups,
            "cpu_seconds": round(time.process_time() - self.cpu_mark, 3),
            "loop_lag_ms": {
                "p99": percentile(ordered, 99),
                "max": ordered[-1] if ordered else None,
            },
        }


def verify(received: list[str], expected: list[str]) -> dict[str, int | bool]:
    """Compare one listener's segment ids with what was stored, in cursor order."""
    position = {segment_id: index for index, segment_id in enumerate(expected)}
    seen: set[str] = set()
    duplicates = unexpected = out_of_order = 0
    last = -1
    for segment_id in received:
        if segment_id in seen:
            duplicates += 1
            continue
        seen.add(segment_id)
        index = position.get(segment_id)
        if index is None:
            unexpected += 1
            continue
        if index < last:
            out_of_order += 1
        last = max(last, index)
    return {
        "exact": received == expected,
        "missing": len(expected) - len(seen & position.keys()),
        "duplicates": duplicates,
        "out_of_order": out_of_order,
        "unexpected": unexpected,
    }


def run_worker(config_json: str) -> None:
    """Entry point of a client process (``--worker``)."""
    raise_nofile_limit()
    # Ctrl-C reaches the whole foreground process group; the orchestrator decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config = WorkerConfig.from_json(config_json)

    async def bounded() -> None:
        async with asyncio.timeout(config.max_seconds):
            await ClientWorker(config).run()

    asyncio.run(bounded())


# ---------------------------------------------------------------------------------------------
# Orchestrator side: processes, /proc, /metrics


# The broadcaster's entry point, timing the garbage collector's pauses (to argv[1] + ".gc.json")
# and, when argv[2] is "cprofile", profiling it (to argv[1]). Both are written on graceful shutdown.
INSTRUMENTED_BROADCASTER = """
import cProfile, gc, json, sys, time
from captionist_broadcaster.app import main
pauses, started = [], {}
def on_gc(phase, info):
    if phase == "start":
        started["t"] = time.perf_counter()
    elif "t" in started:
        ms = (time.perf_counter() - started.pop("t")) * 1000
        pauses.append((info["generation"], ms, time.time()))
gc.callbacks.append(on_gc)
try:
    if sys.argv[2] == "cprofile":
        cProfile.run("main()", sys.argv[1])
    else:
        main()
finally:
    summary = {}
    for generation in (0, 1, 2):
        ms = sorted(p for g, p, _ in pauses if g == generation)
        if ms:
            p99 = ms[int(len(ms) * 0.99)]
            summary[generation] = {"count": len(ms), "total_ms": round(sum(ms), 1),
                                   "max_ms": round(ms[-1], 1), "p99_ms": round(p99, 1)}
    summary["full_collections"] = [(round(at, 3), round(ms, 1)) for g, ms, at in pauses if g == 2]
    with open(sys.argv[1] + ".gc.json", "w") as out:
        json.dump(summary, out, indent=1)
"""


# ---------------------------------------------------------------------------------------------
# The benchmark


@dataclass
class Stack:
    """The processes of one benchmark run."""

    settings: CaptionistSettings
    port: int
    moto: subprocess.Popen[bytes] | None = None
    broadcaster: subprocess.Popen[bytes] | None = None
    workers: list[WorkerProcess] = field(default_factory=list)

    def stop(self) -> None:
        """Stop every process this run started, clients first (bounded: each is killed if slow)."""
        # A second Ctrl-C (uv forwards one too) must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for worker in self.workers:
            with contextlib.suppress(Exception):
                worker.stop(timeout=10)
        self.workers.clear()
        for process in (self.broadcaster, self.moto):
            if process is not None:
                with contextlib.suppress(Exception):
                    stop_process(process)


def start_stack(args: argparse.Namespace, broadcaster_log: IO[bytes]) -> Stack:
    """moto server with the resources, and one broadcaster process."""
    moto_port = free_port()
    endpoint = f"http://{HOST}:{moto_port}"
    shared_env = {
        "CAPTIONIST_ENV": f"bench{uuid.uuid4().hex[:8]}",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "CAPTIONIST_LOG_FORMAT": "json",
        "CAPTIONIST_LOG_LEVEL": "WARNING",
    }
    os.environ.update(shared_env)
    os.environ.pop("AWS_PROFILE", None)
    settings = CaptionistSettings(env=shared_env["CAPTIONIST_ENV"], aws_endpoint_url=endpoint)
    stack = Stack(settings=settings, port=free_port())
    try:
        stack.moto = start_moto_in_order(moto_port)
        ensure_resources(settings)
        script = shutil.which("captionist-broadcaster", path=str(Path(sys.executable).parent))
        if script is None:
            raise RuntimeError("console script captionist-broadcaster not found next to python")
        env = {
            **os.environ,
            "CAPTIONIST_BROADCASTER_HOST": HOST,
            "CAPTIONIST_BROADCASTER_PORT": str(stack.port),
        }
        if args.poll_interval is not None:
            env["CAPTIONIST_BROADCASTER_POLL_INTERVAL"] = str(args.poll_interval)
        command = [script]
        if args.profile or args.gc_trace:
            command = [
                sys.executable,
                "-c",
                INSTRUMENTED_BROADCASTER,
                str(Path(args.profile or args.gc_trace).resolve()),
                "cprofile" if args.profile else "gc",
            ]
        stack.broadcaster = subprocess.Popen(
            command,
            env=env,
            stdout=broadcaster_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C goes to us; we stop it in order
        )
        wait_for_http(f"http://{HOST}:{stack.port}/api/stt/healthcheck", 60, stack.broadcaster)
    except BaseException:
        stack.stop()
        raise
    return stack


def inject(
    settings: CaptionistSettings, conversations: list[str], count: int, rate: float
) -> tuple[dict[str, list[str]], list[float]]:
    """Store ``count`` segments per conversation at ``rate`` per second, as the processor does.

    Returns each conversation's segment ids in cursor order and every put_item's duration (ms).
    """
    dynamodb = sync_client("dynamodb", settings)
    serializer = TypeSerializer()
    table = settings.conversations_table
    stored: dict[str, list[Segment]] = {conversation: [] for conversation in conversations}
    put_ms: list[float] = []
    started = time.monotonic()
    for k in range(count):
        delay = started + k / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        for conversation in conversations:
            segment = Segment.model_validate(
                {
                    "id": f"{conversation}.{k:06d}",
                    "conversation": conversation,
                    "speaker": "Bench",
                    "text": SEGMENT_TEXT.format(k=k),
                    "start": k * 2.0,
                    "end": k * 2.0 + 1.5,
                    "timestamp": now_ms(),
                }
            )
            item = {key: serializer.serialize(value) for key, value in segment.to_item().items()}
            before = time.perf_counter()
            dynamodb.put_item(TableName=table, Item=item)
            put_ms.append((time.perf_counter() - before) * 1000)
            stored[conversation].append(segment)
    # The window lasts the whole duration, so rates and CPU % are per second of steady injection.
    remaining = started + count / rate - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    return (
        {
            conversation: [segment.id for segment in sorted(segments, key=lambda s: s.cursor)]
            for conversation, segments in stored.items()
        },
        put_ms,
    )


def run_phase(
    stack: Stack, args: argparse.Namespace, listeners: int, client_log: IO[bytes]
) -> dict[str, Any]:
    """Connect ``listeners``, inject for ``args.duration`` seconds, measure, disconnect."""
    assert stack.broadcaster is not None
    assert stack.moto is not None
    run_id = uuid.uuid4().hex[:6]
    main = f"bench-{listeners}-{run_id}"
    others = [f"bench-{listeners}-{run_id}-other{i}" for i in range(args.other_conversations)]
    processes = max(1, min(args.client_processes, listeners))
    connect_budget = 60 + listeners / 25
    count = max(1, round(args.duration * args.rate))
    max_seconds = connect_budget + args.duration + args.drain_timeout + 120
    for index, share in enumerate(split(listeners, processes)):
        groups = {main: share}
        if index == 0:
            groups.update(dict.fromkeys(others, args.other_listeners))
        config = WorkerConfig(
            port=stack.port,
            groups=groups,
            concurrency=max(1, args.connect_concurrency // processes),
            compress=args.compress,
            handshake_timeout=30,
            max_seconds=max_seconds,
        )
        stack.workers.append(WorkerProcess("bench.fanout", index, config.to_json(), client_log))
    broadcaster_pid = stack.broadcaster.pid
    cpu_before_connect = cpu_seconds(broadcaster_pid)
    connect_started = time.monotonic()
    connected = [worker.expect("connected", connect_budget) for worker in stack.workers]
    connect_seconds = time.monotonic() - connect_started
    connect_cpu = cpu_seconds(broadcaster_pid) - cpu_before_connect
    print(
        f"  connected {sum(c['connected'] for c in connected)}/"
        f"{listeners + len(others) * args.other_listeners}"
        f" in {connect_seconds:.1f} s; injecting {count} segments per conversation",
        flush=True,
    )
    rss_connected = memory_mib(broadcaster_pid)
    pids = {
        "broadcaster": [broadcaster_pid],
        "moto": [stack.moto.pid],
        "clients": [worker.process.pid for worker in stack.workers],
        "orchestrator": [os.getpid()],
    }
    metrics_before = scrape(stack.port)
    cpu_before = {name: sum(map(cpu_seconds, group)) for name, group in pids.items()}
    for worker in stack.workers:
        worker.send({"cmd": "start"})
    window_started = time.monotonic()
    window_epoch = [time.time()]
    expected, put_ms = inject(stack.settings, [main, *others], count, args.rate)
    window = time.monotonic() - window_started
    window_epoch.append(time.time())
    cpu_after = {name: sum(map(cpu_seconds, group)) for name, group in pids.items()}
    metrics_after = scrape(stack.port)
    rss_window_end = memory_mib(broadcaster_pid)
    expected_counts = {conversation: len(ids) for conversation, ids in expected.items()}
    for worker in stack.workers:
        worker.send({"cmd": "drain", "expected": expected_counts, "timeout": args.drain_timeout})
    drained = [worker.expect("drained", args.drain_timeout + 30) for worker in stack.workers]
    for worker in stack.workers:
        worker.send({"cmd": "report", "expected": expected})
    reports = [worker.expect("report", 120) for worker in stack.workers]
    metrics_end = scrape(stack.port)
    hwm = memory_mib(broadcaster_pid, "VmHWM")
    for worker in stack.workers:
        worker.stop()
    stack.workers.clear()
    wait_until_zero(
        stack.port,
        "captionist_broadcaster_listeners",
        "listeners still open on the broadcaster",
        60,
    )

    main_lags: list[float] = []
    totals = dict.fromkeys(
        (
            "listeners",
            "connected",
            "closed_early",
            "errors",
            "receipts",
            "exact",
            "missing",
            "duplicates",
            "out_of_order",
            "unexpected",
        ),
        0,
    )
    other_totals = dict(totals)
    error_samples: list[str] = []
    for report in reports:
        for conversation, group in report["groups"].items():
            target = totals if conversation == main else other_totals
            for key in target:
                target[key] += int(group[key])
            if conversation == main:
                main_lags.extend(group["lags"])
            error_samples.extend(group["error_samples"])
    polls = metric(metrics_after, "captionist_broadcaster_polls_total") - metric(
        metrics_before, "captionist_broadcaster_polls_total"
    )
    feeds = 1 + len(others)
    poll_interval = args.poll_interval or BroadcasterSettings.model_fields["poll_interval"].default
    lag = summarize(main_lags)
    return {
        "listeners": listeners,
        "conversation_listeners": totals,
        "other_conversations": {
            "conversations": len(others),
            "listeners_each": args.other_listeners,
            **other_totals,
        },
        "connect": {
            "seconds": round(connect_seconds, 2),
            "failed": sum(int(c["failed"]) for c in connected),
            "broadcaster_cpu_seconds": round(connect_cpu, 2),
        },
        "segments_injected": count,
        "receipts_expected": totals["connected"] * count,
        "lag_ms": lag,
        "goal_met": (
            lag["p99"] is not None
            and lag["p99"] < GOAL_P99_MS
            and totals["exact"] == listeners
            and totals["receipts"] == listeners * count
        ),
        "errors": error_samples[:10],
        "slow_listeners_dropped": metric(metrics_end, "captionist_broadcaster_slow_listeners_total")
        - metric(metrics_before, "captionist_broadcaster_slow_listeners_total"),
        "drain": drained,
        "window_seconds": round(window, 2),
        "window_epoch": [round(at, 3) for at in window_epoch],
        "broadcaster": {
            "cpu_percent": round(
                100 * (cpu_after["broadcaster"] - cpu_before["broadcaster"]) / window, 1
            ),
            "rss_mib_connected": round(rss_connected, 1),
            "rss_mib_window_end": round(rss_window_end, 1),
            "rss_mib_peak": round(hwm, 1),
            "queries_per_second": round(polls / window, 2),
            "queries_per_second_expected": round(feeds / poll_interval, 2),
            "poll_ms_mean": seconds_ms(
                histogram_mean(metrics_before, metrics_end, "captionist_broadcaster_poll_seconds")
            ),
            "poll_ms_p99_bucket": seconds_ms(
                histogram_bound(
                    metrics_before, metrics_end, "captionist_broadcaster_poll_seconds", 0.99
                )
            ),
            "server_lag_ms_mean": seconds_ms(
                histogram_mean(
                    metrics_before, metrics_end, "captionist_broadcaster_delivery_lag_seconds"
                )
            ),
            "server_lag_ms_p99_bucket": seconds_ms(
                histogram_bound(
                    metrics_before,
                    metrics_end,
                    "captionist_broadcaster_delivery_lag_seconds",
                    0.99,
                )
            ),
        },
        "cpu_percent": {
            name: round(100 * (cpu_after[name] - cpu_before[name]) / window, 1) for name in pids
        },
        "client_loop_lag_ms": {
            "p99": round(max((r["loop_lag_ms"]["p99"] or 0.0) for r in reports), 1),
            "max": round(max((r["loop_lag_ms"]["max"] or 0.0) for r in reports), 1),
        },
        "put_item_ms": {
            key: round(value, 1) if value is not None else None
            for key, value in summarize(put_ms).items()
        },
    }


# ---------------------------------------------------------------------------------------------
# Reporting


def render_section(result: dict[str, Any]) -> str:
    """The markdown section for docs/benchmarks.md."""
    params = result["parameters"]
    host = result["machine"]
    phases = result["phases"]
    goal_phase = next((p for p in phases if p["listeners"] == GOAL_LISTENERS), None)
    if goal_phase is None:
        verdict = f"not measured in this run (no {GOAL_LISTENERS:,}-listener phase)"
    elif goal_phase["goal_met"]:
        verdict = f"**met**: p99 {fmt(goal_phase['lag_ms']['p99'])} ms at {GOAL_LISTENERS:,}"
    else:
        verdict = (
            f"**missed**: p99 {fmt(goal_phase['lag_ms']['p99'])} ms at {GOAL_LISTENERS:,}"
            if goal_phase["lag_ms"]["p99"] is not None
            else "**missed**: no segment delivered"
        )
    rows = [
        "| listeners | connected | receipts / expected | exactly once, in order | lag p50 | p95 | "
        "p99 | max | errors / disconnects | broadcaster CPU | RSS connected → peak | "
        "DynamoDB queries/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in phases:
        c = phase["conversation_listeners"]
        b = phase["broadcaster"]
        lag = phase["lag_ms"]
        violations = c["missing"] + c["duplicates"] + c["out_of_order"] + c["unexpected"]
        violations += sum(
            phase["other_conversations"][key]
            for key in ("missing", "duplicates", "out_of_order", "unexpected")
        )
        errors = phase["connect"]["failed"] + c["errors"] + phase["other_conversations"]["errors"]
        disconnects = c["closed_early"] + phase["other_conversations"]["closed_early"]
        rows.append(
            f"| {phase['listeners']:,} | {c['connected']:,} | {c['receipts']:,} / "
            f"{phase['listeners'] * phase['segments_injected']:,} | "
            f"{c['exact']:,} listeners, {violations} violations | "
            f"{fmt(lag['p50'])} ms | {fmt(lag['p95'])} ms | {fmt(lag['p99'])} ms | "
            f"{fmt(lag['max'])} ms | {errors} / {disconnects} | {fmt(b['cpu_percent'])} % | "
            f"{fmt(b['rss_mib_connected'])} → {fmt(b['rss_mib_peak'])} MiB | "
            f"{fmt(b['queries_per_second'], 1)} "
            f"(expected {fmt(b['queries_per_second_expected'], 1)}) |"
        )
    detail = [
        "| listeners | connect time | client loop delay p99 / max | CPU % broadcaster / "
        "clients / moto / injector | broadcaster poll mean / p99≤ | broadcaster lag mean / p99≤ | "
        "put_item p50 / p99 |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in phases:
        cpu = phase["cpu_percent"]
        b = phase["broadcaster"]
        loop = phase["client_loop_lag_ms"]
        put = phase["put_item_ms"]
        detail.append(
            f"| {phase['listeners']:,} | {phase['connect']['seconds']:.1f} s | "
            f"{fmt(loop['p99'])} / {fmt(loop['max'])} ms | "
            f"{fmt(cpu['broadcaster'])} / {fmt(cpu['clients'])} / {fmt(cpu['moto'])} / "
            f"{fmt(cpu['orchestrator'])} | "
            f"{fmt(b['poll_ms_mean'], 1)} / {fmt(b['poll_ms_p99_bucket'])} ms | "
            f"{fmt(b['server_lag_ms_mean'])} / {fmt(b['server_lag_ms_p99_bucket'])} ms | "
            f"{fmt(put['p50'], 1)} / {fmt(put['p99'], 1)} ms |"
        )
    deflate = (
        "clients offer permessage-deflate, as browsers do (the broadcaster declines it)"
        if params["compress"]
        else "no permessage-deflate"
    )
    lines = [
        SECTION,
        "",
        f"Goal: {GOAL_LISTENERS:,} listeners of one conversation on ONE broadcaster process on "
        f"this 2-core machine, delivery lag p99 < {GOAL_P99_MS:.0f} ms, every segment delivered "
        f"exactly once and in order. Result: {verdict}.",
        "",
        *rows,
        "",
        "CPU % is of one core (200 % = both cores). RSS is the broadcaster's VmRSS once every "
        "listener is connected, and its VmHWM at the end of the phase. DynamoDB queries/s is the "
        "increase of `captionist_broadcaster_polls_total` over the injection window: one read loop "
        "per conversation, so it must not grow with listeners.",
        "",
        "Where the time and CPU go (same phases):",
        "",
        *detail,
        "",
        "*client loop delay*: how late the client processes' own event loops ran (lag they add to "
        "the measurement). *broadcaster poll*: one DynamoDB query "
        "(`captionist_broadcaster_poll_seconds`); *broadcaster lag*: segment timestamp → handed "
        "to the listeners' send buffers (`captionist_broadcaster_delivery_lag_seconds`); "
        '"p99≤" is the histogram bucket bound.',
        "",
        f"- Run: {result['date']}, commit `{result['commit']}`, "
        f"`{' '.join(['python -m bench.fanout', result['command_line']]).strip()}` "
        f"({len(phases)} phase(s), one run: expect run-to-run spread in the tails).",
        f"- Parameters: listeners {', '.join(f'{n:,}' for n in params['listeners'])} on one "
        f"conversation (+ {params['other_conversations']} other conversation(s) with "
        f"{params['other_listeners']} listeners each, receiving the same rate); "
        f"{params['rate']:g} segments/s per conversation for {params['duration']:g} s; broadcaster "
        f"poll interval {params['poll_interval']:g} s; {params['client_processes']} client "
        f"process(es); connects in waves of at most {params['connect_concurrency']} handshakes; "
        f"{deflate}.",
        f"- Machine: {host['cpu']}, {host['cores']} cores, {host['ram_gib']:g} GiB RAM, Linux "
        f"{host['kernel']}, Python {host['python']}, aiohttp {host['aiohttp']}.",
        "",
        "Method: `python -m bench.fanout` starts moto server and one broadcaster "
        "(its console script, logging at WARNING) on 127.0.0.1. For each listener count it "
        "starts client processes "
        "(aiohttp websockets, never in the broadcaster's process) that connect to "
        "`/api/stt/connect` and wait for their snapshot; then the script stores segments straight "
        "into the DynamoDB table with `put_item`, as the processor does, each with `timestamp` = "
        "the wall clock just before the write. Lag is measured from that timestamp to the moment "
        "a listener's client reads the message, for every (listener, segment): it includes the "
        "write to moto, the wait for the broadcaster's next poll (on average half the poll "
        "interval), the query, the fan-out and the client's own scheduling. In production the "
        "timestamp is the stabilization time, a little before the write, so real lags are slightly "
        "longer. After the window the script waits (bounded) for stragglers, then checks each "
        "listener's sequence of segment ids against the stored ones in cursor order. Clients, "
        "moto and the broadcaster share the same 2 cores, so every figure is pessimistic for the "
        "broadcaster alone: the clients' CPU is listed above. Raw numbers: "
        "`bench/.results/fanout.json`.",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Entry point


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--listeners",
        default="100,1000,5000",
        help="comma-separated listener counts, one phase each (default 100,1000,5000)",
    )
    parser.add_argument(
        "--duration", type=float, default=30, help="injection seconds per phase (default 30)"
    )
    parser.add_argument(
        "--rate", type=float, default=2, help="segments per second per conversation (default 2)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 20 listeners, 5 s; does not touch docs/ unless --docs",
    )
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--other-conversations", type=int, default=1)
    parser.add_argument("--other-listeners", type=int, default=10)
    parser.add_argument(
        "--poll-interval", type=float, default=None, help="broadcaster poll interval override"
    )
    parser.add_argument(
        "--compress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="offer permessage-deflate as browsers do (default on)",
    )
    parser.add_argument("--drain-timeout", type=float, default=15)
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="run the broadcaster under cProfile and write its stats to FILE (investigation only)",
    )
    parser.add_argument(
        "--gc-trace",
        metavar="FILE",
        help="time the broadcaster's garbage-collector pauses into FILE.gc.json (investigation)",
    )
    parser.add_argument(
        "--docs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write docs/benchmarks.md and fanout.json (default: yes, except --quick/--profile)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.listeners = "20"
        args.duration = 5.0
    args.listener_counts = [int(part) for part in str(args.listeners).split(",") if part.strip()]
    if not args.listener_counts or min(args.listener_counts) < 1:
        parser.error("--listeners needs positive counts")
    if args.rate <= 0 or args.duration <= 0:
        parser.error("--rate and --duration must be positive")
    if args.docs is None:
        args.docs = not (args.quick or args.profile or args.gc_trace)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the process exit status."""
    args = parse_args(argv)
    if args.worker is not None:
        run_worker(args.worker)
        return 0
    signal.signal(signal.SIGTERM, exit_on_signal)
    limit = raise_nofile_limit()
    needed = max(args.listener_counts) + args.other_conversations * args.other_listeners + 200
    if needed > limit:
        print(f"open-file limit {limit} is below the ~{needed} this run needs", file=sys.stderr)
        return 2
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    poll_interval = args.poll_interval or BroadcasterSettings.model_fields["poll_interval"].default
    result: dict[str, Any] = {
        **run_header("fanout", argv),
        "parameters": {
            "listeners": args.listener_counts,
            "duration": args.duration,
            "rate": args.rate,
            "poll_interval": poll_interval,
            "client_processes": args.client_processes,
            "connect_concurrency": args.connect_concurrency,
            "other_conversations": args.other_conversations,
            "other_listeners": args.other_listeners,
            "compress": args.compress,
            "drain_timeout": args.drain_timeout,
            "instrumented": bool(args.profile or args.gc_trace),
        },
        "phases": [],
    }
    # fanout.json always matches the docs; smoke and ad-hoc runs keep their own files.
    name = "fanout" if args.docs else ("fanout-quick" if args.quick else "fanout-adhoc")
    with (
        (RESULTS_DIR / f"{name}-broadcaster.log").open("wb") as broadcaster_log,
        (RESULTS_DIR / f"{name}-clients.log").open("wb") as client_log,
    ):
        stack = start_stack(args, broadcaster_log)
        try:
            for listeners in args.listener_counts:
                print(f"fan-out to {listeners:,} listeners", flush=True)
                phase = run_phase(stack, args, listeners, client_log)
                result["phases"].append(phase)
                lag = phase["lag_ms"]
                print(
                    f"  lag p50 {fmt(lag['p50'])} p95 {fmt(lag['p95'])} p99 {fmt(lag['p99'])} "
                    f"max {fmt(lag['max'])} ms; receipts "
                    f"{phase['conversation_listeners']['receipts']:,}/"
                    f"{listeners * phase['segments_injected']:,}; broadcaster CPU "
                    f"{phase['broadcaster']['cpu_percent']} %, "
                    f"{phase['broadcaster']['queries_per_second']} queries/s",
                    flush=True,
                )
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
