"""Prometheus metrics of ingest (no conversation ids as labels)."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge, Histogram

SESSIONS_ACTIVE = Gauge("captionist_ingest_sessions_active", "Speaker websockets open now")
SESSIONS = Counter("captionist_ingest_sessions_total", "Speaker websockets accepted since start")
AUDIO_BYTES = Counter("captionist_ingest_audio_bytes_total", "PCM bytes received from speakers")
AUDIO_SECONDS = Counter(
    "captionist_ingest_audio_seconds_total", "Seconds of audio received from speakers"
)
KEEPALIVE_SECONDS = Counter(
    "captionist_ingest_keepalive_audio_seconds_total",
    "Seconds of silence sent upstream while a speaker sent nothing",
)
REPLAY_DROPPED_SECONDS = Counter(
    "captionist_ingest_replay_dropped_seconds_total",
    "Unfinalized audio lost because an upstream outage outlasted the replay buffer",
)
PARTIALS = Counter("captionist_ingest_partials_total", "Partial results relayed to speakers")
FINALS = Counter("captionist_ingest_finals_total", "Final segments accepted by the queue")
SQS_SEND_RETRIES = Counter(
    "captionist_ingest_sqs_send_retries_total", "Retried sends of a segment to the queue"
)
SQS_SEND_FAILURES = Counter(
    "captionist_ingest_sqs_send_failures_total", "Segments the queue refused after every retry"
)
SQS_SEND_SECONDS = Histogram(
    "captionist_ingest_sqs_send_seconds",
    "From a final's arrival to its acceptance by the queue",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

UPSTREAM_ERROR_KINDS: Final = (
    "unreachable",
    "rejected",
    "bad_request",
    "limit_exceeded",
    "service_unavailable",
    "conflict",
    "internal_failure",
    "other_exception",
    "protocol",
    "lost",
)
UPSTREAM_ERRORS = Counter(
    "captionist_ingest_upstream_errors_total", "Transcribe streams that failed, by kind", ["kind"]
)
for _kind in UPSTREAM_ERROR_KINDS:
    UPSTREAM_ERRORS.labels(_kind)
UPSTREAM_RECONNECTS = Counter(
    "captionist_ingest_upstream_reconnects_total",
    "Transcribe streams reopened after a failure, by outcome",
    ["outcome"],
)
for _outcome in ("recovered", "failed"):
    UPSTREAM_RECONNECTS.labels(_outcome)
