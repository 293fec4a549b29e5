"""The processor's settings: the shared ones plus its own ``CAPTIONIST_PROCESSOR_*`` knobs."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from captionist_core.settings import CaptionistSettings


class ProcessorSettings(CaptionistSettings):
    """What the Lambda handler and its local poller read from the environment.

    The shared fields keep their names (``CAPTIONIST_ENV``, ``AWS_ENDPOINT_URL``...); the fields
    below are read from ``CAPTIONIST_PROCESSOR_<FIELD>``.
    """

    model_config = SettingsConfigDict(env_prefix="CAPTIONIST_PROCESSOR_", extra="ignore")

    retention_days: int = Field(
        default=0,
        ge=0,
        description="Days a segment is kept after it was stabilized (DynamoDB TTL); 0 keeps it",
    )
    host: str = Field(default="127.0.0.1", description="Where the poller serves /metrics")
    port: int = Field(default=8083, ge=1, le=65535, description="Port of the poller's HTTP server")
    batch_size: int = Field(default=10, ge=1, le=10, description="Messages per SQS receive")
    wait_time_seconds: int = Field(default=20, ge=0, le=20, description="SQS long-poll wait")
