"""Each task's load, published to CloudWatch for target-tracking autoscaling.

An ingest task publishes how many speaker streams it holds, a broadcaster task how many listener
connections. The value is sampled a dozen times per interval and published once per interval as
that interval's statistics (count, sum, minimum, maximum), with the dimensions ``Environment`` and
``Service`` only: the metric's ``Average`` over all of a service's tasks is then the load per task,
which a target-tracking policy keeps near its target (terraform/modules/service, ``metric_target``).

Nothing is published unless ``CAPTIONIST_METRICS_NAMESPACE`` is set. A failed publication is
logged and the next interval tries again: autoscaling data never gets in the way of speech.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from botocore.exceptions import BotoCoreError, ClientError

from captionist_core.aws import async_client
from captionist_core.settings import CaptionistSettings

if TYPE_CHECKING:
    from types_aiobotocore_cloudwatch import CloudWatchClient
    from types_aiobotocore_cloudwatch.type_defs import StatisticSetTypeDef

log = structlog.get_logger()

SAMPLES_PER_INTERVAL = 12


@dataclass
class Samples:
    """The statistics of the values sampled over one interval."""

    count: int = 0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf

    def add(self, value: float) -> None:
        """Count one sampled value."""
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)

    def statistic_set(self) -> StatisticSetTypeDef:
        """The samples as CloudWatch's ``StatisticValues``."""
        return {
            "SampleCount": float(self.count),
            "Sum": self.total,
            "Minimum": self.minimum,
            "Maximum": self.maximum,
        }


async def sample_for(read: Callable[[], float], seconds: float) -> Samples:
    """``read()`` sampled evenly over ``seconds``, from now (the first sample at once)."""
    samples = Samples()
    deadline = time.monotonic() + seconds
    step = seconds / SAMPLES_PER_INTERVAL
    while True:
        samples.add(read())
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return samples
        await asyncio.sleep(min(step, remaining))


async def publish_task_load(
    client: CloudWatchClient,
    *,
    namespace: str,
    metric_name: str,
    dimensions: dict[str, str],
    read: Callable[[], float],
    interval: float,
) -> None:
    """Publish ``read()``'s statistics every ``interval`` seconds, until cancelled."""
    while True:
        samples = await sample_for(read, interval)
        try:
            await client.put_metric_data(
                Namespace=namespace,
                MetricData=[
                    {
                        "MetricName": metric_name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                        "Timestamp": datetime.now(UTC),
                        "StatisticValues": samples.statistic_set(),
                        "Unit": "Count",
                        "StorageResolution": 60,
                    }
                ],
            )
        except (BotoCoreError, ClientError) as error:
            log.warning("task_load_not_published", metric=metric_name, error=str(error))


def load_dimensions(settings: CaptionistSettings, service: str) -> dict[str, str]:
    """The dimensions of a service's load metric: the same for all its tasks, so that the
    metric's ``Average`` is the load per task."""
    return {"Environment": settings.env, "Service": service}


def open_websockets(sockets: weakref.WeakSet[web.WebSocketResponse]) -> int:
    """How many of ``sockets`` are still open (closed ones linger in a WeakSet until collected)."""
    return sum(1 for ws in list(sockets) if not ws.closed)


def publish_open_websockets(
    app: web.Application,
    key: web.AppKey[weakref.WeakSet[web.WebSocketResponse]],
    settings: CaptionistSettings,
    *,
    service: str,
    metric_name: str,
) -> None:
    """While ``app`` serves, publish how many of its websockets under ``key`` are open, as
    ``metric_name`` of ``service``; nothing if no namespace is configured."""
    namespace = settings.metrics_namespace
    if namespace is None:
        return

    async def publishing(app: web.Application) -> AsyncIterator[None]:
        async with async_client("cloudwatch", settings) as client:
            task = asyncio.create_task(
                publish_task_load(
                    client,
                    namespace=namespace,
                    metric_name=metric_name,
                    dimensions=load_dimensions(settings, service),
                    read=lambda: open_websockets(app[key]),
                    interval=settings.metrics_interval,
                )
            )
            log.info("publishing_task_load", namespace=namespace, metric=metric_name)
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.cleanup_ctx.append(publishing)
