"""Ingest's settings (environment variables prefixed ``CAPTIONIST_INGEST_``)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from captionist_core.settings import CaptionistSettings


class IngestSettings(CaptionistSettings):
    """Knobs of ingest; the shared ones come from :class:`CaptionistSettings`."""

    model_config = SettingsConfigDict(env_prefix="CAPTIONIST_INGEST_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8081, ge=1, le=65535)
    transcribe_endpoint: str | None = Field(
        default=None,
        description="Transcribe streaming endpoint; unset means "
        "https://transcribestreaming.<region>.amazonaws.com:8443",
    )
    transcribe_access_key_id: str | None = Field(
        default=None,
        description="Access key id of a dedicated pair to sign Transcribe streams with (a "
        "self-hosted transcribe-local); unset: AWS's default credential chain",
    )
    transcribe_secret_access_key: SecretStr | None = Field(
        default=None, description="Secret of transcribe_access_key_id"
    )
    partial_results_stability: str = Field(
        default="high",
        pattern=r"^(low|medium|high)$",
        description="Partial-results stabilization level asked of Transcribe",
    )
    connect_timeout: float = Field(
        default=10, gt=0, description="Seconds to open the upstream websocket"
    )
    send_retries: int = Field(
        default=5, ge=0, le=20, description="Retries of a segment's SQS send after the first try"
    )
    send_backoff: float = Field(
        default=0.2, gt=0, description="First retry delay of an SQS send, doubled per retry"
    )
    send_backoff_max: float = Field(default=5, gt=0, description="Longest SQS retry delay")
    max_buffered_audio_seconds: float = Field(
        default=5,
        gt=0,
        description="Audio a speaker may send ahead of real time (and queue) before 'too_fast'",
    )
    replay_buffer_seconds: float = Field(
        default=30, gt=0, description="Audio kept since the last final, for upstream replay"
    )
    keepalive_seconds: float = Field(
        default=5,
        gt=0,
        lt=15,
        description="Without speaker audio for this long, silence is sent upstream "
        "(Transcribe ends a stream after 15 s without audio)",
    )
    keepalive_chunk_ms: int = Field(
        default=100, ge=10, le=1000, description="Length of each silent keepalive chunk"
    )
    stall_seconds: float = Field(
        default=10, gt=0, description="Without any upstream message for this long: 'stalled'"
    )
    end_timeout: float = Field(
        default=10, gt=0, description="How long a finishing session waits for its last finals"
    )
    reconnect_timeout: float = Field(
        default=30,
        ge=0,
        description="Budget, in seconds, to reopen a failed upstream stream (0: never reconnect)",
    )
    reconnect_backoff: float = Field(
        default=0.2, gt=0, description="First delay between reconnection attempts, doubled each"
    )
    reconnect_backoff_max: float = Field(
        default=5, gt=0, description="Longest delay between reconnection attempts"
    )
    heartbeat: float = Field(default=20, gt=0, description="Websocket ping interval, seconds")
    shutdown_timeout: float = Field(default=10, gt=0)

    @model_validator(mode="after")
    def _signing_pair_complete(self) -> Self:
        if (self.transcribe_access_key_id is None) != (self.transcribe_secret_access_key is None):
            raise ValueError(
                "set both CAPTIONIST_INGEST_TRANSCRIBE_ACCESS_KEY_ID and "
                "CAPTIONIST_INGEST_TRANSCRIBE_SECRET_ACCESS_KEY, or neither"
            )
        return self

    @property
    def transcribe_url(self) -> str:
        """The Transcribe streaming endpoint, ``scheme://host[:port]``."""
        return (
            self.transcribe_endpoint
            or f"https://transcribestreaming.{self.aws_region}.amazonaws.com:8443"
        )
