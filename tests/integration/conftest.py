"""Real services on loopback for the integration tier: a broadcaster on the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from captionist_broadcaster.app import create_app
from captionist_broadcaster.settings import BroadcasterSettings
from tests.conftest import LocalAws

StartBroadcaster = Callable[..., Awaitable[TestServer]]


@pytest.fixture
def start_broadcaster(
    local_aws: LocalAws, aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> StartBroadcaster:
    """Start a broadcaster on 127.0.0.1 for the test's environment; overrides go to settings."""

    async def start(**overrides: Any) -> TestServer:
        options: dict[str, Any] = {"poll_interval": 0.05, **overrides}
        settings = BroadcasterSettings(
            env=local_aws.settings.env,
            aws_endpoint_url=local_aws.settings.aws_endpoint_url,
            **options,
        )
        app: web.Application = create_app(settings)
        return await aiohttp_server(app, host="127.0.0.1")

    return start


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session for the test's requests and websockets."""
    async with aiohttp.ClientSession() as session:
        yield session
