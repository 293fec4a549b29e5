"""Fixtures shared by every tier: the AWS emulator and a fresh set of resources per test.

The emulator is moto server, started once per test session on a free loopback port. To run the same
tests against LocalStack (or anything that speaks the AWS APIs), set
``CAPTIONIST_TEST_AWS_ENDPOINT_URL=http://localhost:4566`` and no emulator is started.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from captionist_core.settings import CaptionistSettings
from captionist_dev.emulator import start_moto
from captionist_dev.resources import QueueUrls, ensure_resources


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 where connections are refused for the whole test.

    A port from :func:`free_port` may be handed out again by the next ``bind(0)``, the test's
    own servers included; this one stays bound (never listening) until the test ends.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """The endpoint of every AWS API in the tests, exported as ``AWS_ENDPOINT_URL``."""
    external = os.environ.get("CAPTIONIST_TEST_AWS_ENDPOINT_URL")
    process = None
    if external:
        endpoint = external
    else:
        port = free_port()
        process = start_moto(port=port)
        endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
    )
    os.environ.pop("AWS_PROFILE", None)
    yield endpoint
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


@dataclass(frozen=True)
class LocalAws:
    """A test's own environment: settings naming its resources, and where its queues are."""

    settings: CaptionistSettings
    queues: QueueUrls


@pytest.fixture
def local_aws(aws_endpoint: str) -> LocalAws:
    """Resources of a fresh environment name, so tests never see each other's data.

    The visibility timeout is one second so that a failed message is retried (and reaches the
    dead-letter queue) within seconds rather than minutes.
    """
    settings = CaptionistSettings(env=f"t{uuid.uuid4().hex[:10]}", aws_endpoint_url=aws_endpoint)
    return LocalAws(settings=settings, queues=ensure_resources(settings, visibility_timeout=1))
