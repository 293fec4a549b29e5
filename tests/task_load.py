"""Reading a service's per-task load back from the emulator's CloudWatch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from captionist_core.aws import async_client
from tests.conftest import LocalAws

INTERVAL = 0.5  # seconds between publications in tests (60 in production)


async def datapoints(
    local_aws: LocalAws, namespace: str, metric: str, service: str
) -> list[dict[str, Any]]:
    """The metric's per-second statistics over the last minutes, oldest first."""
    now = datetime.now(UTC)
    async with async_client("cloudwatch", local_aws.settings) as cloudwatch:
        response = await cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=[
                {"Name": "Environment", "Value": local_aws.settings.env},
                {"Name": "Service", "Value": service},
            ],
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=1),
            Period=1,
            Statistics=["Minimum", "Maximum", "SampleCount"],
            Unit="Count",
        )
    points: list[dict[str, Any]] = [dict(point) for point in response["Datapoints"]]
    return sorted(points, key=lambda point: point["Timestamp"])


def latest_is(
    local_aws: LocalAws, namespace: str, metric: str, service: str, count: int
) -> Callable[[], Awaitable[bool]]:
    """A check: the newest datum saw exactly ``count`` open the whole interval."""

    async def check() -> bool:
        points = await datapoints(local_aws, namespace, metric, service)
        return bool(points) and (points[-1]["Minimum"], points[-1]["Maximum"]) == (count, count)

    return check
