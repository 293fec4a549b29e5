"""The broadcaster's open listener connections, published to the emulator's CloudWatch.

GIVEN the broadcaster with ``CAPTIONIST_METRICS_NAMESPACE`` set, WHEN listeners connect and leave
over real websockets, THEN each interval's datum in CloudWatch says how many were open, under the
dimensions the Terraform scaling policies name.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

from captionist_core.aws import async_client
from tests.conftest import LocalAws
from tests.integration.conftest import StartBroadcaster
from tests.listeners import receive_json
from tests.segments import eventually
from tests.task_load import INTERVAL, latest_is


async def test_the_broadcaster_publishes_its_open_listener_connections(
    start_broadcaster: StartBroadcaster, local_aws: LocalAws, http: aiohttp.ClientSession
) -> None:
    namespace = f"Captionist/{local_aws.settings.env}"
    server = await start_broadcaster(metrics_namespace=namespace, metrics_interval=INTERVAL)
    load = ("ListenerConnections", "broadcaster")

    async with contextlib.AsyncExitStack() as listeners:
        for conversation in ("c1", "c1", "c2"):
            ws = await listeners.enter_async_context(
                http.ws_connect(server.make_url(f"/api/stt/connect?conversation={conversation}"))
            )
            assert (await receive_json(ws))["type"] == "snapshot"
        await eventually(latest_is(local_aws, namespace, *load, 3), "three listeners published")

    await eventually(latest_is(local_aws, namespace, *load, 0), "no listener published")


async def test_nothing_is_published_without_a_namespace(
    start_broadcaster: StartBroadcaster, local_aws: LocalAws, http: aiohttp.ClientSession
) -> None:
    server = await start_broadcaster(metrics_interval=INTERVAL)
    async with http.ws_connect(server.make_url("/api/stt/connect?conversation=c1")) as ws:
        assert (await receive_json(ws))["type"] == "snapshot"
        await asyncio.sleep(4 * INTERVAL)
        async with async_client("cloudwatch", local_aws.settings) as cloudwatch:
            listed = await cloudwatch.list_metrics(
                Dimensions=[{"Name": "Environment", "Value": local_aws.settings.env}]
            )
    assert listed["Metrics"] == []
