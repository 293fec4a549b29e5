"""The web app through failures: the broadcaster restarting mid-conversation, no microphone.

The broadcaster test runs its own stack without a broadcaster (``captionist-dev run --without
broadcaster``) and runs the broadcaster itself, on the port the gateway sends listeners to, so
it can stop and restart it while a person speaks.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from playwright.async_api import Browser, WebSocketRoute, expect

from captionist_core.web import HEALTHCHECK_PATH
from captionist_dev.speech import MAX_WER, normalize, word_error_rate
from tests.e2e.conftest import LaunchBrowser, Speech
from tests.e2e.pages import LISTENER_STATUS, SPEAKER_STATUS, shown_cursors, states, watch_states
from tests.e2e.test_speaking import (
    TIMEOUT_MS,
    finish_speaking,
    start_speaking,
    wait_for_segments,
    wait_stored,
)
from tests.integration.dev.stack_process import StackProcess, start_stack
from tests.segments import stored

pytestmark = pytest.mark.e2e

START_SECONDS = 30


class Broadcaster:
    """``captionist-broadcaster`` as its own process, on the port the stack's gateway uses."""

    def __init__(self, stack: StackProcess) -> None:
        self.stack = stack
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.stack.broadcaster_port}"

    async def start(self) -> None:
        """Start it and wait for its healthcheck."""
        env = {
            **self.stack.env,
            "AWS_ENDPOINT_URL": str(self.stack.settings.aws_endpoint_url),
            "AWS_REGION": self.stack.settings.aws_region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        command = str(Path(sys.executable).parent / "captionist-broadcaster")
        self.process = await asyncio.create_subprocess_exec(
            command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_SECONDS
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(self.url + HEALTHCHECK_PATH) as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                assert self.process.returncode is None, "the broadcaster exited at start"
                assert time.monotonic() < deadline, "the broadcaster did not get healthy"
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        """SIGTERM, as ECS stops a task: it closes its listeners' sockets and exits."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@pytest.fixture
def stack_without_broadcaster() -> Iterator[StackProcess]:
    """A stack of its own with every service but the broadcaster."""
    stack = start_stack(without=("broadcaster",))
    yield stack
    stack.stop()


async def test_listeners_recover_from_a_broadcaster_restart_without_gap_or_duplicate(
    stack_without_broadcaster: StackProcess,
    speaking_browser: Browser,
    browser: Browser,
    speech: Speech,
    artifacts: Path,
) -> None:
    """GIVEN a person speaking and another following the conversation
    WHEN the broadcaster stops mid-conversation, a sentence is stored meanwhile, and it restarts
    THEN both pages show "reconnecting", come back live by themselves (resuming after the last
    segment they showed), and end with every stored segment exactly once, in order."""
    stack = stack_without_broadcaster
    broadcaster = Broadcaster(stack)
    await broadcaster.start()
    try:
        conversation = f"restart{int(time.time() * 1000)}"
        link = f"{stack.gateway_url}/?conversation={conversation}"
        speaker = await speaking_browser.new_page()
        listener = await browser.new_page()
        sockets: list[str] = []
        listener.on(
            "websocket", lambda ws: sockets.append(ws.url) if "/connect" in ws.url else None
        )
        for page in (speaker, listener):
            await page.goto(link)
            await expect(page.locator(LISTENER_STATUS)).to_have_attribute(
                "data-state", "live", timeout=TIMEOUT_MS
            )
        started = time.monotonic()
        await start_speaking(speaker, "Reader")
        await expect(listener.locator("#segments li.segment").first).to_be_visible(
            timeout=TIMEOUT_MS
        )
        for page in (speaker, listener):
            await watch_states(page, LISTENER_STATUS)

        await broadcaster.stop()
        for page in (speaker, listener):
            await expect(page.locator(LISTENER_STATUS)).to_have_attribute(
                "data-state", "reconnecting", timeout=TIMEOUT_MS
            )
        before = await shown_cursors(listener)
        await listener.screenshot(path=str(artifacts / "listener-reconnecting.png"))
        # Speech goes on; a new sentence reaches the table while nobody can broadcast it.
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while len(await stored(stack.settings, conversation)) <= len(before):
            assert time.monotonic() < deadline, "no segment was stored during the outage"
            await asyncio.sleep(0.3)
        assert await shown_cursors(listener) == before

        await broadcaster.start()
        for page in (speaker, listener):
            await expect(page.locator(LISTENER_STATUS)).to_have_attribute(
                "data-state", "live", timeout=TIMEOUT_MS
            )
            assert (await states(page, LISTENER_STATUS))[:2] == ["live", "reconnecting"]
        retries = sockets[1:]
        assert retries
        assert all(
            parse_qs(urlsplit(url).query) == {"conversation": [conversation], "since": [before[-1]]}
            for url in retries
        ), retries

        await asyncio.sleep(max(0.0, speech.seconds - (time.monotonic() - started)))
        await finish_speaking(speaker)
        assert await speaker.locator(SPEAKER_STATUS).get_attribute("data-state") == "ended"
        segments = await wait_stored(stack, conversation)
        cursors = [segment.cursor for segment in segments]
        assert len(cursors) > len(before)
        for page in (speaker, listener):
            await wait_for_segments(page, len(cursors))
            await asyncio.sleep(0.5)
            assert await shown_cursors(page) == cursors
    finally:
        await broadcaster.stop()


async def test_a_denied_microphone_is_explained_and_nothing_is_sent(
    stack: StackProcess, launch: LaunchBrowser
) -> None:
    """GIVEN a browser that refuses the page the microphone
    WHEN the person presses "Start speaking"
    THEN the page says access is blocked and how to allow it, and opens no audio socket."""
    async with launch("--use-fake-device-for-media-stream") as denying:
        page = await denying.new_page()
        audio_sockets: list[str] = []
        page.on(
            "websocket",
            lambda ws: audio_sockets.append(ws.url) if "/transcribe" in ws.url else None,
        )
        await page.goto(f"{stack.gateway_url}/?conversation=denied{os.getpid()}")
        await page.get_by_role("button", name="Start speaking").click()
        problem = page.get_by_role("alert")
        await expect(problem).to_contain_text("Microphone access is blocked", timeout=TIMEOUT_MS)
        await expect(problem).to_contain_text("Allow it for this site")
        await expect(page.locator(SPEAKER_STATUS)).to_have_attribute("data-state", "idle")
        await expect(page.get_by_role("button", name="Start speaking")).to_be_enabled()
        assert audio_sockets == []


async def test_a_missing_microphone_is_explained(
    stack: StackProcess, browser: Browser, artifacts: Path
) -> None:
    """GIVEN a machine with no microphone at all
    WHEN the person presses "Start speaking"
    THEN the page says no microphone was found."""
    page = await browser.new_page()
    await page.goto(f"{stack.gateway_url}/?conversation=nomic{os.getpid()}")
    await page.get_by_role("button", name="Start speaking").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "No microphone was found", timeout=TIMEOUT_MS
    )
    await page.screenshot(path=str(artifacts / "no-microphone.png"))


async def test_a_dropped_audio_connection_reopens_and_the_speech_goes_on(
    stack: StackProcess, speaking_browser: Browser, speech: Speech
) -> None:
    """GIVEN a person speaking
    WHEN their audio connection drops mid-conversation
    THEN the page shows the audio reconnecting, reopens it in the same conversation under the same
    name by itself, and what they say afterwards is still captioned and stored."""
    conversation = f"audiodrop{int(time.time() * 1000)}"
    page = await speaking_browser.new_page()
    routes: list[WebSocketRoute] = []

    def relay(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        routes.append(ws)

    await page.route_web_socket(re.compile(r"/api/stt/transcribe"), relay)
    await page.goto(f"{stack.gateway_url}/?conversation={conversation}")
    started = time.monotonic()
    await start_speaking(page, "Reader")
    await watch_states(page, SPEAKER_STATUS)
    await expect(page.locator("#segments li.segment").first).to_be_visible(timeout=TIMEOUT_MS)

    await routes[0].close(code=1001, reason="connection dropped by the test")
    await expect(page.locator(SPEAKER_STATUS)).to_have_attribute(
        "data-state", "live", timeout=TIMEOUT_MS
    )
    assert (await states(page, SPEAKER_STATUS))[-3:] == ["live", "reconnecting", "live"]
    assert len(routes) == 2
    first, second = (parse_qs(urlsplit(route.url).query) for route in routes)
    assert first == second
    assert second["conversation"] == [conversation]
    assert second["speaker"] == ["Reader"]

    await asyncio.sleep(max(0.0, speech.seconds - (time.monotonic() - started)))
    await finish_speaking(page)
    segments = await wait_stored(stack, conversation)
    await wait_for_segments(page, len(segments))
    assert await page.get_by_text("could not be sent").count() == 0
    # The clips said after the drop came through whole: the transcript ends with their words.
    expected = normalize(" ".join(speech.references[-2:])).split()
    heard = normalize(" ".join(segment.text for segment in segments)).split()
    wer = word_error_rate([" ".join(expected)], [" ".join(heard[-len(expected) :])])
    assert wer <= MAX_WER["hybrid"]["librivox"], (wer, [segment.text for segment in segments])
