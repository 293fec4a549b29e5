"""Prometheus metrics of the processor (served by the poller's ``/metrics``)."""

from __future__ import annotations

from typing import Final, Literal, get_args

from prometheus_client import Counter

Outcome = Literal["stored", "duplicate", "failed"]
OUTCOMES: Final[tuple[Outcome, ...]] = get_args(Outcome)

RECORDS: Final = Counter(
    "captionist_processor_records",
    "SQS records handled: stored, duplicate (already in the table) or failed (left for retry)",
    ["outcome"],
)
for _outcome in OUTCOMES:
    RECORDS.labels(outcome=_outcome)
