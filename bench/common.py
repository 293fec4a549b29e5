"""What the benchmarks share: ports, process figures from /proc, /metrics scraping, percentiles,
the machine and commit a result was measured on, and writing a section of docs/benchmarks.md."""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import platform
import queue
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO, Any

import aiohttp

from captionist_dev.emulator import start_moto

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / ".results"
DOCS = ROOT / "docs" / "benchmarks.md"
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def raise_nofile_limit() -> int:
    """Raise this process's open-file limit to its hard limit (children inherit it)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def now_ms() -> int:
    """Epoch milliseconds now."""
    return time.time_ns() // 1_000_000


def percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile ``q`` (0..100) of an already sorted list."""
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Terminate ``process`` (one we started), then kill it if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (from /proc/<pid>/stat)."""
    return sum(user_system_seconds(pid))


def memory_mib(pid: int, key: str = "VmRSS") -> float:
    """A /proc/<pid>/status memory figure (VmRSS, VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scrape(port: int) -> dict[str, float]:
    """A service's /metrics as ``{"name{labels}": value}``."""
    with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def metric(samples: dict[str, float], name: str) -> float:
    """A metric's value, summed over its label sets."""
    return sum(value for key, value in samples.items() if key == name or key.startswith(name + "{"))


def histogram_bound(
    before: dict[str, float], after: dict[str, float], name: str, q: float
) -> float | None:
    """The upper bucket bound under which ``q`` of the window's observations fell."""
    buckets: list[tuple[float, float]] = []
    for key, value in after.items():
        if key.startswith(f'{name}_bucket{{le="'):
            bound = key.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float(bound), value - before.get(key, 0.0)))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return None
    for upper, count in buckets:
        if count >= q * total:
            return upper
    return None


def histogram_mean(before: dict[str, float], after: dict[str, float], name: str) -> float | None:
    """Mean of a histogram's observations between two scrapes."""
    count = metric(after, f"{name}_count") - metric(before, f"{name}_count")
    total = metric(after, f"{name}_sum") - metric(before, f"{name}_sum")
    return total / count if count > 0 else None


def summarize(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99/max/mean of ``values`` (milliseconds)."""
    ordered = sorted(values)
    return {
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": ordered[-1] if ordered else None,
        "mean": round(sum(ordered) / len(ordered), 1) if ordered else None,
    }


def machine() -> dict[str, Any]:
    """CPU model, cores, RAM and Python version of this machine."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown",
    )
    meminfo = Path("/proc/meminfo").read_text().split()
    mem_kib = int(meminfo[meminfo.index("MemTotal:") + 1])
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "kernel": platform.release(),
    }


def git_commit() -> str:
    """Short HEAD, ``-dirty`` when the tree has changes (read-only: no index refresh)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if status.strip() else head


def fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def run_header(benchmark: str, argv: list[str] | None) -> dict[str, Any]:
    """What every result file starts with: which benchmark, when, at which commit, how, where."""
    return {
        "benchmark": benchmark,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "command_line": " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
    }


def save_results(
    name: str, result: dict[str, Any], docs: tuple[str, Callable[[dict[str, Any]], str]] | None
) -> Path:
    """``result`` as ``bench/.results/<name>.json``; with ``docs`` (heading, renderer), also its
    section of docs/benchmarks.md. Returns the JSON file's path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    if docs is not None:
        heading, render = docs
        write_docs(heading, render(result))
        print(f"wrote {DOCS.relative_to(ROOT)}", flush=True)
    return path


def start_moto_in_order(port: int) -> subprocess.Popen[bytes]:
    """moto server on ``port``, ignoring Ctrl-C: the run stops it in order after its services."""
    # An ignored SIGINT is inherited: Ctrl-C then reaches only us, and we stop moto in order.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return start_moto(host=HOST, port=port)
    finally:
        signal.signal(signal.SIGINT, previous)


def write_docs(heading: str, section: str) -> None:
    """Replace (or add) the section under ``heading`` in docs/benchmarks.md, keeping the others."""
    if DOCS.exists():
        text = DOCS.read_text()
    else:
        text = (
            "# Benchmarks\n\nMeasurements written by the scripts in `bench/` (`make bench`); each "
            "script replaces only its own section.\n"
        )
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        text = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text)


def user_system_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of ``pid`` so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (all cores, from /proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


def seconds_ms(seconds: float | None) -> float | None:
    """Seconds as milliseconds to 0.1 ms (``None`` stays ``None``)."""
    return None if seconds is None else round(seconds * 1000, 1)


def split(total: int, parts: int) -> list[int]:
    """``total`` spread as evenly as possible over ``parts``."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def wait_until_zero(port: int, name: str, what: str, timeout: float) -> None:
    """Wait (bounded) until the service's gauge ``name`` is 0, so phases don't overlap."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metric(scrape(port), name) == 0:
            return
        time.sleep(0.2)
    print(f"  warning: {what} after the phase", flush=True)


def exit_on_signal(signum: int, frame: FrameType | None) -> None:
    """A SIGTERM handler that unwinds (``finally`` blocks stop the children) and exits."""
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------------------------------------
# Client worker processes: JSON lines both ways


def emit(message: dict[str, Any]) -> None:
    """Write one JSON line to stdout (a child's channel to the orchestrator)."""
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class WorkerProcess:
    """A client worker process (``python -m <module> --worker <config>``) seen from the
    orchestrator: commands go to its stdin, its :func:`emit` lines come back."""

    def __init__(self, module: str, index: int, config_json: str, log: IO[bytes]) -> None:
        self.index = index
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, "--worker", config_json],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with contextlib.suppress(json.JSONDecodeError):
                self._lines.put(json.loads(line))
        self._lines.put(None)

    def send(self, command: dict[str, Any]) -> None:
        """Send one command line."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        self.process.stdin.flush()

    def expect(self, event: str, timeout: float) -> dict[str, Any]:
        """The next message, which must be ``event``, within ``timeout`` seconds."""
        try:
            message = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(
                f"client {self.index}: no {event!r} within {timeout:.0f} s"
            ) from None
        if message is None:
            raise RuntimeError(f"client {self.index} exited ({self.process.poll()}) before {event}")
        if message.get("event") != event:
            raise RuntimeError(f"client {self.index}: expected {event!r}, got {message}")
        return message

    def stop(self, timeout: float = 20) -> None:
        """Let it close its websockets and exit; kill it if it does not."""
        with contextlib.suppress(OSError, ValueError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        stop_process(self.process, timeout)
