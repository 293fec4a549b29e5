"""Following a conversation in the web app, in a real browser, through a real stack.

Segments go into the SQS queue as the ingest would send them; the page must show each one once,
in cursor order, and resume where it was after losing its connection.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, expect

from captionist_core.aws import sync_client
from captionist_core.segment import Segment
from tests.e2e.pages import LISTENER_STATUS, shown, shown_cursors, states, watch_states
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


async def open_page(browser: Browser) -> tuple[Page, list[str]]:
    """A new page, and the list its uncaught script errors are collected in."""
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


async def test_segments_appear_in_order_exactly_once(
    stack: StackProcess, browser: Browser, queue: Callable[..., None]
) -> None:
    """GIVEN the web app's home page, where a user pastes a shared link to join
    WHEN three segments of that conversation are queued
    THEN the page shows each one once, speaker and text, in cursor order."""
    conversation = f"e2e{now_ms()}"
    page, errors = await open_page(browser)
    await page.goto(stack.gateway_url + "/")
    await expect(page).to_have_title("Captionist")
    await page.get_by_label("Shared link or conversation id").fill(
        f"{stack.gateway_url}/?conversation={conversation}"
    )
    await page.get_by_role("button", name="Join").click()
    await expect(page.locator(LISTENER_STATUS)).to_have_attribute(
        "data-state", "live", timeout=TIMEOUT_MS
    )
    assert parse_qs(urlsplit(page.url).query) == {"conversation": [conversation]}
    await expect(page).to_have_title(f"{conversation} · Captionist")

    segments = conversation_segments(conversation, "first words", "a reply", "and a third")
    queue(*segments)

    items = page.locator("#segments li.segment")
    await expect(items).to_have_count(3, timeout=TIMEOUT_MS)
    await asyncio.sleep(0.3)  # anything delivered twice would show up by now
    assert await shown(page) == [(s.speaker, s.text) for s in segments]
    assert await shown_cursors(page) == [s.cursor for s in segments]
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
    await expect(page.locator(LISTENER_STATUS)).to_have_attribute(
        "data-state", "live", timeout=TIMEOUT_MS
    )
    before = conversation_segments(conversation, "before the drop", "still before")
    queue(*before)
    items = page.locator("#segments li.segment")
    await expect(items).to_have_count(2, timeout=TIMEOUT_MS)

    # Closing the page's side closes the gateway's too, as a dropped connection would.
    await watch_states(page, LISTENER_STATUS)
    await sockets[0].close(code=4000, reason="connection dropped by the test")
    await asyncio.wait_for(reconnected.wait(), TIMEOUT_MS / 1000)
    await expect(page.locator(LISTENER_STATUS)).to_have_attribute(
        "data-state", "live", timeout=TIMEOUT_MS
    )
    assert len(sockets) == 2
    assert await states(page, LISTENER_STATUS) == ["live", "reconnecting", "live"]
    query = parse_qs(urlsplit(sockets[1].url).query)
    assert query == {"conversation": [conversation], "since": [before[-1].cursor]}

    after = conversation_segments(conversation, "after the drop", first=5)
    queue(*after)
    await expect(items).to_have_count(3, timeout=TIMEOUT_MS)
    await asyncio.sleep(0.3)
    assert await shown(page) == [(s.speaker, s.text) for s in [*before, *after]]
    assert errors == []


async def at_bottom(page: Page) -> bool:
    """Whether the transcript is scrolled to its newest caption."""
    result: bool = await page.locator(".transcript-scroll").evaluate(
        "e => e.scrollHeight - e.scrollTop - e.clientHeight < 2"
    )
    return result


async def test_the_transcript_follows_new_captions_until_the_reader_scrolls_up(
    stack: StackProcess, browser: Browser, queue: Callable[..., None]
) -> None:
    """GIVEN a long conversation on a short screen, followed at the newest caption
    WHEN the reader scrolls up to read, and a new caption lands
    THEN the view stays where the reader is and offers a jump to the newest captions, which
    brings the view back to following."""
    conversation = f"e2e{now_ms()}s"
    context = await browser.new_context(viewport={"width": 900, "height": 500})
    page = await context.new_page()
    await page.goto(f"{stack.gateway_url}/?conversation={conversation}")
    await expect(page.locator(LISTENER_STATUS)).to_have_attribute(
        "data-state", "live", timeout=TIMEOUT_MS
    )
    many = conversation_segments(conversation, *(f"sentence number {i} of many" for i in range(30)))
    queue(*many)
    items = page.locator("#segments li.segment")
    await expect(items).to_have_count(30, timeout=TIMEOUT_MS)
    assert await at_bottom(page)

    await page.locator(".transcript-scroll").evaluate("e => { e.scrollTop = 0; }")
    queue(*conversation_segments(conversation, "one more", first=40))
    await expect(items).to_have_count(31, timeout=TIMEOUT_MS)
    jump = page.get_by_role("button", name="Jump to the newest captions")
    await expect(jump).to_be_visible()
    assert await page.locator(".transcript-scroll").evaluate("e => e.scrollTop") == 0

    await jump.click()
    await expect(jump).to_be_hidden()
    assert await at_bottom(page)
    await context.close()


async def test_a_phone_sized_screen_shows_everything_and_captions_can_be_enlarged(
    stack: StackProcess, browser: Browser, queue: Callable[..., None], artifacts: Path
) -> None:
    """GIVEN a phone-sized screen following a conversation
    WHEN the reader raises the caption size with the keyboard
    THEN nothing overflows sideways, the microphone controls are on the page, the captions are
    announced politely to screen readers, and they grow."""
    conversation = f"e2e{now_ms()}p"
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    await page.goto(f"{stack.gateway_url}/?conversation={conversation}")
    queue(*conversation_segments(conversation, "a caption read on a phone", "and its reply"))
    await expect(page.locator("#segments li.segment")).to_have_count(2, timeout=TIMEOUT_MS)
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    await expect(page.get_by_role("button", name="Start speaking")).to_be_visible()
    assert await page.locator("#segments").get_attribute("aria-live") == "polite"

    transcript = page.locator(".transcript-scroll")
    size = "e => parseFloat(getComputedStyle(e).fontSize)"
    before = await transcript.evaluate(size)
    await page.get_by_label("Caption size").focus()
    for _ in range(3):
        await page.keyboard.press("ArrowRight")
    assert await transcript.evaluate(size) == before + 6
    await page.screenshot(path=str(artifacts / "listener-phone.png"), full_page=True)
    await context.close()
