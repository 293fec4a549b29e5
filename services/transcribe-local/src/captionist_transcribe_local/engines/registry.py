"""Engines by the name the ``engine`` setting takes."""

from __future__ import annotations

from captionist_transcribe_local.engines.base import Engine
from captionist_transcribe_local.engines.pocketsphinx_engine import PocketsphinxEngine
from captionist_transcribe_local.settings import TranscribeLocalSettings


def load_engine(settings: TranscribeLocalSettings) -> Engine:
    """The engine ``settings.engine`` names, ready to open recognizers."""
    if settings.engine == "pocketsphinx":
        return PocketsphinxEngine(endpointer_window=settings.endpointer_window)
    raise ValueError(f"unknown engine {settings.engine!r}")
