"""Speaking into the web app, in a real browser, through the whole stack.

A speaker page's microphone says the five LibriVox clips (Chromium's fake capture device at the
AudioContext's own 44.1 kHz); the page filters and resamples it to 16 kHz in its AudioWorklet,
streams it to ingest (the test keeps a copy and compares it with the recording), and shows its
own partial captions. A second browser opened from the
shared link follows the conversation through the broadcaster. The words are checked against the
references, and the exports against what the pages show.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, expect

from captionist_core.segment import Segment
from captionist_dev.browser import microphone_saying
from captionist_dev.speech import MAX_WER, normalize, word_error_rate
from tests.e2e.audio import match
from tests.e2e.conftest import LaunchBrowser, Speech
from tests.e2e.pages import LISTENER_STATUS, SPEAKER_STATUS, shown, shown_cursors
from tests.integration.dev.stack_process import StackProcess
from tests.segments import stored

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000
# After the last word: the last final's decode, the queue, the table and the broadcast.
SETTLE_SECONDS = 10


async def start_speaking(page: Page, name: str) -> None:
    """Type a name and press "Start speaking" with the keyboard."""
    await page.get_by_label("Your name").fill(name)
    start = page.get_by_role("button", name="Start speaking")
    await start.focus()
    await page.keyboard.press("Space")
    await expect(page.locator(SPEAKER_STATUS)).to_have_attribute(
        "data-state", "live", timeout=TIMEOUT_MS
    )


async def finish_speaking(page: Page) -> None:
    """Press "Stop speaking"; return once the last finals arrived and the socket closed."""
    await page.get_by_role("button", name="Stop speaking").click()
    await expect(page.locator(SPEAKER_STATUS)).to_have_attribute(
        "data-state", "ended", timeout=TIMEOUT_MS
    )


async def wait_for_segments(page: Page, count: int) -> None:
    """Wait until the page shows ``count`` segments."""
    await expect(page.locator("#segments li.segment")).to_have_count(count, timeout=TIMEOUT_MS)


async def test_a_speaker_is_captioned_live_and_every_listener_follows(
    stack: StackProcess,
    speaking_browser: Browser,
    browser: Browser,
    speech: Speech,
    artifacts: Path,
) -> None:
    """GIVEN a person who starts a new conversation and speaks five sentences into the microphone,
    and a second person who opens the shared link
    WHEN the first one speaks
    THEN the speaker sees partial captions before each final, both pages show the same finals
    once each with the speaker's name, the words match what was said, and every export holds
    them."""
    speaker = await speaking_browser.new_page()
    errors: list[str] = []
    speaker.on("pageerror", lambda error: errors.append(str(error)))
    sent = bytearray()
    await speaker.route_web_socket(re.compile(r"/api/stt/transcribe"), recording_audio(sent))
    await speaker.goto(stack.gateway_url + "/")
    new = speaker.get_by_role("button", name="New conversation")
    await new.focus()
    await speaker.keyboard.press("Enter")
    link = await speaker.get_by_label("Shareable link").input_value()
    conversation = parse_qs(urlsplit(link).query)["conversation"][0]
    assert speaker.url == link

    listener = await browser.new_page()
    listener.on("pageerror", lambda error: errors.append(str(error)))
    await listener.goto(link)
    await expect(listener.locator(LISTENER_STATUS)).to_have_attribute(
        "data-state", "live", timeout=TIMEOUT_MS
    )

    started = time.monotonic()
    await start_speaking(speaker, "Reader")
    # Words show as partials, growing, while the first sentence is still being said.
    partial = speaker.locator(".partial .text").first
    await expect(partial).to_have_text(re.compile(r"(\w+\W+){4}\w"), timeout=TIMEOUT_MS)
    assert await speaker.locator("#segments li.segment").count() == 0
    heard = set(normalize(await partial.text_content() or "").split())
    assert len(heard & set(normalize(speech.clips[0].text).split())) >= 2, heard
    await expect(listener.locator("#segments li.segment").first).to_be_visible(timeout=TIMEOUT_MS)
    await speaker.screenshot(path=str(artifacts / "speaker.png"))

    await asyncio.sleep(max(0.0, speech.seconds - (time.monotonic() - started)))
    await finish_speaking(speaker)
    # What the AudioWorklet sent is the recording itself: same waveform, same level, at 16 kHz.
    assert len(sent) / 32_000 >= speech.seconds - 1
    similarity, level = match(bytes(sent), speech.pcm)
    assert similarity >= 0.98, similarity
    assert 0.89 <= level <= 1.12, level  # within 1 dB

    segments = await wait_stored(stack, conversation)
    cursors = [segment.cursor for segment in segments]
    await wait_for_segments(listener, len(segments))
    await wait_for_segments(speaker, len(segments))
    await asyncio.sleep(0.5)  # anything delivered twice would show by now
    assert await shown_cursors(listener) == cursors
    assert await shown_cursors(speaker) == cursors
    said = await shown(listener)
    assert {name for name, _ in said} == {"Reader"}
    wer = word_error_rate(speech.references, [" ".join(text for _, text in said)])
    assert wer <= MAX_WER["hybrid"]["librivox"], (wer, said)
    await listener.screenshot(path=str(artifacts / "listener.png"))

    texts = [text for _, text in said]
    for label, extension in (("Text", "txt"), ("SRT", "srt"), ("WebVTT", "vtt"), ("JSON", "json")):
        async with listener.expect_download() as download_info:
            await listener.get_by_role("link", name=label, exact=True).click()
        download = await download_info.value
        assert download.suggested_filename == f"{conversation}.{extension}"
        content = await asyncio.to_thread(Path(await download.path()).read_text, "utf-8")
        if extension == "json":
            exported = json.loads(content)["segments"]
            assert [segment["cursor"] for segment in exported] == cursors
        else:
            assert all(text in content for text in texts), (extension, content)
        if extension == "vtt":
            assert content.startswith("WEBVTT")
        if extension == "srt":
            assert content.count(" --> ") == len(texts)
    assert errors == []


def recording_audio(sent: bytearray) -> Callable[[WebSocketRoute], None]:
    """A websocket route that relays a page's audio socket, keeping a copy of the PCM it sends."""

    def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def upstream(message: str | bytes) -> None:
            if isinstance(message, bytes):
                sent.extend(message)
            server.send(message)

        ws.on_message(upstream)

    return relay


