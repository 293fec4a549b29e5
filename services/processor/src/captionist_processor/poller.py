"""The local stand-in for Lambda's SQS event source mapping, and its console script.

moto cannot run Lambda functions, so locally this long-polls the segments queue, hands each batch to
the very same handler as the Lambda event Lambda would build, and deletes only the records the
handler did not report in ``batchItemFailures``: failed ones become visible again after the
visibility timeout, and the queue's redrive policy moves them to the dead-letter queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeVar

import structlog
from aiohttp import web

from captionist_core.aws import async_client
from captionist_core.logging import configure_logging
from captionist_core.web import add_common_routes, run_service
from captionist_processor.handler import LambdaHandler, lambda_handler, make_lambda_handler
from captionist_processor.keys import POLLER
from captionist_processor.settings import ProcessorSettings
from captionist_processor.sqs_event import lambda_sqs_event

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient
    from types_aiobotocore_sqs.type_defs import MessageTypeDef

T = TypeVar("T")

FIRST_BACKOFF_SECONDS: Final = 1.0
MAX_BACKOFF_SECONDS: Final = 20.0
log = structlog.get_logger("captionist.processor.poller")


@dataclass(frozen=True)
class QueueTarget:
    """The queue being polled, as the event's records name it."""

    url: str
    arn: str

    @property
    def region(self) -> str:
        """The queue's region, from its ARN (``arn:aws:sqs:<region>:<account>:<name>``)."""
        return self.arn.split(":")[3]


class Poller:
    """Receives batches from the segments queue and runs the Lambda handler on each.

    ``run()`` polls until ``stop()`` is called; a call to SQS in progress is abandoned at once (a
    receive's messages, if any, are redelivered after the visibility timeout), a batch being
    handled is finished and its successes deleted first.
    """

    def __init__(self, settings: ProcessorSettings, handler: LambdaHandler | None = None) -> None:
        """Poll ``settings.segments_queue``; ``handler`` defaults to one for ``settings``."""
        self.settings = settings
        self.handler = handler if handler is not None else make_lambda_handler(settings)
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ask ``run()`` to return; call it from the poller's event loop."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        """Whether ``stop()`` was called."""
        return self._stopping.is_set()

    async def run(self) -> None:
        """Poll until stopped; AWS errors are logged and retried with backoff."""
        backoff = FIRST_BACKOFF_SECONDS
        async with async_client("sqs", self.settings) as sqs:
            queue: QueueTarget | None = None
            while not self.stopping:
                try:
                    if queue is None:
                        queue = await self._unless_stopping(self._find_queue(sqs))
                        continue
                    messages = await self._unless_stopping(self._receive(sqs, queue))
                    if messages:
                        await self._handle(sqs, queue, messages)
                    backoff = FIRST_BACKOFF_SECONDS
                except Exception:
                    log.exception("poll_failed", retry_in_seconds=backoff)
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        log.info("poller_stopped")

    async def _find_queue(self, sqs: SQSClient) -> QueueTarget:
        name = self.settings.segments_queue
        url = (await sqs.get_queue_url(QueueName=name))["QueueUrl"]
        attributes = await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        log.info(
            "poller_started",
            queue=name,
            batch_size=self.settings.batch_size,
            wait_time_seconds=self.settings.wait_time_seconds,
        )
        return QueueTarget(url=url, arn=attributes["Attributes"]["QueueArn"])

    async def _receive(self, sqs: SQSClient, queue: QueueTarget) -> list[MessageTypeDef]:
        response = await sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=self.settings.batch_size,
            WaitTimeSeconds=self.settings.wait_time_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return response.get("Messages", [])

    async def _unless_stopping(self, operation: Awaitable[T]) -> T | None:
        """``operation``'s result, or None if ``stop()`` comes first (and cancels it)."""
        task = asyncio.ensure_future(operation)
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not task.done():
                task.cancel()
                await asyncio.wait({task})
        return None if task.cancelled() else task.result()

    async def _handle(
        self, sqs: SQSClient, queue: QueueTarget, messages: list[MessageTypeDef]
    ) -> None:
        event = lambda_sqs_event(messages, queue.arn, queue.region)
        ids = {message["MessageId"] for message in messages}
        try:
            # The handler is synchronous boto3, as in Lambda: keep it off the event loop.
            response = await asyncio.to_thread(self.handler, event, None)
            failed = {str(item["itemIdentifier"]) for item in response["batchItemFailures"]}
        except Exception:
            # Lambda retries the whole batch when the function itself fails.
            log.exception("batch_failed", records=len(messages))
            return
        if not failed <= ids:
            log.error("unknown_batch_item_failures", records=len(messages))
            return
        done = [message for message in messages if message["MessageId"] not in failed]
        if not done:
            return
        result = await sqs.delete_message_batch(
            QueueUrl=queue.url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(done)
            ],
        )
        if result.get("Failed"):
            # Those will be redelivered and found to be duplicates: harmless.
            log.warning("delete_failed", count=len(result["Failed"]))

    async def _sleep(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


async def _poller_task(app: web.Application) -> AsyncIterator[None]:
    poller = app[POLLER]
    task = asyncio.create_task(poller.run(), name="captionist-processor-poller")
    yield
    poller.stop()
    await task


def create_app(
    settings: ProcessorSettings, handler: LambdaHandler | None = None
) -> web.Application:
    """The poller as an aiohttp app: it polls while the app runs and serves health and metrics."""
    app = web.Application()
    app[POLLER] = Poller(settings, handler)
    add_common_routes(app)
    app.cleanup_ctx.append(_poller_task)
    return app


def main() -> None:
    """``captionist-processor-poller``: poll the segments queue until SIGTERM or SIGINT."""
    settings = ProcessorSettings()
    configure_logging(settings, "processor")
    # lambda_handler reads the same environment: exactly what the Lambda function runs.
    run_service(
        create_app(settings, handler=lambda_handler), host=settings.host, port=settings.port
    )


if __name__ == "__main__":
    main()
