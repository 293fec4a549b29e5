"""The poller against the emulator: queue -> handler -> table, failures -> dead-letter queue."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from captionist_core.aws import async_client, sync_client
from captionist_core.web import HEALTHCHECK_BODY, HEALTHCHECK_PATH
from captionist_dev.emulator import wait_for_http
from captionist_processor.keys import POLLER
from captionist_processor.poller import Poller, create_app
from captionist_processor.settings import ProcessorSettings
from tests.conftest import LocalAws, free_port
from tests.segments import (
    DEADLINE_SECONDS,
    eventually,
    make_segment,
    queue_depth,
    send,
    stored,
)

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


def processor_settings(local_aws: LocalAws, **overrides: Any) -> ProcessorSettings:
    """Processor settings naming the test's own resources."""
    return ProcessorSettings(
        env=local_aws.settings.env,
        aws_endpoint_url=local_aws.settings.aws_endpoint_url,
        **overrides,
    )


async def test_good_segments_are_stored_once_and_malformed_ones_dead_lettered(
    local_aws: LocalAws, aiohttp_client: AiohttpClient
) -> None:
    """GIVEN a running poller
    WHEN the queue receives two segments, a duplicate of one, a non-JSON body and an invalid segment
    THEN each segment is stored exactly once, both bad messages end in the dead-letter queue,
    the queue ends empty, the metrics count the outcomes, and the poller stops cleanly.
    """
    settings = processor_settings(local_aws)
    client = await aiohttp_client(create_app(settings))
    first, second = make_segment("conv-p"), make_segment("conv-p")
    invalid = json.dumps({**first.model_dump(), "id": "other", "timestamp": 12})
    await send(
        settings,
        local_aws.queues.segments,
        first.model_dump_json(),
        second.model_dump_json(),
        first.model_dump_json(),
        "not json at all",
        invalid,
    )

    async def dead_lettered() -> bool:
        return await queue_depth(settings, local_aws.queues.dlq) == 2

    async def drained() -> bool:
        return await queue_depth(settings, local_aws.queues.segments) == 0

    await eventually(dead_lettered, "both bad messages in the dead-letter queue")
    await eventually(drained, "segments queue empty")
    assert await stored(settings, "conv-p") == sorted([first, second], key=lambda s: s.cursor)
    async with async_client("sqs", settings) as sqs:
        dead = await sqs.receive_message(QueueUrl=local_aws.queues.dlq, MaxNumberOfMessages=10)
    assert sorted(message["Body"] for message in dead["Messages"]) == sorted(
        ["not json at all", invalid]
    )
    metrics = await (await client.get("/metrics")).text()
    for outcome in ("stored", "duplicate", "failed"):
        assert f'captionist_processor_records_total{{outcome="{outcome}"}}' in metrics
    health = await client.get(HEALTHCHECK_PATH)
    assert (health.status, await health.text()) == (200, HEALTHCHECK_BODY)

    poller = client.app[POLLER]
    await asyncio.wait_for(client.close(), 5)
    assert poller.stopping


async def test_stop_interrupts_a_long_poll(local_aws: LocalAws) -> None:
    """GIVEN a poller waiting in a 20 s long poll on an empty queue, after handling a message
    WHEN it is asked to stop
    THEN it returns within a second or two, and the handled message was deleted.
    """
    settings = processor_settings(local_aws, wait_time_seconds=20)
    poller = Poller(settings)
    task = asyncio.create_task(poller.run())
    segment = make_segment("conv-stop")
    await send(settings, local_aws.queues.segments, segment.model_dump_json())

    async def handled() -> bool:
        return await stored(settings, "conv-stop") == [segment]

    async def drained() -> bool:
        return await queue_depth(settings, local_aws.queues.segments) == 0

    await eventually(handled, "segment stored")
    await eventually(drained, "message deleted")
    await asyncio.sleep(0.3)  # back in the long poll
    started = time.monotonic()
    poller.stop()
    await asyncio.wait_for(task, 5)

    assert time.monotonic() - started < 2


def test_console_script_serves_healthcheck_stores_segments_and_stops_on_sigterm(
    local_aws: LocalAws,
) -> None:
    """GIVEN the ``captionist-processor-poller`` console script configured only by environment
    WHEN it runs, a segment is queued, and it then receives SIGTERM
    THEN it answers the health check on its port, stores the segment without logging its text,
    and exits 0.
    """
    port = free_port()
    script = Path(sys.executable).with_name("captionist-processor-poller")
    env = {
        **os.environ,
        "CAPTIONIST_ENV": local_aws.settings.env,
        "CAPTIONIST_LOG_FORMAT": "json",
        "CAPTIONIST_PROCESSOR_PORT": str(port),
    }
    segment = make_segment("conv-cli", text="words only the table may hold")
    process = subprocess.Popen(
        [str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}{HEALTHCHECK_PATH}", 20, process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTHCHECK_PATH}") as response:
            assert (response.status, response.read().decode()) == (200, HEALTHCHECK_BODY)
        sqs = sync_client("sqs", local_aws.settings)
        sqs.send_message(QueueUrl=local_aws.queues.segments, MessageBody=segment.model_dump_json())
        dynamodb = sync_client("dynamodb", local_aws.settings)
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not dynamodb.get_item(
            TableName=local_aws.settings.conversations_table,
            Key={"conversation": {"S": "conv-cli"}, "cursor": {"S": segment.cursor}},
            ConsistentRead=True,
        ).get("Item"):
            assert time.monotonic() < deadline, "segment not stored by the console script"
            time.sleep(0.2)

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0
    lines = output.decode().splitlines()
    events = [json.loads(line).get("event") for line in lines if line.startswith("{")]
    assert "batch_processed" in events
    assert "poller_stopped" in events
    assert b"only the table" not in output
