"""Each Dockerfile's Python build, replayed without Docker, gives a service that runs.

There is no Docker engine here, so each image's build stage is replayed as written: its ``COPY``
lines from the build context (the repository root) into a scratch ``/src``, then its ``uv sync``
commands with its ``UV_*`` environment. Its runtime stage is then run as written: the
``ENTRYPOINT`` from the resulting virtualenv alone, with the ``ENV`` of that stage (port and web
root moved for the test), until the image's own ``HEALTHCHECK`` command passes; then SIGTERM
must stop it cleanly. As in the image (``USER 10001``, a root-owned venv, and the task's read-only
root filesystem on ECS), the service runs as an unprivileged user that cannot write to the venv or
its home. This catches a Dockerfile that forgets a workspace member's files, a
runtime dependency only the development environment has, or a healthcheck that cannot pass.
What it cannot catch: the base images themselves and the arm64 platform.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from captionist_dev.package import uv_command
from captionist_dev.settings import REPO_ROOT
from tests.conftest import LocalAws, free_port

DOCKER = REPO_ROOT / "docker"
START_TIMEOUT = 60
# An unprivileged user to run as when the tests run as root (nobody, like the image's 10001).
UNPRIVILEGED = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def as_the_image_user(command: list[str]) -> list[str]:
    """``command``, run without root if the tests have it (root may write anywhere)."""
    return [*UNPRIVILEGED, *command] if os.geteuid() == 0 else command


def read_only(*paths: Path) -> None:
    """Make ``paths`` unwritable for the service: as root, it runs as nobody, who cannot write
    root's files anyway; otherwise the files lose their write bits."""
    if os.geteuid() == 0:
        return
    for path in paths:
        for item in [path, *path.rglob("*")]:
            mode = item.stat().st_mode
            item.chmod((mode | 0o444 | (0o111 if item.is_dir() else 0)) & ~0o222)


@dataclass
class Stage:
    """One ``FROM`` stage: its name and its instructions, in order."""

    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        """The variables its ``ENV`` instructions set (``ENV A=1 B=2`` form)."""
        variables: dict[str, str] = {}
        for keyword, argument in self.instructions:
            if keyword == "ENV":
                for pair in shlex.split(argument):
                    name, _, value = pair.partition("=")
                    variables[name] = value
        return variables

    def exec_form(self, keyword: str) -> list[str]:
        """The JSON argument list of its last ``keyword`` (ENTRYPOINT, or HEALTHCHECK's CMD)."""
        arguments = [argument for k, argument in self.instructions if k == keyword]
        assert arguments, f"stage {self.name} has no {keyword}"
        command: list[str] = json.loads(arguments[-1][arguments[-1].index("[") :])
        return command


def stages(dockerfile: Path) -> list[Stage]:
    """The stages of ``dockerfile``, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    found: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, argument = line.partition(" ")
        if keyword == "FROM":
            found.append(Stage(name=argument.split(" AS ")[-1].strip()))
        elif found:
            found[-1].instructions.append((keyword, argument.strip()))
    return found


def replay_build(stage: Stage, scratch: Path) -> Path:
    """Run ``stage``'s COPY (from the context) and ``uv sync`` steps in ``scratch``; the venv."""
    workdir = scratch / "src"
    venv = scratch / "venv"
    environment = {
        **os.environ,
        **{k: v for k, v in stage.environment().items() if k.startswith("UV_")},
        # The image's interpreter and venv path are this machine's here.
        "UV_PYTHON": sys.executable,
        "UV_PROJECT_ENVIRONMENT": str(venv),
    }
    environment.pop("VIRTUAL_ENV", None)
    synced = 0
    for keyword, argument in stage.instructions:
        if keyword == "WORKDIR":
            workdir = scratch / argument.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY" and "--from=" not in argument:
            *sources, destination = shlex.split(argument)
            target = workdir / destination
            for source in sources:
                origin = REPO_ROOT / source
                assert origin.exists(), f"COPY {source}: not in the build context"
                if origin.is_dir():
                    shutil.copytree(origin, target, dirs_exist_ok=True)
                else:
                    into = target / origin.name if destination.endswith("/") else target
                    into.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, into)
        elif keyword == "RUN" and " uv sync " in f" {argument} ":
            command = shlex.split(argument[argument.index("uv sync") :])
            done = subprocess.run(
                [*uv_command(), *command[1:]],
                cwd=workdir,
                env=environment,
                capture_output=True,
                text=True,
                check=False,
                timeout=600,
            )
            assert done.returncode == 0, f"{argument}\n{done.stderr}"
            synced += 1
    assert synced == 2, "expected the dependencies-only sync, then the workspace members"
    return venv


