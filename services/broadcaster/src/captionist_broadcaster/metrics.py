"""Prometheus metrics of the broadcaster (no conversation ids as labels)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LISTENERS = Gauge("captionist_broadcaster_listeners", "Listener websockets open now")
CONNECTIONS = Counter(
    "captionist_broadcaster_connections_total", "Listener websockets accepted since start"
)
ACTIVE_CONVERSATIONS = Gauge(
    "captionist_broadcaster_active_conversations", "Conversations with at least one listener"
)
POLLS = Counter(
    "captionist_broadcaster_polls_total", "Reads of a conversation's new segments", ["result"]
)
for _result in ("ok", "error"):
    POLLS.labels(_result)
POLL_SECONDS = Histogram(
    "captionist_broadcaster_poll_seconds",
    "Duration of one read of a conversation's new segments",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
SEGMENTS_DELIVERED = Counter(
    "captionist_broadcaster_segments_delivered_total",
    "Segments queued for sending, counted once per listener",
)
LATE_SEGMENTS = Counter(
    "captionist_broadcaster_late_segments_total",
    "Segments stored after a newer segment of their conversation had been delivered",
)
DELIVERY_LAG = Histogram(
    "captionist_broadcaster_delivery_lag_seconds",
    "From a segment's timestamp (stabilization) to its fan-out to listeners",
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2.5, 5, 10),
)
SLOW_LISTENERS = Counter(
    "captionist_broadcaster_slow_listeners_total",
    "Listeners disconnected because their send buffer was full",
)
SNAPSHOTS = Counter(
    "captionist_broadcaster_snapshots_total",
    "Snapshots sent to joining listeners, by where they were read from",
    ["source"],
)
for _source in ("memory", "table"):
    SNAPSHOTS.labels(_source)
