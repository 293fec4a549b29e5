"""Speech benchmark: accuracy, latency, CPU and capacity of each transcribe-local engine.

For each engine (``CAPTIONIST_TRANSCRIBE_LOCAL_ENGINE``) it starts the whole local stack exactly as
``make run`` does (``captionist-dev run``: moto server, transcribe-local, ingest, the processor
poller, the broadcaster and the gateway) on free ports of 127.0.0.1, then speaks to it through the
gateway as a browser would: 16 kHz s16le PCM in 100 ms chunks on ``/api/stt/transcribe`` at
real-time pace, with a listener following the same conversation on ``/api/stt/connect``.

- Accuracy: the five LibriVox clips of Debian's ``pocketsphinx-testdata`` and three espeak-ng
  sentences, each in a session of its own; word error rate of the finals' text.
- Latency, in the same sessions: chunk k is sent at t0 + k * 0.1 s, so the audio up to ``e``
  seconds has been sent by t0 + e; a partial or final whose ``end`` is e arriving at t is
  t - (t0 + e) late. Partials count when their text grew; finals at the speaker (the ``final``
  message) and at the listener (the segment on ``/api/stt/connect``).
- CPU per real-time stream: each service's CPU seconds (``/proc/<pid>/stat``) per second of audio.
- Capacity: N simultaneous real-time sessions (1, 2, 3, 4, 6, 8), each looping LibriVox clips for
  about 20 s, each with its listener; the largest N at which every session ends cleanly with
  every final delivered and the listeners' final latency p95 stays within the 1.5 s goal, and the
  largest before finals fall behind (p95 more than 1 s over one stream's and over the goal).

Results go to ``docs/benchmarks.md`` (section "Speech (transcribe-local engines)") and, raw, to
``bench/.results/speech.json``. ``python -m bench.speech --quick`` is a smoke run (two clips, N = 1
and 2 for 8 s) that leaves the docs alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import typing
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from bench.common import (
    HOST,
    RESULTS_DIR,
    ROOT,
    cpu_seconds,
    exit_on_signal,
    fmt,
    free_port,
    histogram_mean,
    machine_busy_seconds,
    memory_mib,
    run_header,
    save_results,
    scrape,
    summarize,
)
from captionist_dev.speech import (
    ESPEAK_SENTENCES,
    SAMPLE_RATE,
    Clip,
    espeak_clip,
    goforward_clip,
    librivox_clips,
    normalize,
    silence,
    word_error_rate,
)
from captionist_dev.stack import BANNER_TITLE
from captionist_transcribe_local.settings import TranscribeLocalSettings

SECTION = "## Speech (transcribe-local engines)"
DEFAULT_ENGINES = ("pocketsphinx", "whisper", "hybrid")
DEFAULT_STREAMS = (1, 2, 3, 4, 6, 8)
GOAL_WER = 0.08
GOAL_PARTIAL_MS = 300.0
GOAL_FINAL_LISTENER_MS = 1500.0
CHUNK_SECONDS = 0.1
CHUNK_BYTES = int(SAMPLE_RATE * CHUNK_SECONDS) * 2
# Finals fall behind once the listeners' final latency p95 exceeds both the goal and one
# stream's own p95 by this much (or a session fails).
BEHIND_MARGIN_MS = 1000.0
GAP_SECONDS = 0.8  # silence between the clips a capacity session loops over
START_TIMEOUT = 120.0
END_TIMEOUT = 30.0  # a session's wait for its close after {"type":"end"}
QUIET_CORES = 0.25  # other work on the machine before an engine's run starts, at most
LISTENER_TIMEOUT = 15.0  # the listener's wait for the last final, after the speaker is done
# The processes of the stack, by what their command line contains.
PROCESSES = {
    "transcribe-local": "captionist-transcribe-local",
    "ingest": "captionist-ingest",
    "processor": "captionist-processor-poller",
    "broadcaster": "captionist-broadcaster",
    "gateway": "captionist_dev.gateway",
    "moto": "moto.server",
}
PEER_NOTE = (
    "For scale: a well-known self-hosted peer, measured earlier on this machine with the same "
    "tiny.en model (not by this script), took 12-16 s to finalize a short sentence and about 2 s "
    "to show its first partial."
)


def default_engine() -> str:
    """The engine transcribe-local runs when none is configured."""
    return str(TranscribeLocalSettings.model_fields["engine"].default)


def known_engines() -> tuple[str, ...]:
    """The engine names transcribe-local accepts at this commit."""
    return tuple(
        str(name)
        for name in typing.get_args(TranscribeLocalSettings.model_fields["engine"].annotation)
    )


# ---------------------------------------------------------------------------------------------
# The stack, as `make run` starts it


@dataclass
class SpeechStack:
    """A running ``captionist-dev run`` with one engine, and where its parts listen."""

    engine: str
    process: subprocess.Popen[bytes]
    ports: dict[str, int]
    log_path: Path
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        """``http://127.0.0.1:<gateway port>``."""
        return f"http://{HOST}:{self.ports['gateway']}"

    def find_pids(self) -> dict[str, int]:
        """The supervisor's children by service name (from /proc: parent pid and command line)."""
        found: dict[str, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) != self.process.pid:
                continue
            for name, marker in PROCESSES.items():
                if marker in command:
                    found[name] = int(entry.name)
        return found

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of every process of the stack, this client, and the machine."""
        figures: dict[str, float] = {}
        for name, pid in self.pids.items():
            with contextlib.suppress(OSError):
                figures[name] = cpu_seconds(pid)
        figures["client"] = time.process_time()
        figures["machine"] = machine_busy_seconds()
        return figures

    def stop(self) -> None:
        """SIGINT to the supervisor (Ctrl-C: it stops everything in order), then SIGKILL."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for pid in self.pids.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