def service_environment(
    runtime: Stage, venv: Path, port: int, local_aws: LocalAws, home: Path
) -> dict[str, str]:
    """The runtime stage's ENV, as the container would have it, moved to this test's port."""
    image = runtime.environment()
    environment = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        # The emulator and a test environment name stand in for the task's AWS.
        "CAPTIONIST_ENV": local_aws.settings.env,
        "AWS_ENDPOINT_URL": str(local_aws.settings.aws_endpoint_url),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    for name, value in image.items():
        if name in ("PATH", "VIRTUAL_ENV"):
            continue
        if name.endswith("_HOST"):
            value = "127.0.0.1"
        elif name.endswith("_PORT"):
            value = str(port)
        elif name.endswith("_WEB_ROOT"):
            value = str(REPO_ROOT / "web" / "dist")
        environment[name] = value
    environment["VIRTUAL_ENV"] = str(venv)
    return environment


def venv_program(name: str, environment: dict[str, str], venv: Path) -> str:
    """Where the container's PATH finds ``name``: it must be the image's venv."""
    program = shutil.which(name, path=environment["PATH"])
    assert program, f"{name} is not on the image's PATH"
    assert Path(program).is_relative_to(venv), f"{name} is {program}, not the venv's"
    return program


def healthy(runtime: Stage, venv: Path, environment: dict[str, str], home: Path) -> bool:
    """Whether the image's own HEALTHCHECK command passes now."""
    (check,) = [a for k, a in runtime.instructions if k == "HEALTHCHECK"]
    assert " CMD [" in f" {check}", check
    command = runtime.exec_form("HEALTHCHECK")
    program = venv_program(command[0], environment, venv)
    done = subprocess.run(
        as_the_image_user([program, *command[1:]]),
        env=environment,
        cwd=home,
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.mark.parametrize(
    "dockerfile",
    sorted(DOCKER.glob("*.Dockerfile")),
    ids=lambda path: path.name.removesuffix(".Dockerfile"),
)
def test_the_image_builds_from_the_lock_and_its_service_runs(
    dockerfile: Path, local_aws: LocalAws
) -> None:
    """GIVEN a service's Dockerfile
    WHEN its build stage is replayed and its entrypoint started from that venv alone
    THEN the image's healthcheck passes, and SIGTERM stops the service with status 0."""
    # In a directory anyone may enter, for the unprivileged user (pytest's is private).
    tmp_path = Path(tempfile.mkdtemp())
    tmp_path.chmod(0o755)
    all_stages = stages(dockerfile)
    (build,) = [s for s in all_stages if any(" uv sync " in f" {a} " for _, a in s.instructions)]
    runtime = all_stages[-1]
    venv = replay_build(build, tmp_path / "build")
    home = tmp_path / "home"
    home.mkdir()
    read_only(venv, home)
    environment = service_environment(runtime, venv, free_port(), local_aws, home)
    entrypoint = runtime.exec_form("ENTRYPOINT")
    program = venv_program(entrypoint[0], environment, venv)
    log = (tmp_path / "service.log").open("wb")
    service = subprocess.Popen(
        as_the_image_user([program, *entrypoint[1:]]),
        env=environment,
        cwd=home,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not healthy(runtime, venv, environment, home):
            assert service.poll() is None, (tmp_path / "service.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "not healthy in time"
            time.sleep(0.5)
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=30) == 0, (tmp_path / "service.log").read_text()[-3000:]
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
        log.close()
        shutil.rmtree(tmp_path)
