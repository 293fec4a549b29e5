"""Settings of the local gateway and of the `make run` supervisor, read from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from captionist_core.settings import CaptionistSettings

# dev/src/captionist_dev/settings.py -> the repository root (the workspace installs us editable).
REPO_ROOT = Path(__file__).resolve().parents[3]


def default_web_root() -> Path:
    """The built web app, ``web/dist`` (``make run`` and ``make web`` build it)."""
    return REPO_ROOT / "web" / "dist"


class GatewaySettings(CaptionistSettings):
    """Knobs of the local gateway (environment variables prefixed ``CAPTIONIST_GATEWAY_``)."""

    model_config = SettingsConfigDict(env_prefix="CAPTIONIST_GATEWAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    ingest_url: str = Field(
        default="http://127.0.0.1:8081", description="Where /api/stt/transcribe goes"
    )
    broadcaster_url: str = Field(
        default="http://127.0.0.1:8082",
        description="Where /api/stt/connect and /api/stt/conversations/* go",
    )
    web_root: Path = Field(
        default_factory=default_web_root, description="Files served for every other path"
    )
    heartbeat: float = Field(default=20, gt=0, description="Websocket ping interval, seconds")
    connect_timeout: float = Field(
        default=5, gt=0, description="Seconds to open a connection to a service"
    )
    read_timeout: float = Field(
        default=120, gt=0, description="Seconds an HTTP response may stay silent"
    )
    shutdown_timeout: float = Field(default=5, gt=0)


class StackSettings(CaptionistSettings):
    """What ``captionist-dev run`` starts where.

    Each port is read from the variable its service reads (``CAPTIONIST_GATEWAY_PORT``, ...), so
    one environment configures the supervisor and the services alike.
    """

    model_config = SettingsConfigDict(env_prefix="CAPTIONIST_DEV_", extra="ignore")

    host: str = "127.0.0.1"
    emulator_port: int = Field(
        default=4566, ge=1, le=65535, validation_alias=AliasChoices("CAPTIONIST_EMULATOR_PORT")
    )
    gateway_port: int = Field(
        default=8080, ge=1, le=65535, validation_alias=AliasChoices("CAPTIONIST_GATEWAY_PORT")
    )
    ingest_port: int = Field(
        default=8081, ge=1, le=65535, validation_alias=AliasChoices("CAPTIONIST_INGEST_PORT")
    )
    broadcaster_port: int = Field(
        default=8082, ge=1, le=65535, validation_alias=AliasChoices("CAPTIONIST_BROADCASTER_PORT")
    )
    processor_port: int = Field(
        default=8083, ge=1, le=65535, validation_alias=AliasChoices("CAPTIONIST_PROCESSOR_PORT")
    )
    transcribe_local_port: int = Field(
        default=8084,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("CAPTIONIST_TRANSCRIBE_LOCAL_PORT"),
    )
    visibility_timeout: int = Field(
        default=5, ge=0, description="Seconds before a failed segment message is retried"
    )
    startup_timeout: float = Field(
        default=60, gt=0, description="Seconds every service has to pass its healthcheck"
    )
    stop_timeout: float = Field(
        default=10, gt=0, description="Seconds between SIGTERM and SIGKILL when stopping"
    )
