"""Prometheus metrics of transcribe-local (no session ids as labels)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SESSIONS = Gauge("captionist_transcribe_local_sessions", "Streaming sessions open now")
AUDIO_SECONDS = Counter(
    "captionist_transcribe_local_audio_seconds_total", "Seconds of audio received from clients"
)
RESULTS = Counter("captionist_transcribe_local_results_total", "Transcript results sent", ["kind"])
for _kind in ("partial", "final"):
    RESULTS.labels(_kind)
ENGINE_SECONDS = Histogram(
    "captionist_transcribe_local_engine_seconds",
    "Duration of one engine call (resampling and recognition of one chunk)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
DEFERRED_SECONDS = Histogram(
    "captionist_transcribe_local_deferred_seconds",
    "From an engine answering work it does later (a whisper decode) to its results being ready: "
    "waiting for a decoding thread plus decoding",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10),
)
SPECULATIONS = Counter(
    "captionist_transcribe_local_speculations_total",
    "hybrid: final decodes started before the end of an utterance was decided, by outcome "
    "(used as the final, or abandoned because speech came back)",
    ["outcome"],
)
for _outcome in ("used", "abandoned"):
    SPECULATIONS.labels(_outcome)
