"""Settings shared by every service, read from the environment (pydantic-settings).

Each service subclasses :class:`CaptionistSettings` with its own prefix for its own knobs; the
shared ones (environment name, region, emulator endpoint, logging) keep one name everywhere. That is
why every shared field names its variable with ``validation_alias``: pydantic-settings applies a
subclass's ``env_prefix`` to every field without an alias, which would turn ``CAPTIONIST_ENV`` into
``CAPTIONIST_<SERVICE>_ENV``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CaptionistSettings(BaseSettings):
    """What every Captionist process needs to know."""

    # validate_by_name: code still passes fields by name, e.g. ``CaptionistSettings(env="t1")``.
    model_config = SettingsConfigDict(
        env_prefix="CAPTIONIST_", extra="ignore", validate_by_name=True
    )

    env: str = Field(
        default="local",
        pattern=r"^[a-z0-9-]{1,20}$",
        validation_alias=AliasChoices("CAPTIONIST_ENV"),
        description="Environment name",
    )
    aws_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("CAPTIONIST_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    aws_endpoint_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CAPTIONIST_AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL"),
        description="Endpoint of every AWS API (an emulator locally); unset means real AWS",
    )
    queue_name: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CAPTIONIST_QUEUE_NAME"),
        description="Overrides captionist-<env>-segments",
    )
    table_name: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CAPTIONIST_TABLE_NAME"),
        description="Overrides captionist-<env>-conversations",
    )
    metrics_namespace: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._/#:-]{1,255}$",
        validation_alias=AliasChoices("CAPTIONIST_METRICS_NAMESPACE"),
        description="CloudWatch namespace the service's per-task load is published to, for "
        "autoscaling; unset: not published",
    )
    metrics_interval: float = Field(
        default=60,
        gt=0,
        le=3600,
        validation_alias=AliasChoices("CAPTIONIST_METRICS_INTERVAL"),
        description="Seconds between two publications of the per-task load",
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("CAPTIONIST_LOG_LEVEL"))
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", validation_alias=AliasChoices("CAPTIONIST_LOG_FORMAT")
    )

    @property
    def segments_queue(self) -> str:
        """Name of the standard SQS queue that carries segments from ingest to the processor."""
        return self.queue_name or f"captionist-{self.env}-segments"

    @property
    def segments_dlq(self) -> str:
        """Name of the segments queue's dead-letter queue."""
        return f"{self.segments_queue}-dlq"

    @property
    def conversations_table(self) -> str:
        """Name of the DynamoDB table holding every conversation's segments."""
        return self.table_name or f"captionist-{self.env}-conversations"
