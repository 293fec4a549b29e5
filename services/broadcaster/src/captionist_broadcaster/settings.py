"""The broadcaster's settings (environment variables prefixed ``CAPTIONIST_BROADCASTER_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from captionist_core.settings import CaptionistSettings


class BroadcasterSettings(CaptionistSettings):
    """Knobs of the broadcaster; the shared ones come from :class:`CaptionistSettings`."""

    model_config = SettingsConfigDict(env_prefix="CAPTIONIST_BROADCASTER_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8082, ge=1, le=65535)
    poll_interval: float = Field(
        default=0.2, gt=0, le=10, description="Seconds between two reads of an active conversation"
    )
    snapshot_seconds: int = Field(
        default=120, ge=0, description="Without `since`, the snapshot holds this much history"
    )
    late_window_seconds: float = Field(
        default=10,
        ge=0,
        description="A segment stored up to this long after a newer one is still delivered",
    )
    settle_ms: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="Hold segments this long so ones stored out of order are delivered in order",
    )
    send_buffer_bytes: int = Field(
        default=4 << 20,
        ge=64 << 10,
        description="Unsent bytes a listener may hold before new segments; past it, it is dropped",
    )
    first_read_timeout: float = Field(
        default=10, gt=0, description="How long a new listener waits for the table to answer"
    )
    heartbeat: float = Field(default=20, gt=0, description="Websocket ping interval, seconds")
    shutdown_timeout: float = Field(default=10, gt=0)
