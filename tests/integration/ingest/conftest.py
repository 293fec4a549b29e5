"""Ingest on loopback, wired to a scripted Transcribe peer and the emulator's queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from captionist_ingest.app import create_app
from captionist_ingest.settings import IngestSettings
from tests.conftest import LocalAws
from tests.integration.ingest.transcribe_peer import TranscribePeer

StartIngest = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def peer(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> TranscribePeer:
    """A scripted Transcribe peer on 127.0.0.1; tests set ``peer.script``."""
    transcribe = TranscribePeer()
    server = await aiohttp_server(transcribe.app(), host="127.0.0.1")
    transcribe.endpoint = f"http://127.0.0.1:{server.port}"
    return transcribe


@pytest.fixture
def start_ingest(
    local_aws: LocalAws,
    peer: TranscribePeer,
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
) -> StartIngest:
    """Start ingest for the test's queue and the peer; overrides go to settings."""

    async def start(**overrides: Any) -> TestClient[Any, Any]:
        options: dict[str, Any] = {
            "transcribe_endpoint": peer.endpoint,
            "end_timeout": 3,
            "send_backoff": 0.05,
            **overrides,
        }
        settings = IngestSettings(
            env=local_aws.settings.env,
            aws_endpoint_url=local_aws.settings.aws_endpoint_url,
            aws_region="us-east-1",
            **options,
        )
        return await aiohttp_client(create_app(settings))

    return start
