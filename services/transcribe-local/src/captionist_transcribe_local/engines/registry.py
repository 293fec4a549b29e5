"""Engines by the name the ``engine`` setting takes."""

from __future__ import annotations

from captionist_transcribe_local.engines.base import Engine
from captionist_transcribe_local.engines.pocketsphinx_engine import PocketsphinxEngine
from captionist_transcribe_local.settings import TranscribeLocalSettings


def load_engine(settings: TranscribeLocalSettings) -> Engine:
    """The engine ``settings.engine`` names, ready to open recognizers."""
    if settings.engine == "pocketsphinx":
        return PocketsphinxEngine(
            endpointer_window=settings.endpointer_window,
            max_utterance=settings.max_utterance_seconds,
        )
    from captionist_transcribe_local.engines.whisper_engine import WhisperEngine

    return WhisperEngine(
        hybrid=settings.engine == "hybrid",
        model_path=settings.whisper_model,
        cpu_threads=settings.whisper_cpu_threads,
        workers=settings.whisper_workers,
        partial_interval=settings.whisper_partial_interval,
        endpointer_window=settings.endpointer_window,
        max_utterance=settings.max_utterance_seconds,
    )
