"""Typed keys of the poller's aiohttp application state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from captionist_processor.poller import Poller

POLLER: web.AppKey[Poller] = web.AppKey("poller")
