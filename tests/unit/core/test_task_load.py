"""The per-task load sampler and publisher loop (captionist_core.task_load)."""

from __future__ import annotations

import asyncio
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from captionist_core.task_load import SAMPLES_PER_INTERVAL, Samples, publish_task_load, sample_for


def test_samples_give_cloudwatch_the_interval_statistics() -> None:
    samples = Samples()
    for value in (3, 1, 2):
        samples.add(value)
    assert samples.statistic_set() == {
        "SampleCount": 3.0,
        "Sum": 6.0,
        "Minimum": 1.0,
        "Maximum": 3.0,
    }


async def test_an_interval_is_sampled_evenly_from_its_start() -> None:
    values = iter(range(1000))
    samples = await sample_for(lambda: next(values), 0.24)
    assert samples.minimum == 0
    assert SAMPLES_PER_INTERVAL - 3 <= samples.count <= SAMPLES_PER_INTERVAL + 1


class RefusingThenAccepting:
    """CloudWatch's put_metric_data that fails twice (refused, unreachable), then accepts."""

    def __init__(self) -> None:
        self.failures: list[Exception] = [
            ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Put"),
            EndpointConnectionError(endpoint_url="https://monitoring.invalid"),
        ]
        self.accepted: list[dict[str, Any]] = []

    async def put_metric_data(self, **request: Any) -> dict[str, Any]:
        if self.failures:
            raise self.failures.pop(0)
        self.accepted.append(request)
        return {}


async def test_a_failed_publication_is_retried_next_interval_and_nothing_else_stops() -> None:
    cloudwatch = RefusingThenAccepting()
    publishing = asyncio.create_task(
        publish_task_load(
            cloudwatch,  # type: ignore[arg-type]
            namespace="Captionist",
            metric_name="ActiveStreams",
            dimensions={"Environment": "dev", "Service": "ingest"},
            read=lambda: 4,
            interval=0.05,
        )
    )
    try:
        async with asyncio.timeout(5):
            while not cloudwatch.accepted:
                await asyncio.sleep(0.01)
    finally:
        publishing.cancel()
    assert not cloudwatch.failures
    (datum,) = cloudwatch.accepted[0]["MetricData"]
    assert datum["MetricName"] == "ActiveStreams"
    assert datum["Dimensions"] == [
        {"Name": "Environment", "Value": "dev"},
        {"Name": "Service", "Value": "ingest"},
    ]
    assert (datum["StatisticValues"]["Minimum"], datum["StatisticValues"]["Maximum"]) == (4, 4)
    assert datum["Unit"] == "Count"
