"""The supervisor's promises, with small stand-in processes in place of the services.

Each stand-in serves a healthcheck on its port and then behaves as the test asks (crash, ignore
SIGTERM, never become healthy). The AWS endpoint is the tests' emulator, so no moto is started.
"""

from __future__ import annotations

import asyncio
import io
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from captionist_dev.settings import StackSettings
from captionist_dev.stack import BANNER_TITLE, Service, Stack
from tests.conftest import free_port

STAND_IN = """
import asyncio, os, signal, sys

async def answer(reader, writer):
    await reader.readuntil(b"\\r\\n\\r\\n")
    writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok")
    await writer.drain()
    writer.close()

async def main():
    behaviour = os.environ["BEHAVIOUR"]
    if behaviour == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if behaviour != "never-ready":
        server = await asyncio.start_server(answer, "127.0.0.1", int(os.environ["PORT"]))
    print("hello from", behaviour, flush=True)
    if behaviour == "crash":
        await asyncio.sleep(0.3)
        sys.exit(3)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def stand_in(name: str, behaviour: str) -> Service:
    """A process serving a healthcheck on a free port, then doing ``behaviour``."""
    port = free_port()
    return Service(
        name=name,
        command=(sys.executable, "-c", STAND_IN),
        port=port,
        port_variable=f"TEST_{name.upper()}_PORT",
        role=f"stand-in that does '{behaviour}'",
        env={"PORT": str(port), "BEHAVIOUR": behaviour},
    )


def settings_for(aws_endpoint: str, **overrides: Any) -> StackSettings:
    """Stack settings on the tests' emulator, under a fresh environment name."""
    return StackSettings(
        env=f"t{uuid.uuid4().hex[:10]}",
        aws_endpoint_url=aws_endpoint,
        gateway_port=free_port(),
        **overrides,
    )


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_a_crashing_service_stops_the_stack_with_an_error(aws_endpoint: str) -> None:
    """GIVEN a stack of a steady service and one that exits with code 3 after starting
    WHEN the stack runs
    THEN it stops the steady one, says which process died and how, and returns 1."""
    out = io.StringIO()
    stack = Stack(
        settings_for(aws_endpoint),
        out,
        services=[stand_in("steady", "serve"), stand_in("crashy", "crash")],
    )
    code = await asyncio.wait_for(stack.run(), 30)
    output = out.getvalue()
    assert code == 1, output
    assert "crashy exited unexpectedly with code 3" in output
    assert "steady      | hello from serve" in output
    assert not alive(stack.processes["steady"].pid)


async def test_a_service_that_never_gets_ready_fails_the_start(aws_endpoint: str) -> None:
    """GIVEN a service that never answers its healthcheck
    WHEN the stack starts with a 1 s startup timeout
    THEN it gives up naming the service and its healthcheck URL, stops it, and returns 1."""
    out = io.StringIO()
    service = stand_in("mute", "never-ready")
    stack = Stack(settings_for(aws_endpoint, startup_timeout=1), out, services=[service])
    code = await asyncio.wait_for(stack.run(), 30)
    output = out.getvalue()
    assert code == 1, output
    assert f"mute did not pass its healthcheck (http://127.0.0.1:{service.port}" in output
    assert BANNER_TITLE not in output
    assert not alive(stack.processes["mute"].pid)


async def test_a_service_ignoring_sigterm_is_killed_after_the_timeout(aws_endpoint: str) -> None:
    """GIVEN a running stack whose service ignores SIGTERM
    WHEN the stack is asked to stop (as on Ctrl-C)
    THEN the service is killed once the stop timeout has passed, and the stack returns 0."""
    out = io.StringIO()
    stack = Stack(
        settings_for(aws_endpoint, stop_timeout=0.5),
        out,
        services=[stand_in("stubborn", "stubborn")],
    )
    run = asyncio.create_task(stack.run())
    async with asyncio.timeout(30):
        while BANNER_TITLE not in out.getvalue():
            assert not run.done(), out.getvalue()
            await asyncio.sleep(0.05)
    stopping_at = time.monotonic()
    stack.request_stop(signal.SIGINT)
    code = await asyncio.wait_for(run, 10)
    output = out.getvalue()
    assert code == 0, output
    assert "stubborn did not stop within 0.5 s: killing it" in output
    assert time.monotonic() - stopping_at < 5
    assert not alive(stack.processes["stubborn"].pid)
