"""One place that creates AWS clients, sync (boto3) and async (aiobotocore).

Clients only ever see an endpoint through ``aws_endpoint_url`` (``AWS_ENDPOINT_URL``): the same code
talks to AWS, to moto server, or to LocalStack.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from aiobotocore.session import get_session
from botocore.config import Config

from captionist_core.settings import CaptionistSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient
    from types_aiobotocore_cloudwatch import CloudWatchClient as AsyncCloudWatchClient
    from types_aiobotocore_dynamodb import DynamoDBClient as AsyncDynamoDBClient
    from types_aiobotocore_sqs import SQSClient as AsyncSQSClient

AwsService = Literal["sqs", "dynamodb", "cloudwatch"]


def client_config(max_pool_connections: int = 50) -> Config:
    """Retries with backoff and bounded timeouts, the same for every client."""
    return Config(
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=max_pool_connections,
    )


def _client_kwargs(settings: CaptionistSettings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"region_name": settings.aws_region, "config": client_config()}
    if settings.aws_endpoint_url:
        kwargs["endpoint_url"] = settings.aws_endpoint_url
    return kwargs


@overload
def sync_client(service: Literal["sqs"], settings: CaptionistSettings) -> SQSClient: ...
@overload
def sync_client(service: Literal["dynamodb"], settings: CaptionistSettings) -> DynamoDBClient: ...
def sync_client(service: AwsService, settings: CaptionistSettings) -> Any:
    """A boto3 client for ``service`` (used by the Lambda and by tooling)."""
    return boto3.session.Session().client(service, **_client_kwargs(settings))


@overload
def async_client(
    service: Literal["sqs"], settings: CaptionistSettings
) -> AbstractAsyncContextManager[AsyncSQSClient]: ...
@overload
def async_client(
    service: Literal["dynamodb"], settings: CaptionistSettings
) -> AbstractAsyncContextManager[AsyncDynamoDBClient]: ...
@overload
def async_client(
    service: Literal["cloudwatch"], settings: CaptionistSettings
) -> AbstractAsyncContextManager[AsyncCloudWatchClient]: ...
def async_client(service: AwsService, settings: CaptionistSettings) -> Any:
    """An aiobotocore client for ``service``; use it as ``async with``."""
    return get_session().create_client(service, **_client_kwargs(settings))
