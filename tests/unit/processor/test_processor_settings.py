"""The processor's settings, read from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from captionist_processor.settings import ProcessorSettings


def test_shared_and_own_variables_are_both_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the shared variables and the processor's own ``CAPTIONIST_PROCESSOR_*`` ones
    WHEN the processor reads its settings
    THEN the shared names keep their meaning and the knobs take the processor's prefix.
    """
    monkeypatch.setenv("CAPTIONIST_ENV", "staging")
    monkeypatch.setenv("CAPTIONIST_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("CAPTIONIST_LOG_FORMAT", "json")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("CAPTIONIST_PROCESSOR_PORT", "9183")
    monkeypatch.setenv("CAPTIONIST_PROCESSOR_RETENTION_DAYS", "30")
    monkeypatch.setenv("CAPTIONIST_PROCESSOR_BATCH_SIZE", "5")
    monkeypatch.setenv("CAPTIONIST_PROCESSOR_WAIT_TIME_SECONDS", "0")

    settings = ProcessorSettings()

    assert settings.segments_queue == "captionist-staging-segments"
    assert settings.segments_dlq == "captionist-staging-segments-dlq"
    assert settings.conversations_table == "captionist-staging-conversations"
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")
    assert settings.aws_endpoint_url == "http://127.0.0.1:4566"
    assert settings.aws_region == "eu-west-1"
    assert (settings.port, settings.retention_days) == (9183, 30)
    assert (settings.batch_size, settings.wait_time_seconds) == (5, 0)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN no processor variables
    WHEN the processor reads its settings
    THEN it keeps segments forever and long-polls batches of ten on 127.0.0.1:8083.
    """
    for name in ("ENV", "QUEUE_NAME", "TABLE_NAME"):
        monkeypatch.delenv(f"CAPTIONIST_{name}", raising=False)
    for name in ("RETENTION_DAYS", "HOST", "PORT", "BATCH_SIZE", "WAIT_TIME_SECONDS"):
        monkeypatch.delenv(f"CAPTIONIST_PROCESSOR_{name}", raising=False)

    settings = ProcessorSettings()

    assert settings.segments_queue == "captionist-local-segments"
    assert settings.retention_days == 0
    assert (settings.host, settings.port) == ("127.0.0.1", 8083)
    assert (settings.batch_size, settings.wait_time_seconds) == (10, 20)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CAPTIONIST_PROCESSOR_BATCH_SIZE", "11"),
        ("CAPTIONIST_PROCESSOR_BATCH_SIZE", "0"),
        ("CAPTIONIST_PROCESSOR_WAIT_TIME_SECONDS", "21"),
        ("CAPTIONIST_PROCESSOR_RETENTION_DAYS", "-1"),
    ],
)
def test_values_sqs_cannot_take_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """GIVEN a batch size, wait time or retention outside what SQS and DynamoDB accept
    WHEN the processor reads its settings
    THEN it refuses to start.
    """
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError):
        ProcessorSettings()
