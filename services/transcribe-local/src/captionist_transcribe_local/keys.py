"""Typed application state."""

from __future__ import annotations

import weakref
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from captionist_transcribe_local.engines.base import Engine
from captionist_transcribe_local.settings import TranscribeLocalSettings

SETTINGS = web.AppKey("settings", TranscribeLocalSettings)
ENGINE = web.AppKey("engine", Engine)
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)
WEBSOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("websockets")
