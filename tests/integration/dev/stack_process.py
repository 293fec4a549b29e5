"""``captionist-dev run`` as a subprocess on free ports, for the stack and browser tests.

The stack starts its own moto server on a free port, exactly as ``make run`` does, unless
``CAPTIONIST_TEST_AWS_ENDPOINT_URL`` names an emulator to use instead (e.g. LocalStack): then it
uses that one under a fresh environment name.

Starting a stack takes seconds, so the stack and browser tests share one (``shared_stack``);
the test that stops it with SIGINT runs after all of them (see the ``stops_stack`` marker).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from captionist_core.settings import CaptionistSettings
from captionist_dev.stack import BANNER_TITLE
from tests.conftest import free_port

START_TIMEOUT = 60
STOP_TIMEOUT = 20


@dataclass
class StackProcess:
    """A running ``captionist-dev run`` and where its parts listen."""

    process: subprocess.Popen[str]
    env: dict[str, str]
    gateway_port: int
    broadcaster_port: int
    processor_port: int
    settings: CaptionistSettings
    external_endpoint: bool
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    @property
    def gateway_url(self) -> str:
        """``http://127.0.0.1:<gateway port>``."""
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def output(self) -> str:
        """Everything the stack printed so far."""
        return "\n".join(self.lines)

    def children(self) -> list[int]:
        """Process ids whose parent is the supervisor (read from /proc)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to the supervisor; its exit code once it has stopped everything."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """Stop the stack if it still runs (SIGINT, then SIGKILL for whatever is left)."""
        if self.process.poll() is not None:
            return
        leftovers = self.children()
        try:
            self.interrupt()
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            for pid in leftovers:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)


def _environment(ports: dict[str, int]) -> tuple[dict[str, str], CaptionistSettings]:
    # Nothing of the test process's own AWS or Captionist set-up leaks into the stack.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CAPTIONIST_", "AWS_"))
    }
    external = os.environ.get("CAPTIONIST_TEST_AWS_ENDPOINT_URL")
    name = f"t{uuid.uuid4().hex[:10]}" if external else "local"
    endpoint = external or f"http://127.0.0.1:{ports['emulator']}"
    if external:
        env["AWS_ENDPOINT_URL"] = external
    env.update(
        CAPTIONIST_ENV=name,
        CAPTIONIST_LOG_FORMAT="json",
        CAPTIONIST_EMULATOR_PORT=str(ports["emulator"]),
        CAPTIONIST_GATEWAY_PORT=str(ports["gateway"]),
        CAPTIONIST_BROADCASTER_PORT=str(ports["broadcaster"]),
        CAPTIONIST_PROCESSOR_PORT=str(ports["processor"]),
        CAPTIONIST_INGEST_PORT=str(ports["ingest"]),
        CAPTIONIST_TRANSCRIBE_LOCAL_PORT=str(ports["transcribe"]),
    )
    return env, CaptionistSettings(env=name, aws_endpoint_url=endpoint, aws_region="us-east-1")


def _read_output(stack: StackProcess) -> None:
    assert stack.process.stdout is not None
    for line in stack.process.stdout:
        stack.lines.append(line.rstrip("\n"))
        if BANNER_TITLE in line:
            stack.ready.set()
    stack.ready.set()  # the supervisor exited: nobody waits for a banner that will not come


def start_stack(without: tuple[str, ...] = ()) -> StackProcess:
    """Start ``captionist-dev run`` on free ports and return once its banner is printed.

    ``without``: services not to start (``--without``); the test runs them on their ports.
    """
    names = ("emulator", "gateway", "broadcaster", "processor", "ingest", "transcribe")
    ports = {name: free_port() for name in names}
    env, settings = _environment(ports)
    command = [str(Path(sys.executable).parent / "captionist-dev"), "run"]
    command += [f"--without={name}" for name in without]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    stack = StackProcess(
        process=process,
        env=env,
        gateway_port=ports["gateway"],
        broadcaster_port=ports["broadcaster"],
        processor_port=ports["processor"],
        settings=settings,
        external_endpoint="AWS_ENDPOINT_URL" in env,
    )
    threading.Thread(target=_read_output, args=(stack,), daemon=True).start()
    if not stack.ready.wait(START_TIMEOUT) or process.poll() is not None:
        stack.stop()
        raise AssertionError(f"the stack did not start:\n{stack.output}")
    return stack


_shared: list[StackProcess] = []


def shared_stack() -> StackProcess:
    """The test session's stack: started on first use, again if it was stopped since."""
    if not _shared or _shared[0].process.poll() is not None:
        _shared[:] = [start_stack()]
    return _shared[0]


def stop_shared_stack() -> None:
    """Stop the session's stack if one runs."""
    if _shared:
        _shared[0].stop()
