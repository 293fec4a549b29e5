"""Hands final segments to the SQS queue, retrying with exponential backoff."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from captionist_core.segment import Segment
from captionist_ingest import metrics

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient

log = structlog.get_logger()


class PublishError(Exception):
    """The queue did not accept a segment after every retry."""


class SegmentPublisher:
    """Sends each segment as one message whose body is the segment's JSON."""

    def __init__(
        self,
        sqs: SQSClient,
        queue_name: str,
        retries: int,
        backoff: float,
        backoff_max: float,
    ) -> None:
        """A publisher to ``queue_name``, whose URL is looked up on first use."""
        self._sqs = sqs
        self._queue_name = queue_name
        self._queue_url: str | None = None
        self._retries = retries
        self._backoff = backoff
        self._backoff_max = backoff_max

    async def _url(self) -> str:
        if self._queue_url is None:
            response = await self._sqs.get_queue_url(QueueName=self._queue_name)
            self._queue_url = response["QueueUrl"]
        return self._queue_url

    async def publish(self, segment: Segment) -> None:
        """Return once the queue holds ``segment``; raise ``PublishError`` when it never does."""
        body = segment.model_dump_json()
        delay = self._backoff
        for attempt in range(self._retries + 1):
            try:
                await self._sqs.send_message(QueueUrl=await self._url(), MessageBody=body)
                return
            except (BotoCoreError, ClientError) as error:
                if attempt == self._retries:
                    metrics.SQS_SEND_FAILURES.inc()
                    raise PublishError("the queue did not accept a segment") from error
                metrics.SQS_SEND_RETRIES.inc()
                log.warning("segment_send_retry", attempt=attempt + 1, error=type(error).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff_max)
