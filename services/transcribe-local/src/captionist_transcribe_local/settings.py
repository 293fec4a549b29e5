"""transcribe-local's settings (environment variables prefixed ``CAPTIONIST_TRANSCRIBE_LOCAL_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from captionist_core.settings import CaptionistSettings


class TranscribeLocalSettings(CaptionistSettings):
    """Knobs of the local Transcribe; the region is the shared ``aws_region`` (``AWS_REGION``)."""

    model_config = SettingsConfigDict(env_prefix="CAPTIONIST_TRANSCRIBE_LOCAL_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8084, ge=1, le=65535)
    engine: Literal["pocketsphinx"] = Field(
        default="pocketsphinx", description="Speech engine behind every session"
    )
    access_key_id: str = Field(default="local", description="The one access key clients sign with")
    secret_access_key: SecretStr = Field(default=SecretStr("local"), description="Its secret")
    engine_threads: int = Field(
        default=2, ge=1, le=64, description="Threads running engine work, shared by all sessions"
    )
    max_buffered_audio_seconds: float = Field(
        default=30,
        gt=0,
        description="Audio a session may have waiting for the engine; past it: LimitExceeded",
    )
    audio_timeout: float = Field(
        default=15, gt=0, description="Seconds without audio before a session is ended"
    )
    endpointer_window: float = Field(
        default=0.3, gt=0, le=2, description="pocketsphinx: VAD decision window, seconds"
    )
    heartbeat: float = Field(default=20, gt=0, description="Websocket ping interval, seconds")
    shutdown_timeout: float = Field(default=10, gt=0)