async def wait_stored(stack: StackProcess, conversation: str) -> list[Segment]:
    """The conversation's segments once the table stops changing (the last final is stored)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    previous: list[Segment] = []
    while True:
        current = await stored(stack.settings, conversation)
        if current and [s.cursor for s in current] == [s.cursor for s in previous]:
            return current
        assert time.monotonic() < deadline, f"nothing settled in {conversation}"
        previous = current
        await asyncio.sleep(1.0)


async def test_two_people_speak_at_once_in_one_conversation(
    stack: StackProcess,
    speaking_browser: Browser,
    launch: LaunchBrowser,
    speech: Speech,
    synthetic_speech: Speech,
) -> None:
    """GIVEN two people in one conversation, each with their own browser and microphone
    WHEN they speak at the same time
    THEN both pages show both people's sentences under their names, the same ones in the same
    order, and each person's words match what they said."""
    first = await speaking_browser.new_page()
    await first.goto(stack.gateway_url + "/")
    await first.get_by_role("button", name="New conversation").click()
    link = await first.get_by_label("Shareable link").input_value()
    conversation = parse_qs(urlsplit(link).query)["conversation"][0]
    async with launch(*microphone_saying(synthetic_speech.path)) as other_browser:
        second = await other_browser.new_page()
        await second.goto(link)
        started = time.monotonic()
        await asyncio.gather(start_speaking(first, "Reader"), start_speaking(second, "Voice"))
        longest = max(speech.seconds, synthetic_speech.seconds)
        await asyncio.sleep(max(0.0, longest - (time.monotonic() - started)))
        await asyncio.gather(finish_speaking(first), finish_speaking(second))

        segments = await wait_stored(stack, conversation)
        cursors = [segment.cursor for segment in segments]
        for page in (first, second):
            await wait_for_segments(page, len(segments))
            assert await shown_cursors(page) == cursors
        said = await shown(second)
    by_speaker = {
        name: [text for speaker, text in said if speaker == name] for name in ("Reader", "Voice")
    }
    reader = word_error_rate(speech.references, by_speaker["Reader"])
    voice = word_error_rate(synthetic_speech.references, by_speaker["Voice"])
    assert reader <= MAX_WER["hybrid"]["librivox"], (reader, by_speaker["Reader"])
    assert voice <= MAX_WER["hybrid"]["espeak"], (voice, by_speaker["Voice"])
