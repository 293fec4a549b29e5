"""What the browser tests read off the web app's pages."""

from __future__ import annotations

from playwright.async_api import Page

LISTENER_STATUS = "#listener-status"
SPEAKER_STATUS = "#speaker-status"

_WATCH = """(selector) => {
  const element = document.querySelector(selector);
  const seen = [element.dataset.state];
  window.captionistStates = window.captionistStates || {};
  window.captionistStates[selector] = seen;
  new MutationObserver(() => {
    if (seen[seen.length - 1] !== element.dataset.state) seen.push(element.dataset.state);
  }).observe(element, { attributes: true, attributeFilter: ["data-state"] });
}"""


async def watch_states(page: Page, selector: str) -> None:
    """Record every state the status element ``selector`` shows from now on (see ``states``)."""
    await page.locator(selector).wait_for()
    await page.evaluate(_WATCH, selector)


async def states(page: Page, selector: str) -> list[str]:
    """Every state ``selector`` showed since ``watch_states``, in order, repeats collapsed."""
    seen: list[str] = await page.evaluate("(s) => window.captionistStates[s]", selector)
    return seen


async def shown(page: Page) -> list[tuple[str, str]]:
    """(speaker, text) of every segment on the page, top to bottom."""
    items = page.locator("#segments li.segment")
    speakers = await items.locator(".speaker").all_text_contents()
    texts = await items.locator(".text").all_text_contents()
    return list(zip(speakers, texts, strict=True))


async def shown_cursors(page: Page) -> list[str]:
    """The cursor of every segment on the page, top to bottom."""
    cursors: list[str] = await page.locator("#segments li.segment").evaluate_all(
        "items => items.map(item => item.dataset.cursor)"
    )
    return cursors
