"""The placeholder web app in a real browser, served by the gateway of a real stack.

Segments go into the SQS queue as the ingest would send them; the page must show each one once,
in cursor order, and resume where it was after losing its connection.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, expect

from captionist_core.aws import sync_client
from captionist_core.segment import Segment
from tests.integration.dev.stack_process import StackProcess
from tests.segments import make_segment, now_ms

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def queue(stack: StackProcess) -> Iterator[Callable[..., None]]:
    """Queue segments as the ingest does: one SQS message per segment."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        sqs = sync_client("sqs", stack.settings)
    queue_url = sqs.get_queue_url(QueueName=stack.settings.segments_queue)["QueueUrl"]

    def send(*segments: Segment) -> None:
        for segment in segments:
            sqs.send_message(QueueUrl=queue_url, MessageBody=segment.model_dump_json())

    yield send
    sqs.close()


def conversation_segments(conversation: str, *texts: str, first: int = 0) -> list[Segment]:
    """Segments of ``conversation`` stabilized 10 ms apart, so their cursor order is known."""
    base = now_ms() + first * 10
    speakers = ("Alice", "Bob")
    return [
        make_segment(conversation, text, speaker=speakers[i % 2], timestamp=base + i * 10)
        for i, text in enumerate(texts)
    ]


async def shown(page: Page) -> list[tuple[str, str]]:
    """(speaker, text) of every segment on the page, top to bottom."""
    items = page.locator("#segments li.segment")
    speakers = await items.locator(".speaker").all_text_contents()
    texts = await items.locator(".text").all_text_contents()
    return list(zip(speakers, texts, strict=True))


async def open_page(browser: Browser) -> tuple[Page, list[str]]:
    """A new page, and the list its uncaught script errors are collected in."""
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


async def test_segments_appear_in_order_exactly_once(
    stack: StackProcess, browser: Browser, queue: Callable[..., None]
) -> None:
    """GIVEN the web app, where a user enters a conversation in the form
    WHEN three segments of that conversation are queued
    THEN the page shows each one once, speaker and text, in cursor order."""
    conversation = f"e2e{now_ms()}"
    page, errors = await open_page(browser)
    await page.goto(stack.gateway_url + "/")
    await expect(page).to_have_title("Captionist")
    await expect(page.locator("#status")).to_have_attribute("data-state", "idle")
    await page.fill("#conversation-input", conversation)
    await page.click("#follow-button")
    await expect(page.locator("#status")).to_have_attribute(
        "data-state", "live", timeout=TIMEOUT_MS
    )
    assert parse_qs(urlsplit(page.url).query) == {"conversation": [conversation]}

    segments = conversation_segments(conversation, "first words", "a reply", "and a third")
    queue(*segments)

    items = page.locator("#segments li.segment")
    await expect(items).to_have_count(3, timeout=TIMEOUT_MS)
    await asyncio.sleep(0.3)  # anything delivered twice would show up by now
    assert await shown(page) == [(s.speaker, s.text) for s in segments]
    assert await items.evaluate_all("items => items.map(item => item.dataset.cursor)") == [
        s.cursor for s in segments
    ]
    assert errors == []


async def test_reconnection_resumes_after_the_last_segment(
    stack: StackProcess, browser: Browser, queue: Callable[..., None]
) -> None:
    """GIVEN the page following a conversation, two segments shown
    WHEN its websocket drops and a third segment is queued
    THEN the page reconnects with since=<last cursor> and shows the third once, after the two."""
    conversation = f"e2e{now_ms()}r"
    page, errors = await open_page(browser)
    sockets: list[WebSocketRoute] = []
    reconnected = asyncio.Event()

    def relay(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)
        if len(sockets) == 2:
            reconnected.set()

    await page.route_web_socket(re.compile(r"/api/stt/connect"), relay)
    await page.goto(f"{stack.gateway_url}/?conversation={conversation}")
    await expect(page.locator("#status")).to_have_attribute(
        "data-state", "live", timeout=TIMEOUT_MS
    )
    before = conversation_segments(conversation, "before the drop", "still before")
    queue(*before)
    items = page.locator("#segments li.segment")
    await expect(items).to_have_count(2, timeout=TIMEOUT_MS)

    # Closing the page's side closes the gateway's too, as a dropped connection would.
    await sockets[0].close(code=4000, reason="connection dropped by the test")
    await asyncio.wait_for(reconnected.wait(), TIMEOUT_MS / 1000)
    await expect(page.locator("#status")).to_have_attribute(
        "data-state", "live", timeout=TIMEOUT_MS
    )
    assert len(sockets) == 2
    query = parse_qs(urlsplit(sockets[1].url).query)
    assert query == {"conversation": [conversation], "since": [before[-1].cursor]}

    after = conversation_segments(conversation, "after the drop", first=5)
    queue(*after)
    await expect(items).to_have_count(3, timeout=TIMEOUT_MS)
    await asyncio.sleep(0.3)
    assert await shown(page) == [(s.speaker, s.text) for s in [*before, *after]]
    assert errors == []