def start_stack(engine: str, log_path: Path) -> SpeechStack:
    """``captionist-dev run`` with ``engine`` on free ports; returns once its banner is printed."""
    names = ("emulator", "gateway", "ingest", "broadcaster", "processor", "transcribe")
    ports = {name: free_port() for name in names}
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CAPTIONIST_", "AWS_"))
    }
    env.update(
        CAPTIONIST_ENV="bench",
        CAPTIONIST_LOG_FORMAT="json",
        CAPTIONIST_TRANSCRIBE_LOCAL_ENGINE=engine,
        CAPTIONIST_EMULATOR_PORT=str(ports["emulator"]),
        CAPTIONIST_GATEWAY_PORT=str(ports["gateway"]),
        CAPTIONIST_INGEST_PORT=str(ports["ingest"]),
        CAPTIONIST_BROADCASTER_PORT=str(ports["broadcaster"]),
        CAPTIONIST_PROCESSOR_PORT=str(ports["processor"]),
        CAPTIONIST_TRANSCRIBE_LOCAL_PORT=str(ports["transcribe"]),
    )
    command = [str(Path(sys.executable).parent / "captionist-dev"), "run"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # a Ctrl-C reaches us only; we stop the stack in order
        )
    stack = SpeechStack(engine=engine, process=process, ports=ports, log_path=log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while BANNER_TITLE not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            stack.stop()
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the stack with engine {engine} did not start:\n{tail}")
        time.sleep(0.2)
    stack.pids = stack.find_pids()
    missing = set(PROCESSES) - set(stack.pids)
    if missing:
        print(f"  warning: no process found for {', '.join(sorted(missing))}", flush=True)
    return stack


# ---------------------------------------------------------------------------------------------
# Speakers and listeners


@dataclass
class Utterance:
    """Audio to speak in one session, and what it says."""

    name: str
    source: str  # librivox, espeak, loop
    pcm: bytes
    references: list[str]
    onset: float | None  # audio seconds at which speech starts (energy), for the first partial

    @property
    def seconds(self) -> float:
        """Length of the audio."""
        return len(self.pcm) / (2 * SAMPLE_RATE)


@dataclass
class SessionRecord:
    """What one speaker and their listener saw; times are ``time.monotonic()``."""

    utterance: Utterance
    conversation: str
    t0: float = 0.0
    end_sent: float = 0.0
    partials: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    finals: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    heard: dict[str, float] = field(default_factory=dict)  # listener: segment id -> arrival
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    close_code: int | None = None
    pacing_lateness: list[float] = field(default_factory=list)

    @property
    def hypothesis(self) -> str:
        """The finals' text, in order."""
        return " ".join(segment["text"] for _, segment in self.finals)

    def partial_latencies(self) -> list[float]:
        """Seconds from the audio up to a partial's end being sent to the partial, when it grew."""
        words: dict[str, int] = {}
        latencies = []
        for arrival, partial in self.partials:
            count = len(normalize(partial.get("text", "")).split())
            if count > words.get(partial["resultId"], 0):
                latencies.append(arrival - (self.t0 + float(partial["end"])))
            words[partial["resultId"]] = max(count, words.get(partial["resultId"], 0))
        return latencies

    def first_partial_latency(self) -> float | None:
        """Seconds from speech onset (in the audio) to the first partial or final with words."""
        if self.utterance.onset is None:
            return None
        shown = [arrival for arrival, p in self.partials if p.get("text", "").strip()]
        shown += [arrival for arrival, s in self.finals if s.get("text", "").strip()]
        return min(shown) - (self.t0 + self.utterance.onset) if shown else None

    def final_latencies(self) -> list[float]:
        """Seconds from each segment's end being sent to its ``final`` at the speaker."""
        return [arrival - (self.t0 + float(s["end"])) for arrival, s in self.finals]

    def listener_latencies(self) -> list[float]:
        """Seconds from each segment's end being sent to its arrival at the listener."""
        return [
            self.heard[s["id"]] - (self.t0 + float(s["end"]))
            for _, s in self.finals
            if s["id"] in self.heard
        ]

    def pipeline_delays(self) -> list[float]:
        """Seconds from each ``final`` at the speaker to the same segment at the listener."""
        return [
            self.heard[s["id"]] - arrival for arrival, s in self.finals if s["id"] in self.heard
        ]

    def flushed(self) -> int:
        """Finals that came only after ``end`` was sent (the flush, not the engine's endpoint)."""
        return sum(1 for arrival, _ in self.finals if arrival > self.end_sent)

    def missing_at_listener(self) -> int:
        """Finals the listener never received."""
        return sum(1 for _, s in self.finals if s["id"] not in self.heard)

    def ok(self) -> bool:
        """Ended with 1000, no error or status change, every final at the listener."""
        return (
            not self.errors
            and self.close_code == 1000
            and not self.missing_at_listener()
            and self.duplicates == 0
            and bool(self.finals)
        )


async def listen(
    http: aiohttp.ClientSession, base: str, record: SessionRecord, ready: asyncio.Event
) -> None:
    """Follow the record's conversation and note when each segment arrives."""
    url = f"{base}/api/stt/connect?conversation={record.conversation}"
    async with http.ws_connect(url, heartbeat=None) as ws:
        async for message in ws:
            arrival = time.monotonic()
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if data.get("type") == "snapshot":
                ready.set()
            for segment in data.get("segments", []):
                if segment["id"] in record.heard:
                    record.duplicates += 1
                else:
                    record.heard[segment["id"]] = arrival
    ready.set()


async def speak(http: aiohttp.ClientSession, base: str, record: SessionRecord) -> None:
    """Stream the utterance at real-time pace in 100 ms chunks, then end; note every answer."""
    url = (
        f"{base}/api/stt/transcribe?sampleRate={SAMPLE_RATE}"
        f"&conversation={record.conversation}&speaker=Bench"
    )
    pcm = record.utterance.pcm
    chunks = [pcm[i : i + CHUNK_BYTES] for i in range(0, len(pcm), CHUNK_BYTES)]
    async with http.ws_connect(url, heartbeat=None) as ws:
        first = await ws.receive(timeout=30)
        if first.type != aiohttp.WSMsgType.TEXT or json.loads(first.data).get("type") != "ready":
            record.errors.append(f"first message {first.type.name} {str(first.data)[:200]}")
            record.close_code = ws.close_code
            return

        async def read() -> None:
            async for message in ws:
                arrival = time.monotonic()
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                kind = data.get("type")
                if kind == "partial":
                    record.partials.append((arrival, data))
                elif kind == "final":
                    record.finals.append((arrival, data["segment"]))
                elif kind == "error":
                    record.errors.append(f"{data.get('code')}: {data.get('message')}")
                elif kind == "status" and data.get("state") != "live":
                    record.statuses.append(str(data.get("state")))
                    record.errors.append(f"status {data.get('state')}")

        reader = asyncio.create_task(read())
        try:
            record.t0 = time.monotonic()
            for k, chunk in enumerate(chunks):
                due = record.t0 + k * CHUNK_SECONDS
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                record.pacing_lateness.append(max(0.0, time.monotonic() - due))
                if ws.closed:
                    break
                await ws.send_bytes(chunk)
            # The last chunk's audio ends at t0 + len(chunks) * 0.1: then the speaker stops.
            delay = record.t0 + len(chunks) * CHUNK_SECONDS - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            record.end_sent = time.monotonic()
            if not ws.closed:
                await ws.send_str('{"type":"end"}')
            await asyncio.wait_for(asyncio.shield(reader), END_TIMEOUT)
        except TimeoutError:
            record.errors.append(f"no close within {END_TIMEOUT:g} s of the end")
        finally:
            if not reader.done():
                reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            record.close_code = ws.close_code


async def converse(
    http: aiohttp.ClientSession, base: str, utterance: Utterance, delay: float = 0.0
) -> SessionRecord:
    """One speaker session with a listener on its conversation, from before the first chunk."""
    record = SessionRecord(utterance=utterance, conversation=f"bench-{uuid.uuid4().hex[:12]}")
    if delay:
        await asyncio.sleep(delay)
    ready = asyncio.Event()
    listener = asyncio.create_task(listen(http, base, record, ready))
    try:
        await asyncio.wait_for(ready.wait(), 15)
        await speak(http, base, record)
        deadline = time.monotonic() + LISTENER_TIMEOUT
        while time.monotonic() < deadline and record.missing_at_listener():
            await asyncio.sleep(0.05)
    except (aiohttp.ClientError, TimeoutError) as error:
        record.errors.append(f"{type(error).__name__}: {error}")
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
            await listener
    return record


# ---------------------------------------------------------------------------------------------
# Audio


def speech_onset(pcm: bytes, sustain: int = 5) -> float | None:
    """Audio seconds where speech starts: the first of ``sustain`` 10 ms frames in a row louder
    (RMS) than a tenth of the loudest frame, so that a click or a breath does not count."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    frame = SAMPLE_RATE // 100
    count = len(samples) // frame
    if count < sustain:
        return None
    rms = np.sqrt(np.mean(samples[: count * frame].reshape(count, frame) ** 2, axis=1))
    loud = (rms > 0.1 * float(rms.max())).astype(np.int64)
    runs = np.convolve(loud, np.ones(sustain, dtype=np.int64), mode="valid")
    starts = np.flatnonzero(runs == sustain)
    return float(starts[0]) * 0.01 if len(starts) else None


def accuracy_utterances(quick: bool, trailing: float) -> list[Utterance]:
    """Each LibriVox clip and espeak sentence alone, followed by ``trailing`` seconds of silence."""
    clips: list[tuple[str, Clip]] = [("librivox", clip) for clip in librivox_clips()]
    for number, sentence in enumerate(ESPEAK_SENTENCES, 1):
        spoken = espeak_clip(sentence)
        clips.append(("espeak", Clip(f"espeak-{number}", spoken.pcm, spoken.text)))
    if quick:
        clips = [clips[1], clips[-1]]
    return [
        Utterance(
            name=clip.name,
            source=source,
            pcm=clip.pcm + silence(trailing),
            references=[clip.text],
            onset=speech_onset(clip.pcm),
        )
        for source, clip in clips
    ]


def loop_utterance(index: int, seconds: float, trailing: float) -> Utterance:
    """Whole LibriVox clips, starting at clip ``index``, with gaps, for at least ``seconds``."""
    clips = librivox_clips()
    parts: list[bytes] = []
    references: list[str] = []
    total = 0.0
    k = index
    while total < seconds:
        clip = clips[k % len(clips)]
        parts += [clip.pcm, silence(GAP_SECONDS)]
        references.append(clip.text)
        total += clip.seconds + GAP_SECONDS
        k += 1
    pcm = b"".join(parts) + silence(max(0.0, trailing - GAP_SECONDS))
    onset = speech_onset(clips[index % len(clips)].pcm)
    return Utterance(f"loop-{index}", "loop", pcm, references, onset)


# ---------------------------------------------------------------------------------------------
# Measuring one engine


def _ms(values: list[float]) -> dict[str, float | None]:
    figures: dict[str, float | None] = {
        key: (round(value * 1000) if value is not None else None)
        for key, value in summarize(values).items()
        if key != "mean"
    }
    figures["count"] = len(values)
    return figures


def _cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds per process over a window, and ``other``: what the rest of the machine used."""
    delta = {name: after[name] - before[name] for name in after if name in before}
    ours = sum(value for name, value in delta.items() if name != "machine")
    delta["other"] = max(0.0, delta.pop("machine", ours) - ours)
    return delta


def _per_stream(cpu: dict[str, float], audio: float) -> dict[str, float]:
    """Each stack process's CPU seconds per second of audio streamed."""
    return {
        name: round(value / audio, 3)
        for name, value in cpu.items()
        if name in PROCESSES and audio > 0
    }


def wait_for_quiet(limit: float, budget: float) -> float:
    """Wait (at most ``budget`` s) until the machine's other load is under ``limit`` cores.

    Returns the load seen last, in cores: other work on this shared machine skews every figure.
    """
    deadline = time.monotonic() + budget
    while True:
        before, mark = machine_busy_seconds(), time.monotonic()
        time.sleep(2)
        load = (machine_busy_seconds() - before) / (time.monotonic() - mark)
        if load < limit or time.monotonic() > deadline:
            return load


def summarize_sessions(records: list[SessionRecord]) -> dict[str, Any]:
    """Latency and correctness figures over a group of sessions."""
    first = [v for v in (r.first_partial_latency() for r in records) if v is not None]
    lateness = sorted(v for r in records for v in r.pacing_lateness)
    return {
        "sessions": len(records),
        "sessions_ok": sum(1 for r in records if r.ok()),
        "errors": sorted({e for r in records for e in r.errors}),
        "finals": sum(len(r.finals) for r in records),
        "flushed_finals": sum(r.flushed() for r in records),
        "missing_at_listener": sum(r.missing_at_listener() for r in records),
        "duplicates_at_listener": sum(r.duplicates for r in records),
        "latency_ms": {
            "partial": _ms([v for r in records for v in r.partial_latencies()]),
            "first_partial": _ms(first),
            "final_speaker": _ms([v for r in records for v in r.final_latencies()]),
            "final_listener": _ms([v for r in records for v in r.listener_latencies()]),
            "speaker_to_listener": _ms([v for r in records for v in r.pipeline_delays()]),
        },
        "partials_grown": sum(len(r.partial_latencies()) for r in records),
        "pacing_lateness_ms_max": round(1000 * lateness[-1], 1) if lateness else None,
        "wer": round(
            word_error_rate(
                [ref for r in records for ref in r.utterance.references],
                [r.hypothesis for r in records],
            ),
            4,
        )
        if records
        else None,
    }


async def run_accuracy(
    stack: SpeechStack, utterances: list[Utterance]
) -> tuple[list[SessionRecord], float]:
    """Each utterance in a session of its own, one after the other; and the wall seconds."""
    records = []
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        for utterance in utterances:
            record = await converse(http, stack.gateway, utterance)
            records.append(record)
            errors = f" errors {record.errors}" if record.errors else ""
            print(
                f"    {utterance.name}: {len(record.finals)} final(s), "
                f"WER {word_error_rate(utterance.references, [record.hypothesis]):.2f}{errors}",
                flush=True,
            )
    return records, time.monotonic() - started


async def run_streams(
    stack: SpeechStack, streams: int, seconds: float, trailing: float
) -> tuple[list[SessionRecord], float]:
    """``streams`` simultaneous sessions, their starts spread over a second; and the wall time."""
    utterances = [loop_utterance(i, seconds, trailing) for i in range(streams)]
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        records = await asyncio.gather(
            *(
                converse(http, stack.gateway, utterance, delay=i / streams)
                for i, utterance in enumerate(utterances)
            )
        )
    return list(records), time.monotonic() - started


def measure_engine(stack: SpeechStack, args: argparse.Namespace) -> dict[str, Any]:
    """Accuracy, latency and CPU on one stream at a time, then the ramp of concurrent streams."""
    result: dict[str, Any] = {"engine": stack.engine, "available": True}
    # Warm-up (model loads, connection pools): not measured.
    clip = goforward_clip()
    warm = Utterance("warm-up", "warmup", clip.pcm + silence(1.0), [clip.text], None)
    asyncio.run(run_accuracy(stack, [warm]))

    utterances = accuracy_utterances(args.quick, args.trailing_silence)
    print(f"  accuracy and latency: {len(utterances)} sessions, one at a time", flush=True)
    cpu_before = stack.cpu()
    ingest_before = scrape(stack.ports["ingest"])
    records, wall = asyncio.run(run_accuracy(stack, utterances))
    cpu_after = stack.cpu()
    ingest_after = scrape(stack.ports["ingest"])
    audio = sum(u.seconds for u in utterances)
    summary = summarize_sessions(records)
    summary["wer_by_source"] = {
        source: round(
            word_error_rate(
                [
                    ref
                    for r in records
                    if r.utterance.source == source
                    for ref in r.utterance.references
                ],
                [r.hypothesis for r in records if r.utterance.source == source],
            ),
            4,
        )
        for source in sorted({u.source for u in utterances})
    }
    summary["clips"] = [
        {
            "name": r.utterance.name,
            "source": r.utterance.source,
            "seconds": round(r.utterance.seconds, 2),
            "onset": r.utterance.onset,
            "reference": " ".join(r.utterance.references),
            "hypothesis": r.hypothesis,
            "wer": round(word_error_rate(r.utterance.references, [r.hypothesis]), 4),
            "finals": len(r.finals),
            "final_speaker_ms": [round(v * 1000) for v in r.final_latencies()],
            "final_listener_ms": [round(v * 1000) for v in r.listener_latencies()],
            "first_partial_ms": (
                round(1000 * v) if (v := r.first_partial_latency()) is not None else None
            ),
            "errors": r.errors,
        }
        for r in records
    ]
    cpu = _cpu_delta(cpu_before, cpu_after)
    summary["audio_seconds"] = round(audio, 2)
    summary["wall_seconds"] = round(wall, 1)
    summary["cpu_per_stream"] = _per_stream(cpu, audio)
    summary["other_load_percent"] = round(100 * cpu["other"] / wall, 1)
    send = histogram_mean(ingest_before, ingest_after, "captionist_ingest_sqs_send_seconds")
    summary["ingest_sqs_send_ms_mean"] = round(send * 1000, 1) if send is not None else None
    result["single"] = summary
    lat = summary["latency_ms"]
    print(
        f"  WER {summary['wer']:.3f} {summary['wer_by_source']}; partial p50/p95 "
        f"{lat['partial']['p50']}/{lat['partial']['p95']} ms; final speaker "
        f"{lat['final_speaker']['p50']}/{lat['final_speaker']['p95']} ms, listener "
        f"{lat['final_listener']['p50']}/{lat['final_listener']['p95']} ms; transcribe-local "
        f"{summary['cpu_per_stream'].get('transcribe-local')} core-s per audio s; other load "
        f"{summary['other_load_percent']} %",
        flush=True,
    )

    ramp = []
    baseline: float | None = None  # the listeners' final latency p95 of the first (fewest) count
    for streams in args.stream_counts:
        print(f"  {streams} concurrent stream(s) for ~{args.ramp_seconds:g} s", flush=True)
        cpu_before = stack.cpu()
        records, wall = asyncio.run(
            run_streams(stack, streams, args.ramp_seconds, args.trailing_silence)
        )
        cpu = _cpu_delta(cpu_before, stack.cpu())
        audio = sum(r.utterance.seconds for r in records)
        phase = summarize_sessions(records)
        listener_p95 = phase["latency_ms"]["final_listener"]["p95"]
        phase["streams"] = streams
        phase["audio_seconds"] = round(audio, 1)
        phase["wall_seconds"] = round(wall, 1)
        phase["cpu_percent"] = {name: round(100 * value / wall, 1) for name, value in cpu.items()}
        phase["cpu_per_stream"] = _per_stream(cpu, audio)
        if baseline is None:
            baseline = listener_p95
        phase["within_goal"] = (
            phase["sessions_ok"] == streams
            and listener_p95 is not None
            and listener_p95 <= GOAL_FINAL_LISTENER_MS
        )
        phase["keeps_up"] = phase["within_goal"] or (
            phase["sessions_ok"] == streams
            and listener_p95 is not None
            and baseline is not None
            and listener_p95 <= baseline + BEHIND_MARGIN_MS
        )
        ramp.append(phase)
        lat = phase["latency_ms"]
        print(
            f"    ok {phase['sessions_ok']}/{streams}; final speaker p50/p95 "
            f"{lat['final_speaker']['p50']}/{lat['final_speaker']['p95']} ms, listener "
            f"{lat['final_listener']['p50']}/{listener_p95}/{lat['final_listener']['max']} ms; "
            f"WER {phase['wer']}; transcribe-local CPU "
            f"{phase['cpu_percent'].get('transcribe-local')} %; "
            f"{'keeps up' if phase['keeps_up'] else 'falls behind'}"
            + (f"; errors {phase['errors']}" if phase["errors"] else ""),
            flush=True,
        )
        if not phase["keeps_up"]:
            break
    result["ramp"] = ramp
    # The ramp stops at the first count that falls behind: every count before it kept up.
    result["max_streams"] = max((p["streams"] for p in ramp if p["keeps_up"]), default=0)
    result["max_streams_within_goal"] = max(
        (p["streams"] for p in ramp if p["within_goal"]), default=0
    )
    pid = stack.pids.get("transcribe-local")
    result["transcribe_local_rss_mib_peak"] = round(memory_mib(pid, "VmHWM")) if pid else None
    return result


# ---------------------------------------------------------------------------------------------
# Reporting


def _pair(latency: dict[str, Any], key: str) -> str:
    figures = latency[key]
    return f"{fmt(figures['p50'])} / {fmt(figures['p95'])}"


def _verdict(value: float | None, goal: float, text: str) -> str:
    if value is None:
        return f"not measured ({text})"
    return f"**{'met' if value <= goal else 'missed'}** ({text})"


def render_section(result: dict[str, Any]) -> str:
    """The markdown section for docs/benchmarks.md."""
    engines = [e for e in result["engines"] if e["available"]]
    unavailable = [e["engine"] for e in result["engines"] if not e["available"]]
    default = result["default_engine"]
    host = result["machine"]
    params = result["parameters"]
    rows = [
        "| engine | WER all (LibriVox / espeak) | partial p50 / p95 | first partial p50 / max | "
        "final at speaker p50 / p95 | final at listener p50 / p95 | CPU per stream: "
        "transcribe-local / ingest | real-time streams: within goal / before falling behind |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for engine in engines:
        single = engine["single"]
        lat = single["latency_ms"]
        by_source = single["wer_by_source"]
        cpu = single["cpu_per_stream"]
        name = f"`{engine['engine']}`" + (" (default)" if engine["engine"] == default else "")
        rows.append(
            f"| {name} | {100 * single['wer']:.1f} % ({100 * by_source.get('librivox', 0):.1f} / "
            f"{100 * by_source.get('espeak', 0):.1f} %) | {_pair(lat, 'partial')} ms | "
            f"{fmt(lat['first_partial']['p50'])} / {fmt(lat['first_partial']['max'])} ms | "
            f"{_pair(lat, 'final_speaker')} ms | {_pair(lat, 'final_listener')} ms | "
            f"{fmt(cpu.get('transcribe-local'), 2)} / {fmt(cpu.get('ingest'), 2)} | "
            f"{engine['max_streams_within_goal']} / {engine['max_streams']} |"
        )
    goals = []
    chosen = next((e for e in engines if e["engine"] == default), None)
    if chosen is None:
        goals.append(f"The default engine (`{default}`) was not measured in this run.")
    else:
        single = chosen["single"]
        lat = single["latency_ms"]
        goals += [
            f"Goals for the default engine (`{default}`), judged on one real-time stream:",
            "",
            f"- WER ≤ {100 * GOAL_WER:.0f} % on real speech (the LibriVox clips): "
            + _verdict(
                single["wer_by_source"].get("librivox"),
                GOAL_WER,
                f"{100 * single['wer_by_source'].get('librivox', 0):.1f} %",
            ),
            f"- partials ≤ {GOAL_PARTIAL_MS:.0f} ms (p95): "
            + _verdict(
                lat["partial"]["p95"],
                GOAL_PARTIAL_MS,
                f"p95 {fmt(lat['partial']['p95'])} ms, p50 {fmt(lat['partial']['p50'])} ms",
            ),
            f"- final at a listener ≤ {GOAL_FINAL_LISTENER_MS:,.0f} ms after the end of speech "
            "(p95): "
            + _verdict(
                lat["final_listener"]["p95"],
                GOAL_FINAL_LISTENER_MS,
                f"p95 {fmt(lat['final_listener']['p95'])} ms",
            ),
        ]
    ramp_lines: list[str] = []
    for engine in engines:
        ramp_lines += [
            f"`{engine['engine']}` (transcribe-local peak RSS "
            f"{fmt(engine['transcribe_local_rss_mib_peak'])} MiB):",
            "",
            "| streams | sessions ok | finals (after end) | final at speaker p50 / p95 | "
            "final at listener p50 / p95 / max | WER | CPU % transcribe-local / ingest / "
            "gateway / moto | other load on the machine | within goal | keeps up |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for phase in engine["ramp"]:
            lat = phase["latency_ms"]
            cpu = phase["cpu_percent"]
            errors = f"; {', '.join(phase['errors'][:3])}" if phase["errors"] else ""
            ramp_lines.append(
                f"| {phase['streams']} | {phase['sessions_ok']} / {phase['sessions']} | "
                f"{phase['finals']} ({phase['flushed_finals']}) | "
                f"{_pair(lat, 'final_speaker')} ms | "
                f"{_pair(lat, 'final_listener')} / {fmt(lat['final_listener']['max'])} ms | "
                f"{100 * (phase['wer'] or 0):.1f} % | "
                f"{fmt(cpu.get('transcribe-local'))} / {fmt(cpu.get('ingest'))} / "
                f"{fmt(cpu.get('gateway'))} / {fmt(cpu.get('moto'))} | "
                f"{fmt(cpu.get('other'))} % | {'yes' if phase['within_goal'] else 'no'} | "
                f"{'yes' if phase['keeps_up'] else 'no'}{errors} |"
            )
        ramp_lines.append("")
    clip_names = [clip["name"] for clip in engines[0]["single"]["clips"]] if engines else []
    clip_rows = [
        "| clip | seconds | " + " | ".join(f"`{e['engine']}`" for e in engines) + " |",
        "|---|---:|" + "---:|" * len(engines),
    ]
    for index, clip_name in enumerate(clip_names):
        clip = engines[0]["single"]["clips"][index]
        cells = []
        for engine in engines:
            mine = engine["single"]["clips"][index]
            cells.append(
                f"{100 * mine['wer']:.0f} %, "
                f"final {fmt(max(mine['final_listener_ms'], default=None))} ms"
            )
        clip_rows.append(f"| {clip_name} | {clip['seconds']:.1f} | " + " | ".join(cells) + " |")
    pipeline = ", ".join(
        f"`{e['engine']}` {_pair(e['single']['latency_ms'], 'speaker_to_listener')} ms"
        for e in engines
    )
    sqs = ", ".join(
        f"`{e['engine']}` {fmt(e['single']['ingest_sqs_send_ms_mean'], 1)} ms" for e in engines
    )
    lines = [
        SECTION,
        "",
        *goals,
        "",
        *rows,
        "",
        "Latencies are from the moment the audio up to a result's `end` had been sent (see the "
        "method) to the result's arrival. *first partial*: from the speech onset in the clip to "
        "the first words shown, so it includes the first word itself. CPU per stream is CPU "
        "seconds per second of real-time audio (1.00 = one core busy for one stream). "
        "*real-time streams*: the largest number of simultaneous real-time sessions at which "
        "every session ended cleanly with every final at its listener and the listeners' final "
        f"latency p95 stayed ≤ {GOAL_FINAL_LISTENER_MS:,.0f} ms (*within goal*), or stayed within "
        f"{BEHIND_MARGIN_MS:,.0f} ms of one stream's own p95 (*before falling behind*: beyond that "
        "the engine no longer keeps up with real time and the lag grows over a session). "
        "Samples (partials that grew / finals): "
        + ", ".join(
            f"`{e['engine']}` {e['single']['latency_ms']['partial']['count']} / "
            f"{e['single']['latency_ms']['final_listener']['count']}"
            for e in engines
        )
        + "; with so few finals, p95 is the slowest or the second slowest.",
        "",
        *(
            [f"Not available at this commit, so not measured: {', '.join(unavailable)}.", ""]
            if unavailable
            else []
        ),
        PEER_NOTE,
        "",
        "Other work on this shared machine (neither the stack nor this script) while the "
        "single-stream sessions ran, in % of one core: "
        + ", ".join(f"`{e['engine']}` {fmt(e['single']['other_load_percent'])} %" for e in engines)
        + " (the run waits for the machine to be quiet before each engine; more than a few % "
        "skews the figures).",
        "",
        "Word error rate and latency of the last final at the listener, per clip:",
        "",
        *clip_rows,
        "",
        f"From the speaker's `final` to the segment at the listener (ingest → SQS → processor → "
        f"DynamoDB → broadcaster → gateway), p50 / p95: {pipeline}. Ingest's SQS send "
        f"(`captionist_ingest_sqs_send_seconds`, mean): {sqs}.",
        "",
        f"Concurrent real-time streams (each ~{params['ramp_seconds']:g} s of LibriVox clips with "
        "its own listener; the ramp stops at the first count that falls behind):",
        "",
        *ramp_lines,
        "*finals (after end)*: finals received, and how many of them came only after the speaker "
        "sent `end` (forced by the flush rather than found by the engine's endpointing). CPU % is "
        "of one core (200 % = both cores).",
        "",
        f"- Run: {result['date']}, commit `{result['commit']}`, "
        f"`{' '.join(['python -m bench.speech', result['command_line']]).strip()}`, "
        f"{result['wall_seconds'] / 60:.1f} min in all (one run: expect run-to-run spread in "
        "the tails)"
        + (
            f"; run at nice {result['niceness']} (`nice -n {result['niceness']}`), so that other "
            "work on this shared machine ran only on the CPU time the stack left."
            if result.get("niceness")
            else "."
        ),
        f"- Machine: {host['cpu']}, {host['cores']} cores, {host['ram_gib']:g} GiB RAM, Linux "
        f"{host['kernel']}, Python {host['python']}, aiohttp {host['aiohttp']}.",
        "",
        "Method: for each engine, `python -m bench.speech` starts the whole local stack as "
        "`make run` does (`captionist-dev run` with `CAPTIONIST_TRANSCRIBE_LOCAL_ENGINE` set, "
        "moto server included, on free ports of 127.0.0.1) and talks to it only through the "
        "gateway. A speaker streams 16 kHz s16le PCM on `/api/stt/transcribe` in 100 ms chunks at "
        "real-time pace (chunk k is sent at t0 + k * 0.1 s), then "
        f'{params["trailing_silence"]:g} s of silence, then `{{"type":"end"}}`; a listener '
        "follows the same conversation on `/api/stt/connect` from before the first chunk. As "
        "audio up to `e` seconds has been sent by t0 + e, a partial or final whose `end` is e "
        "that arrives at t is t - (t0 + e) late; a microphone that delivers 100 ms chunks adds up "
        "to 100 ms to what a person sees. Partials count when their text gained words; finals "
        "are timed at the speaker (`final`, sent once SQS accepted the segment) and at the "
        "listener. Accuracy: the five LibriVox clips of Debian's `pocketsphinx-testdata` (real "
        "voices) and three espeak-ng sentences, each in a session of its own, one at a time "
        "after an unmeasured warm-up session; WER is over all the words, after normalization "
        "(`captionist_dev.speech.normalize`). CPU is read from `/proc/<pid>/stat` of each "
        "service process over the accuracy sessions and divided by the audio seconds streamed. "
        "Concurrent streams start within a second of each other and each loop whole LibriVox "
        "clips, each session from a different clip, with 0.8 s pauses between them. The "
        "benchmark client, the whole stack and moto share the same 2 cores. Raw numbers, with "
        "every clip's hypothesis: `bench/.results/speech.json`.",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Entry point


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--engines",
        default=",".join(DEFAULT_ENGINES),
        help=f"comma-separated engines (default {','.join(DEFAULT_ENGINES)})",
    )
    parser.add_argument(
        "--streams",
        default=",".join(str(n) for n in DEFAULT_STREAMS),
        help="concurrent stream counts to ramp through, stopping at the first that falls behind",
    )
    parser.add_argument(
        "--ramp-seconds", type=float, default=20, help="audio per concurrent session (default 20)"
    )
    parser.add_argument(
        "--trailing-silence",
        type=float,
        default=2.5,
        help="seconds of silence streamed after each clip, before the end (default 2.5)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help="seconds to wait, before each engine, for other work on the machine to stop "
        "(default 60; 0 in --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: two clips, 1 and 2 streams for 8 s; does not touch docs/ unless --docs",
    )
    parser.add_argument(
        "--docs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write docs/benchmarks.md and speech.json (default: yes, except --quick)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.streams = "1,2"
        args.ramp_seconds = 8.0
        args.quiet_wait = 0.0
    args.engine_names = [part.strip() for part in str(args.engines).split(",") if part.strip()]
    args.stream_counts = sorted(
        {int(part) for part in str(args.streams).split(",") if part.strip()}
    )
    if not args.engine_names:
        parser.error("--engines needs at least one engine")
    if not args.stream_counts or min(args.stream_counts) < 1:
        parser.error("--streams needs positive counts")
    if args.docs is None:
        args.docs = not args.quick
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the process exit status."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_signal)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    name = "speech" if args.docs else ("speech-quick" if args.quick else "speech-adhoc")
    result: dict[str, Any] = {
        **run_header("speech", argv),
        "niceness": os.nice(0),
        "default_engine": default_engine(),
        "parameters": {
            "engines": args.engine_names,
            "streams": args.stream_counts,
            "ramp_seconds": args.ramp_seconds,
            "trailing_silence": args.trailing_silence,
            "chunk_seconds": CHUNK_SECONDS,
            "quick": args.quick,
            "quiet_wait": args.quiet_wait,
        },
        "goals": {
            "wer": GOAL_WER,
            "partial_ms_p95": GOAL_PARTIAL_MS,
            "final_listener_ms_p95": GOAL_FINAL_LISTENER_MS,
        },
        "engines": [],
    }
    try:
        run_engines(args, result, name)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    path = save_results(name, result, (SECTION, render_section) if args.docs else None)
    print(f"wrote {path.relative_to(ROOT)} ({result['wall_seconds'] / 60:.1f} min)", flush=True)
    return 0


def run_engines(args: argparse.Namespace, result: dict[str, Any], name: str) -> None:
    """Measure each engine on a stack of its own, one after the other."""
    available = known_engines()
    for engine in args.engine_names:
        if engine not in available:
            print(f"engine {engine}: not available at this commit (known: {available})", flush=True)
            result["engines"].append({"engine": engine, "available": False})
            continue
        if args.quiet_wait > 0:
            load = wait_for_quiet(QUIET_CORES, args.quiet_wait)
            if load >= QUIET_CORES:
                print(
                    f"  warning: the machine is busy ({load:.2f} cores of other work)", flush=True
                )
        print(f"engine {engine}: starting the stack", flush=True)
        began = time.monotonic()
        stack = start_stack(engine, RESULTS_DIR / f"{name}-{engine}-stack.log")
        try:
            print(f"  stack up in {time.monotonic() - began:.1f} s", flush=True)
            measured = measure_engine(stack, args)
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            stack.stop()
            signal.signal(signal.SIGINT, signal.default_int_handler)
        measured["seconds"] = round(time.monotonic() - began, 1)
        result["engines"].append(measured)


if __name__ == "__main__":
    sys.exit(main())
