"""The text half of the pipeline, all real: SQS -> processor poller -> DynamoDB -> broadcaster."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from captionist_processor.poller import create_app as create_poller
from captionist_processor.settings import ProcessorSettings
from tests.conftest import LocalAws
from tests.integration.conftest import StartBroadcaster
from tests.listeners import collect_segments, next_or_none, receive_json
from tests.segments import eventually, make_segment, now_ms, queue_depth, send, stored

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


def _ids(segments: list[dict[str, Any]]) -> list[str]:
    return [segment["id"] for segment in segments]


async def test_segments_reach_every_listener_once_and_the_table_once(
    local_aws: LocalAws,
    start_broadcaster: StartBroadcaster,
    aiohttp_client: AiohttpClient,
    http: aiohttp.ClientSession,
) -> None:
    """GIVEN the poller and a broadcaster
    WHEN segments of two conversations, duplicates and a malformed message go through the queue,
    with one listener connected before and one after, and one that leaves and resumes
    THEN every listener receives every segment of its conversation exactly once, in order; the
    table holds each exactly once; the malformed message is in the dead-letter queue; the resumed
    listener receives exactly the ones it missed.
    """
    settings = local_aws.settings
    await aiohttp_client(
        create_poller(
            ProcessorSettings(
                env=settings.env, aws_endpoint_url=settings.aws_endpoint_url, wait_time_seconds=1
            )
        )
    )
    server = await start_broadcaster()
    base = now_ms()
    alpha = [make_segment("alpha", speaker="Ann", timestamp=base + i * 10) for i in range(12)]
    beta = [make_segment("beta", speaker="Ben", timestamp=base + i * 10 + 5) for i in range(8)]

    def url(conversation: str, **params: str) -> Any:
        return server.make_url("/api/stt/connect").with_query(conversation=conversation, **params)

    early = await http.ws_connect(url("alpha"))
    quitter = await http.ws_connect(url("alpha"))
    beta_listener = await http.ws_connect(url("beta"))
    for ws in (early, quitter, beta_listener):
        assert (await receive_json(ws))["segments"] == []

    # First half of each conversation, with a duplicate of each first segment.
    first = [*alpha[:6], *beta[:4], alpha[0], beta[0]]
    await send(settings, local_aws.queues.segments, *(s.model_dump_json() for s in first))
    seen_by_quitter = await collect_segments(quitter, 6)
    assert _ids(seen_by_quitter) == [s.id for s in alpha[:6]]
    await quitter.close()

    late = await http.ws_connect(url("alpha"))
    malformed = json.dumps({**alpha[0].model_dump(), "id": "broken", "start": "soon"})
    second = [s.model_dump_json() for s in (*alpha[6:], *beta[4:], alpha[7])]
    await send(settings, local_aws.queues.segments, *second, "not a segment", malformed)

    expected_alpha = [s.model_dump(mode="json") for s in alpha]
    assert await collect_segments(early, 12) == expected_alpha
    assert await collect_segments(late, 12) == expected_alpha
    assert await collect_segments(beta_listener, 8) == [s.model_dump(mode="json") for s in beta]

    resumed = await http.ws_connect(url("alpha", since=seen_by_quitter[-1]["cursor"]))
    snapshot = await receive_json(resumed)
    assert snapshot["type"] == "snapshot"
    assert _ids(snapshot["segments"]) == [s.id for s in alpha[6:]]

    async def dead_lettered() -> bool:
        return await queue_depth(settings, local_aws.queues.dlq) == 2

    await eventually(dead_lettered, "both malformed messages in the dead-letter queue")
    assert await stored(settings, "alpha") == alpha
    assert await stored(settings, "beta") == beta
    for ws in (early, late, beta_listener, resumed):
        leftover = await next_or_none(ws, 0.5)
        assert leftover is None, f"unexpected extra message {leftover}"
        await ws.close()
