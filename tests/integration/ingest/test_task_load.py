"""Ingest's open speaker streams, published to the emulator's CloudWatch.

GIVEN ingest with ``CAPTIONIST_METRICS_NAMESPACE`` set, WHEN speakers connect and leave over real
websockets, THEN each interval's datum in CloudWatch says how many were open, under the dimensions
the Terraform scaling policies name.
"""

from __future__ import annotations

import contextlib

from tests.conftest import LocalAws
from tests.integration.ingest.conftest import StartIngest
from tests.integration.ingest.transcribe_peer import Script, TranscribePeer
from tests.listeners import receive_json
from tests.segments import eventually
from tests.task_load import INTERVAL, datapoints, latest_is


async def test_ingest_publishes_its_open_speaker_streams(
    start_ingest: StartIngest, peer: TranscribePeer, local_aws: LocalAws
) -> None:
    peer.script = Script()
    namespace = f"Captionist/{local_aws.settings.env}"
    client = await start_ingest(metrics_namespace=namespace, metrics_interval=INTERVAL)
    load = ("ActiveStreams", "ingest")
    await eventually(latest_is(local_aws, namespace, *load, 0), "an idle ingest publishes 0")

    async with contextlib.AsyncExitStack() as speakers:
        sockets = [
            await speakers.enter_async_context(
                client.ws_connect("/api/stt/transcribe", params={"sampleRate": "16000"})
            )
            for _ in range(2)
        ]
        for ws in sockets:
            assert (await receive_json(ws))["type"] == "ready"
        await eventually(latest_is(local_aws, namespace, *load, 2), "two streams published")

        await sockets[0].send_json({"type": "end"})
        await sockets[0].receive(timeout=5)
        await eventually(latest_is(local_aws, namespace, *load, 1), "one stream published")

    await eventually(latest_is(local_aws, namespace, *load, 0), "no stream published")
    points = await datapoints(local_aws, namespace, *load)
    assert max(point["Maximum"] for point in points) == 2
