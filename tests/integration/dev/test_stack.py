"""``captionist-dev run`` (``make run``) as a user runs it: the whole stack behind the gateway.

The tests share the session's stack with the browser tests; the one that stops it with Ctrl-C
(SIGINT) is marked ``stops_stack`` and runs last.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from captionist_core.aws import async_client
from captionist_core.web import HEALTHCHECK_BODY
from captionist_dev.stack import port_is_free
from tests.conftest import free_port
from tests.integration.dev.stack_process import StackProcess
from tests.segments import make_segment


@pytest.fixture(autouse=True)
def dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' own AWS calls go to the emulator, which takes any credentials."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


RECORDING = Path("/usr/share/pocketsphinx/test/data/goforward.raw")  # "go forward ten meters"


async def test_gateway_answers_its_healthcheck(stack: StackProcess) -> None:
    """GIVEN the stack started by `captionist-dev run`
    WHEN the gateway's healthcheck is requested
    THEN it answers "Yes, I'm ok", and the web app is served at /."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.gateway_url}/api/stt/healthcheck") as response:
            assert response.status == 200
            assert await response.text() == HEALTHCHECK_BODY
        async with http.get(f"{stack.gateway_url}/") as response:
            assert response.status == 200
            assert "<title>Captionist</title>" in await response.text()


async def test_refusals_of_the_real_services_reach_the_client(stack: StackProcess) -> None:
    """GIVEN the stack, whose broadcaster and ingest validate queries before upgrading
    WHEN a listener connects without a conversation, and a speaker without a sample rate
    THEN each gets its service's 400 JSON error through the gateway."""
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{stack.gateway_url}/api/stt/connect")
        assert refused.value.status == 400
        handshake = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        }
        async with http.get(f"{stack.gateway_url}/api/stt/connect", headers=handshake) as answer:
            assert answer.status == 400
            assert (await answer.json())["error"]["code"] == "missing_conversation"
        async with http.get(
            f"{stack.gateway_url}/api/stt/transcribe?speaker=Ann", headers=handshake
        ) as answer:
            assert answer.status == 400
            assert (await answer.json())["error"]["code"] == "missing_sample_rate"


async def test_queued_segment_reaches_a_listener_within_a_second(stack: StackProcess) -> None:
    """GIVEN a listener connected to a conversation through the gateway
    WHEN a segment of that conversation is sent to the SQS queue
    THEN the listener receives it, unchanged, within one second of the send."""
    conversation = f"c{uuid.uuid4().hex[:12]}"
    segment = make_segment(conversation, "hello through the whole stack")
    url = f"ws://127.0.0.1:{stack.gateway_port}/api/stt/connect?conversation={conversation}"
    async with (
        async_client("sqs", stack.settings) as sqs,
        aiohttp.ClientSession() as http,
        http.ws_connect(url) as ws,
    ):
        queue_url = (await sqs.get_queue_url(QueueName=stack.settings.segments_queue))["QueueUrl"]
        snapshot = await ws.receive_json(timeout=10)
        assert snapshot == {"type": "snapshot", "conversation": conversation, "segments": []}
        sent_at = time.monotonic()
        await sqs.send_message(QueueUrl=queue_url, MessageBody=segment.model_dump_json())
        message = await ws.receive_json(timeout=5)
        elapsed = time.monotonic() - sent_at
    assert message["type"] == "segments"
    assert message["segments"] == [segment.model_dump()]
    assert elapsed < 1.0, f"the segment took {elapsed:.2f} s"


@pytest.mark.stops_stack
def test_sigint_stops_every_process_and_exits_0(stack: StackProcess) -> None:
    """GIVEN the running stack and its child processes
    WHEN the supervisor gets SIGINT (Ctrl-C)
    THEN it exits with 0, none of its processes is left, and every port is free again."""
    children = stack.children()
    # transcribe-local, ingest, the processor, the broadcaster, the gateway, and the emulator
    # unless one was given.
    assert len(children) == (5 if stack.external_endpoint else 6), stack.output
    exit_code = stack.interrupt()
    assert exit_code == 0, stack.output
    leftovers = [pid for pid in children if Path(f"/proc/{pid}").exists()]
    assert leftovers == []
    for port in (stack.gateway_port, stack.broadcaster_port, stack.processor_port):
        assert port_is_free("127.0.0.1", port)


def test_taken_port_is_refused_clearly() -> None:
    """GIVEN the gateway's port already taken by another process
    WHEN `captionist-dev run` is started
    THEN it exits with 1, naming the port and the variable that moves it, and starts nothing."""
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        env = {
            "PATH": "/usr/bin:/bin",
            "CAPTIONIST_GATEWAY_PORT": str(port),
            "CAPTIONIST_EMULATOR_PORT": str(free_port()),
            "CAPTIONIST_BROADCASTER_PORT": str(free_port()),
            "CAPTIONIST_PROCESSOR_PORT": str(free_port()),
        }
        result = subprocess.run(
            [str(Path(sys.executable).parent / "captionist-dev"), "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert f"port {port} (gateway) is already in use" in result.stdout
    assert "CAPTIONIST_GATEWAY_PORT" in result.stdout
    assert "starting" not in result.stdout


async def test_speech_reaches_a_listener_through_the_whole_stack(stack: StackProcess) -> None:
    """GIVEN a listener of a conversation, through the gateway
    WHEN a speaker streams "go forward ten meters" (real speech) to /api/stt/transcribe and ends
    THEN the speaker gets partials and finals, and the listener receives the same finals:
    gateway -> ingest -> transcribe-local -> SQS -> processor -> DynamoDB -> broadcaster."""
    conversation = f"c{uuid.uuid4().hex[:12]}"
    pcm = await asyncio.to_thread(RECORDING.read_bytes)
    base = f"ws://127.0.0.1:{stack.gateway_port}/api/stt"
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{base}/connect?conversation={conversation}") as listener,
        http.ws_connect(
            f"{base}/transcribe?sampleRate=16000&speaker=Ann&conversation={conversation}"
        ) as speaker,
    ):
        assert (await listener.receive_json(timeout=10))["type"] == "snapshot"
        ready = await speaker.receive_json(timeout=10)
        assert ready["type"] == "ready"
        assert ready["conversation"] == conversation
        for offset in range(0, len(pcm), 3200):
            await speaker.send_bytes(pcm[offset : offset + 3200])
            await asyncio.sleep(0.02)
        await speaker.send_str('{"type":"end"}')
        said: list[dict[str, Any]] = []
        while (message := await speaker.receive(timeout=20)).type == aiohttp.WSMsgType.TEXT:
            said.append(json.loads(message.data))
        assert speaker.close_code == 1000, said
        finals = [m["segment"] for m in said if m["type"] == "final"]
        assert any(m["type"] == "partial" for m in said), said
        assert finals, said
        assert "forward" in " ".join(f["text"] for f in finals)
        heard: list[dict[str, Any]] = []
        while len(heard) < len(finals):
            heard.extend((await listener.receive_json(timeout=10))["segments"])
        assert heard == finals
