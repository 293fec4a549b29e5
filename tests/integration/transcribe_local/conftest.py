"""A transcribe-local server on loopback, and the speech the tests send it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from captionist_transcribe_local.app import create_app
from captionist_transcribe_local.settings import TranscribeLocalSettings

StartTranscribeLocal = Callable[..., Awaitable[str]]


@pytest.fixture
def start_transcribe_local(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> StartTranscribeLocal:
    """Start a server on 127.0.0.1 (overrides go to settings); return its ``http://host:port``."""

    async def start(**overrides: Any) -> str:
        app: web.Application = create_app(TranscribeLocalSettings(**overrides))
        server = await aiohttp_server(app, host="127.0.0.1")
        return f"http://127.0.0.1:{server.port}"

    return start
