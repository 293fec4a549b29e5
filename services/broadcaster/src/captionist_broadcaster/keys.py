"""Typed application state."""

from __future__ import annotations

import weakref

from aiohttp import web

from captionist_broadcaster.fanout import FeedHub
from captionist_broadcaster.settings import BroadcasterSettings
from captionist_broadcaster.store import SegmentStore

SETTINGS = web.AppKey("settings", BroadcasterSettings)
STORE = web.AppKey("store", SegmentStore)
HUB = web.AppKey("hub", FeedHub)
WEBSOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("websockets")
