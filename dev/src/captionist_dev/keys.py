"""Typed state of the gateway application."""

from __future__ import annotations

import weakref

import aiohttp
from aiohttp import web

from captionist_dev.settings import GatewaySettings

SETTINGS = web.AppKey("settings", GatewaySettings)
# One client session for every proxied request and websocket (owned by a cleanup_ctx).
UPSTREAM_SESSION = web.AppKey("upstream_session", aiohttp.ClientSession)
# Client websockets being proxied, closed with GOING_AWAY on shutdown.
WEBSOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("websockets")
