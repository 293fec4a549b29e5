"""Typed application state."""

from __future__ import annotations

import asyncio
import weakref

import aiohttp
from aiohttp import web

from captionist_ingest.credentials import CredentialSource
from captionist_ingest.publisher import SegmentPublisher
from captionist_ingest.settings import IngestSettings

SETTINGS = web.AppKey("settings", IngestSettings)
PUBLISHER = web.AppKey("publisher", SegmentPublisher)
UPSTREAM_HTTP = web.AppKey("upstream_http", aiohttp.ClientSession)
CREDENTIALS = web.AppKey("credentials", CredentialSource)
WEBSOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("websockets")
# Sessions run in their own tasks (so a hang-up cannot cancel a flush); shutdown awaits them.
SESSIONS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("sessions")
