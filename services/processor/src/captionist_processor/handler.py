"""The Lambda handler: SQS batch of segments -> DynamoDB, reporting partial batch failures.

Each record's body is one Segment (JSON). It is written with a condition on its key, so a
redelivered or duplicated message leaves exactly one item and still counts as a success. A record
that cannot be stored raises: powertools' ``BatchProcessor`` reports it in ``batchItemFailures`` and
SQS redelivers it until the redrive policy moves it to the dead-letter queue.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import structlog
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError
from pydantic import ValidationError

from captionist_core.aws import sync_client
from captionist_core.logging import configure_logging
from captionist_core.segment import Segment
from captionist_processor.metrics import RECORDS, Outcome
from captionist_processor.settings import ProcessorSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LambdaHandler = Callable[[dict[str, Any], LambdaContext | None], PartialItemFailureResponse]

SECONDS_PER_DAY: Final = 86_400
_serializer = TypeSerializer()
log = structlog.get_logger("captionist.processor")


class MalformedSegmentError(ValueError):
    """A message body that is not a Segment. It names the invalid fields, never the content."""

    def __init__(self, invalid: list[str]) -> None:
        """``invalid``: ``"<field path>:<error type>"`` for each problem found."""
        super().__init__(f"not a valid segment: {', '.join(invalid)}")
        self.invalid = invalid

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> MalformedSegmentError:
        """The same failure without pydantic's messages, which quote the input."""
        return cls(
            [
                f"{'.'.join(str(part) for part in detail['loc']) or '<body>'}:{detail['type']}"
                for detail in error.errors()
            ]
        )


class SegmentStore:
    """Writes segments to the conversations table, each at most once."""

    def __init__(self, settings: ProcessorSettings, client: DynamoDBClient | None = None) -> None:
        """Store into ``settings.conversations_table``; create the client unless one is given."""
        self.table = settings.conversations_table
        self.retention_days = settings.retention_days
        self.client = client if client is not None else sync_client("dynamodb", settings)

    def expires_at(self, segment: Segment) -> int | None:
        """The item's TTL (epoch seconds): stabilization time plus the retention, if any."""
        if self.retention_days <= 0:
            return None
        return segment.timestamp // 1000 + self.retention_days * SECONDS_PER_DAY

    def put(self, segment: Segment) -> Outcome:
        """Write ``segment`` unless its key is already there; raise on any other error."""
        item = {
            key: _serializer.serialize(value)
            for key, value in segment.to_item(self.expires_at(segment)).items()
        }
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(#c)",
                ExpressionAttributeNames={"#c": "cursor"},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return "duplicate"
            raise
        return "stored"

    def store_record(self, record: SQSRecord) -> Outcome:
        """Validate one SQS record's body as a Segment and store it (a ``record_handler``)."""
        try:
            segment = Segment.model_validate_json(record.body)
        except ValidationError as error:
            # Not chained: powertools logs failures, and the original quotes transcript text.
            raise MalformedSegmentError.from_validation_error(error) from None
        return self.put(segment)


def describe_error(error: BaseException) -> dict[str, Any]:
    """Loggable facts about why a record failed, without the record's (transcript) content."""
    facts: dict[str, Any] = {"error": type(error).__name__}
    if isinstance(error, MalformedSegmentError):
        facts["invalid"] = error.invalid
    elif isinstance(error, ClientError):
        facts["code"] = error.response.get("Error", {}).get("Code")
    return facts


def handle_batch(
    event: dict[str, Any], context: LambdaContext | None, store: SegmentStore
) -> PartialItemFailureResponse:
    """Store every segment of an SQS event; the response lists the records to retry."""
    started = time.perf_counter()
    outcomes: Counter[Outcome] = Counter()

    def record_handler(record: SQSRecord) -> Outcome:
        try:
            outcome = store.store_record(record)
        except Exception as error:
            log.warning("record_failed", message_id=record.message_id, **describe_error(error))
            raise
        outcomes[outcome] += 1
        return outcome

    # One processor per batch: it keeps per-batch state, and the poller may run batches in threads.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    # Failures are counted from the response: it is what SQS acts on.
    outcomes["failed"] = len(response["batchItemFailures"])
    for outcome, count in outcomes.items():
        RECORDS.labels(outcome=outcome).inc(count)
    log.info(
        "batch_processed",
        records=len(event.get("Records", [])),
        stored=outcomes["stored"],
        duplicate=outcomes["duplicate"],
        failed=outcomes["failed"],
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return response


def make_lambda_handler(settings: ProcessorSettings) -> LambdaHandler:
    """A Lambda handler storing into the table ``settings`` name, with one reused client."""
    store = SegmentStore(settings)

    def handler(event: dict[str, Any], context: LambdaContext | None) -> PartialItemFailureResponse:
        return handle_batch(event, context, store)

    return handler


@functools.cache
def _handler_from_environment() -> LambdaHandler:
    # Created on first invocation and kept while Lambda reuses the execution environment.
    settings = ProcessorSettings()
    if not structlog.is_configured():  # in Lambda; the poller has configured logging already
        configure_logging(settings, "processor")
    return make_lambda_handler(settings)


def lambda_handler(
    event: dict[str, Any], context: LambdaContext | None
) -> PartialItemFailureResponse:
    """The Lambda entry point (SQS event source mapping with ``ReportBatchItemFailures``)."""
    return _handler_from_environment()(event, context)
