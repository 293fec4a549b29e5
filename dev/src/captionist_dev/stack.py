"""The supervisor behind ``make run``: the whole stack on 127.0.0.1, in the foreground.

It starts the AWS emulator (moto server, unless ``AWS_ENDPOINT_URL`` names one already), creates
the queue and table, starts every service and the gateway as child processes, waits for their
healthchecks, prints where everything is, and streams their logs prefixed with their names.
Ctrl-C or SIGTERM stops every process it started; if one of them dies, it stops the rest and fails.

Every child runs in its own process group, so a Ctrl-C in the terminal reaches the supervisor only
and the stop is orderly; on Linux a child also gets SIGTERM if the supervisor itself is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib
import itertools
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import IO, TypeVar

import aiohttp
from pydantic import ValidationError

from captionist_core.settings import CaptionistSettings
from captionist_core.web import HEALTHCHECK_PATH
from captionist_dev.settings import StackSettings

T = TypeVar("T")

BANNER_TITLE = "Captionist is running"
SUPERVISOR = "stack"
# werkzeug's access log lines: moto server writes one for every AWS call.
_ACCESS_LOG = re.compile(r'^\S+ - - \[[^]]*\] "')
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
_COLORS = ("36", "33", "35", "32", "34", "31")
_PR_SET_PDEATHSIG = 1
DUPLICATE_SIGNAL_WINDOW = 1.0


class StackError(Exception):
    """The stack cannot start or keep running; the message says why, for a person."""


class _StopRequested(Exception):
    """Ctrl-C or SIGTERM arrived."""


@dataclass(frozen=True)
class Service:
    """One process of the stack: how to start it and how to know it is ready."""

    name: str
    command: tuple[str, ...]
    port: int
    port_variable: str
    role: str
    env: Mapping[str, str] = field(default_factory=dict)
    health_path: str = HEALTHCHECK_PATH
    # Runs only once the queue and table exist (the others start while the emulator boots).
    needs_aws: bool = True
    # The command waits for a line on stdin before running (see launch.py): such a service is
    # started early and released once the queue and table exist.
    held: bool = False
    # Output lines matching this are not shown (e.g. one access-log line per AWS call).
    hidden_lines: re.Pattern[str] | None = None


# What ``captionist-dev run --without`` accepts: the names app_services gives.
APP_SERVICE_NAMES = ("transcribe", "ingest", "processor", "broadcaster", "gateway")

# The key pair ingest signs with and transcribe-local checks; the emulator accepts any.
LOCAL_TRANSCRIBE_CREDENTIALS = {
    "CAPTIONIST_TRANSCRIBE_LOCAL_ACCESS_KEY_ID": "local",
    "CAPTIONIST_TRANSCRIBE_LOCAL_SECRET_ACCESS_KEY": "local",
}


def held_console_script(name: str) -> tuple[str, ...]:
    """The command running the installed console script ``name`` once released (``held``)."""
    if not entry_points(group="console_scripts", name=name):
        raise StackError(f"{name} is not installed: run `make setup`")
    return (sys.executable, "-m", "captionist_dev.launch", name)


def emulator_service(settings: StackSettings) -> Service:
    """moto server, the local AWS: every service's ``AWS_ENDPOINT_URL``."""
    return Service(
        name="emulator",
        command=(
            sys.executable,
            *("-m", "moto.server", "-H", settings.host, "-p", str(settings.emulator_port)),
        ),
        port=settings.emulator_port,
        port_variable="CAPTIONIST_EMULATOR_PORT",
        role="AWS emulator (moto server): SQS + DynamoDB",
        needs_aws=False,
        health_path="/moto-api/",
        hidden_lines=_ACCESS_LOG,
    )


def app_services(settings: StackSettings) -> list[Service]:
    """The stack's own processes, in start order. A new service is one more entry here.

    Ingest talks to transcribe-local exactly as it talks to Amazon Transcribe in AWS; both sides
    use the same local credentials, which the emulator accepts too.
    """
    local = f"http://{settings.host}"
    transcribe_endpoint = f"{local}:{settings.transcribe_local_port}"
    return [
        Service(
            name="transcribe",
            command=held_console_script("captionist-transcribe-local"),
            held=True,
            needs_aws=False,
            port=settings.transcribe_local_port,
            port_variable="CAPTIONIST_TRANSCRIBE_LOCAL_PORT",
            role="transcribe-local: Amazon Transcribe's streaming protocol, offline",
            env={
                "CAPTIONIST_TRANSCRIBE_LOCAL_PORT": str(settings.transcribe_local_port),
                **LOCAL_TRANSCRIBE_CREDENTIALS,
            },
        ),
        Service(
            name="ingest",
            command=held_console_script("captionist-ingest"),
            held=True,
            port=settings.ingest_port,
            port_variable="CAPTIONIST_INGEST_PORT",
            role="/api/stt/transcribe -> transcribe-local -> SQS",
            env={
                "CAPTIONIST_INGEST_PORT": str(settings.ingest_port),
                "CAPTIONIST_INGEST_TRANSCRIBE_ENDPOINT": transcribe_endpoint,
                "AWS_ACCESS_KEY_ID": LOCAL_TRANSCRIBE_CREDENTIALS[
                    "CAPTIONIST_TRANSCRIBE_LOCAL_ACCESS_KEY_ID"
                ],
                "AWS_SECRET_ACCESS_KEY": LOCAL_TRANSCRIBE_CREDENTIALS[
                    "CAPTIONIST_TRANSCRIBE_LOCAL_SECRET_ACCESS_KEY"
                ],
            },
        ),
        Service(
            name="processor",
            command=held_console_script("captionist-processor-poller"),
            held=True,
            port=settings.processor_port,
            port_variable="CAPTIONIST_PROCESSOR_PORT",
            role=f"SQS {settings.segments_queue} -> DynamoDB {settings.conversations_table}",
            env={"CAPTIONIST_PROCESSOR_PORT": str(settings.processor_port)},
        ),
        Service(
            name="broadcaster",
            command=held_console_script("captionist-broadcaster"),
            held=True,
            port=settings.broadcaster_port,
            port_variable="CAPTIONIST_BROADCASTER_PORT",
            role="/api/stt/connect, /api/stt/conversations/*",
            env={"CAPTIONIST_BROADCASTER_PORT": str(settings.broadcaster_port)},
        ),
        Service(
            name="gateway",
            command=(sys.executable, "-m", "captionist_dev.gateway"),
            port=settings.gateway_port,
            port_variable="CAPTIONIST_GATEWAY_PORT",
            role="the web app, and /api/stt/* routed as the ALB",
            needs_aws=False,
            env={
                "CAPTIONIST_GATEWAY_PORT": str(settings.gateway_port),
                "CAPTIONIST_GATEWAY_INGEST_URL": f"{local}:{settings.ingest_port}",
                "CAPTIONIST_GATEWAY_BROADCASTER_URL": f"{local}:{settings.broadcaster_port}",
            },
        ),
    ]


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now (as aiohttp does, with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def check_ports(host: str, services: Sequence[Service]) -> None:
    """Refuse (``StackError``) two services on one port, or a port something else listens on."""
    ports: dict[int, str] = {}
    for service in services:
        if service.port in ports:
            raise StackError(
                f"{service.name} and {ports[service.port]} are both set to port {service.port}"
            )
        ports[service.port] = service.name
        if not port_is_free(host, service.port):
            raise StackError(
                f"port {service.port} ({service.name}) is already in use on {host}: is another"
                f" `make run` running? Choose another port with {service.port_variable}=<port>."
            )


def _dying_with_supervisor() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    # Resolved now: between fork and exec only this already-loaded function is called.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def prepare() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the supervisor died before prctl took effect
            os._exit(1)

    return prepare


class Stack:
    """Runs the stack until a signal (exit code 0) or a failure (exit code 1)."""

    def __init__(
        self,
        settings: StackSettings,
        out: IO[str] | None = None,
        services: Sequence[Service] | None = None,
        without: Collection[str] = (),
    ) -> None:
        self.settings = settings
        # The processes besides the emulator; app_services(settings) unless given.
        self.services = list(services) if services is not None else None
        # Services someone runs by hand on their usual port (in a debugger, or to restart them).
        self.without = frozenset(without)
        self.out = out if out is not None else sys.stdout
        self.tty = self.out.isatty()
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.log_tasks: list[asyncio.Task[None]] = []
        self.watch_tasks: list[asyncio.Task[None]] = []
        self.started: list[Service] = []
        self.stopping = False
        self.stop_requested_at: float | None = None
        self.failure: str | None = None
        self.done = asyncio.Event()
        self.prefix_width = 12
        self.colors = itertools.cycle(_COLORS)
        self.prefixes: dict[str, str] = {}

    # -- output -------------------------------------------------------------------------------

    def _prefix(self, name: str) -> str:
        if name not in self.prefixes:
            label = f"{name:<{self.prefix_width}}|"
            color = next(self.colors) if name != SUPERVISOR else "1"
            self.prefixes[name] = f"\x1b[{color}m{label}\x1b[0m " if self.tty else f"{label} "
        return self.prefixes[name]

    def say(self, message: str, name: str = SUPERVISOR) -> None:
        """Print one line of ``name``'s output."""
        self.out.write(f"{self._prefix(name)}{message}\n")
        self.out.flush()

    # -- lifecycle ----------------------------------------------------------------------------

    def request_stop(self, signum: int) -> None:
        """First signal: stop in order. Another one a while later: kill everything now."""
        now = time.monotonic()
        if self.stop_requested_at is not None:
            # Wrappers (uv run, timeout) may relay the terminal's Ctrl-C a second time at once.
            if now - self.stop_requested_at > DUPLICATE_SIGNAL_WINDOW:
                self.say("second signal: killing every process now")
                for process in self.processes.values():
                    _signal_group(process, signal.SIGKILL)
            return
        self.stop_requested_at = now
        self.say(f"{signal.Signals(signum).name}: stopping")
        self.stopping = True
        self.done.set()

    async def run(self) -> int:
        """Start everything, wait for a signal or a failure, stop everything; the exit code."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_stop, signum)
        try:
            try:
                await self._start()
                self._print_banner()
                await self.done.wait()
            except _StopRequested:
                pass
            except StackError as error:
                self.failure = str(error)
            if self.failure is not None:
                self.stopping = True
                self.say(f"error: {self.failure}")
            await self._stop_all()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
        if self.failure is not None:
            self.say("stopped after a failure")
            return 1
        self.say("stopped")
        return 0

    async def _unless_done(self, awaitable: Awaitable[T]) -> T:
        """``awaitable``'s result, unless a signal or a child's death comes first."""
        task = asyncio.ensure_future(awaitable)
        waiter = asyncio.create_task(self.done.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.failure is not None:
            raise StackError(self.failure)
        if self.stopping:
            raise _StopRequested
        return task.result()

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("AWS_REGION", self.settings.aws_region)
        if not env.get("AWS_ACCESS_KEY_ID") and not env.get("AWS_PROFILE"):
            # The emulator accepts any credentials, but the AWS SDKs insist on having some.
            env["AWS_ACCESS_KEY_ID"] = "testing"
            env["AWS_SECRET_ACCESS_KEY"] = "testing"  # noqa: S105 - dummy, for the emulator
        # Children write to a pipe: without this their logs would arrive in bursts.
        env["PYTHONUNBUFFERED"] = "1"
        if self.tty and "CAPTIONIST_LOG_FORMAT" not in env:
            env["CAPTIONIST_LOG_FORMAT"] = "console"
        return env

    async def _start(self) -> None:
        settings = self.settings
        external = settings.aws_endpoint_url
        services = self.services if self.services is not None else app_services(settings)
        services = [service for service in services if service.name not in self.without]
        emulator = None if external else emulator_service(settings)
        check_ports(settings.host, [*([emulator] if emulator else []), *services])
        env = self._environment()
        endpoint = external or f"http://{settings.host}:{settings.emulator_port}"
        env["AWS_ENDPOINT_URL"] = endpoint
        # ensure_resources runs here, with the same endpoint and credentials as the children.
        for key in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            if key in env:
                os.environ[key] = env[key]

        sdk = asyncio.ensure_future(
            asyncio.to_thread(importlib.import_module, "captionist_dev.resources")
        )
        async with aiohttp.ClientSession() as http:
            # What can start now does, while the emulator boots.
            for service in services:
                if service.held or not service.needs_aws:
                    await self._launch(service, env)
            if emulator is not None:
                self.say(f"starting moto server on {settings.host}:{settings.emulator_port}")
                await self._launch(emulator, env)
                await self._unless_done(self._wait_healthy(emulator, http))
            else:
                self.say(f"using the AWS endpoint {endpoint} (AWS_ENDPOINT_URL)")
            resources = CaptionistSettings(
                env=settings.env, aws_region=settings.aws_region, aws_endpoint_url=endpoint
            )
            try:
                await self._unless_done(sdk)
                await self._unless_done(
                    asyncio.to_thread(_create_resources, resources, settings.visibility_timeout)
                )
            except (StackError, _StopRequested):
                raise
            except Exception as error:
                raise StackError(
                    f"cannot create the queue and table at {endpoint}: {error}"
                ) from error
            self.say(
                f"queue {resources.segments_queue} and table {resources.conversations_table} ready"
            )
            for service in services:
                if service.held:
                    await self._release(service)
                elif service.needs_aws:
                    await self._launch(service, env)
            await self._unless_done(
                asyncio.gather(*(self._wait_healthy(service, http) for service in services))
            )

    async def _launch(self, service: Service, env: Mapping[str, str]) -> None:
        try:
            process = await asyncio.create_subprocess_exec(
                *service.command,
                stdin=asyncio.subprocess.PIPE if service.held else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env={**env, **service.env},
                process_group=0,
                preexec_fn=_dying_with_supervisor(),
            )
        except OSError as error:
            raise StackError(f"cannot start {service.name}: {error}") from error
        self.processes[service.name] = process
        self.started.append(service)
        assert process.stdout is not None
        self.log_tasks.append(asyncio.create_task(self._stream(service, process.stdout)))
        self.watch_tasks.append(asyncio.create_task(self._watch(service, process)))

    async def _release(self, service: Service) -> None:
        stdin = self.processes[service.name].stdin
        assert stdin is not None
        stdin.write(b"run\n")
        with contextlib.suppress(ConnectionError):  # it died: its watcher reports that
            await stdin.drain()
        stdin.close()

    async def _stream(self, service: Service, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readuntil(b"\n")
            except asyncio.IncompleteReadError as partial:
                raw = partial.partial
            except asyncio.LimitOverrunError as overrun:
                raw = await stream.read(overrun.consumed)
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip("\r\n")
            if not self.tty:
                line = _ANSI_ESCAPE.sub("", line)
            if service.hidden_lines is None or not service.hidden_lines.match(line):
                self.say(line, service.name)

    async def _watch(self, service: Service, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        if not self.stopping and self.failure is None:
            self.failure = f"{service.name} exited unexpectedly with code {code}"
            self.done.set()

    async def _wait_healthy(self, service: Service, http: aiohttp.ClientSession) -> None:
        url = f"http://{self.settings.host}:{service.port}{service.health_path}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.startup_timeout
        while True:
            try:
                async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if loop.time() > deadline:
                raise StackError(
                    f"{service.name} did not pass its healthcheck ({url}) within"
                    f" {self.settings.startup_timeout:g} s"
                )
            await asyncio.sleep(0.1)

    def _print_banner(self) -> None:
        host, settings = self.settings.host, self.settings
        # The gateway (the one URL a user needs) first, the emulator last.
        shown = sorted(
            self.started,
            key=lambda service: (service.name != "gateway", service.name == "emulator"),
        )
        rows = [(service.name, f"http://{host}:{service.port}", service.role) for service in shown]
        if settings.aws_endpoint_url:
            rows.append(("AWS", settings.aws_endpoint_url, "external endpoint (AWS_ENDPOINT_URL)"))
        for service in app_services(settings):
            if service.name in self.without:
                rows.append(
                    (service.name, f"http://{host}:{service.port}", "not started: yours to run")
                )
        url = f"http://{host}:{settings.gateway_port}"
        lines = [
            "",
            f"  {BANNER_TITLE}: {url}",
            f"  env {settings.env}, region {settings.aws_region}; /metrics on each service's port",
            "",
            *(f"    {name:<12} {address:<24} {role}" for name, address, role in rows),
            "",
            "  Ctrl-C stops everything.",
            "",
        ]
        bold = ("\x1b[1m", "\x1b[0m") if self.tty else ("", "")
        self.out.write(bold[0] + "\n".join(lines) + bold[1] + "\n")
        self.out.flush()

    async def _stop_all(self) -> None:
        # The services first (they finish their in-flight AWS calls), the emulator last.
        services = [name for name in reversed(self.processes) if name != "emulator"]
        await asyncio.gather(*(self._stop(name) for name in services))
        if "emulator" in self.processes:
            await self._stop("emulator")
        for task in self.watch_tasks:
            task.cancel()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await asyncio.gather(*self.log_tasks, return_exceptions=True)
        for task in self.log_tasks:
            task.cancel()

    async def _stop(self, name: str) -> None:
        process = self.processes[name]
        if process.returncode is None:
            _signal_group(process, signal.SIGTERM)
            try:
                async with asyncio.timeout(self.settings.stop_timeout):
                    await process.wait()
            except TimeoutError:
                self.say(f"{name} did not stop within {self.settings.stop_timeout:g} s: killing it")
            else:
                self.say(f"{name} stopped (exit code {process.returncode})")
        # Whatever is left in its process group (the service itself after a timeout) goes now.
        _signal_group(process, signal.SIGKILL)
        await process.wait()


def _create_resources(settings: CaptionistSettings, visibility_timeout: int) -> None:
    # Imported in a thread, started with the emulator: loading the AWS SDK takes a second.
    from captionist_dev.resources import ensure_resources

    ensure_resources(settings, visibility_timeout=visibility_timeout)


def _signal_group(process: asyncio.subprocess.Process, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def run(out: IO[str] | None = None, without: Collection[str] = ()) -> int:
    """``captionist-dev run``: the whole stack in the foreground; returns the exit code.

    ``without`` names services (``ingest``, ``broadcaster``, ...) not to start: the rest is
    configured to find them on their usual ports, where a developer runs them by hand.
    """
    try:
        settings = StackSettings()
    except ValidationError as error:
        print(f"captionist-dev: invalid settings in the environment:\n{error}", file=sys.stderr)
        return 2
    stack = Stack(settings, out, without=without)
    return asyncio.run(stack.run())
