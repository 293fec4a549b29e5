"""The browser tier: the whole stack from `captionist-dev run`, and headless Chromium (Debian's).

A speaking browser's microphone is Chromium's fake capture device playing a WAV of real speech
(the LibriVox clips of pocketsphinx-testdata), at real-time pace, from the moment the page opens
the microphone. Screenshots go to ``test-artifacts/e2e/`` (``CAPTIONIST_TEST_ARTIFACTS``) for a
person to look at.
"""

from __future__ import annotations

import os
import wave
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from captionist_dev.browser import CHROMIUM, HEADLESS_ARGS, microphone_saying
from captionist_dev.settings import REPO_ROOT
from captionist_dev.speech import (
    ESPEAK_SENTENCES,
    Clip,
    espeak_clip,
    in_turn,
    librivox_clips,
    write_wav,
)
from tests.integration.dev.stack_process import StackProcess, shared_stack, stop_shared_stack

# The fake device starts playing when the page opens the microphone: a little silence first.
LEAD_IN_SECONDS = 0.7
GAP_SECONDS = 1.0


@dataclass(frozen=True)
class Speech:
    """A WAV file of clips said one after another, and what was said."""

    path: Path
    clips: list[Clip]

    @property
    def seconds(self) -> float:
        """How long the file plays."""
        with wave.open(str(self.path)) as wav:
            return float(wav.getnframes() / wav.getframerate())

    @property
    def pcm(self) -> bytes:
        """The samples the file plays (16 kHz s16le mono)."""
        with wave.open(str(self.path)) as wav:
            frames: bytes = wav.readframes(wav.getnframes())
        return frames

    @property
    def references(self) -> list[str]:
        """The reference transcript of each clip."""
        return [clip.text for clip in self.clips]


def write_speech(path: Path, clips: list[Clip]) -> Speech:
    """``clips`` said in turn, ``GAP_SECONDS`` apart, as a WAV file at ``path``."""
    write_wav(path, in_turn(clips, lead_in=LEAD_IN_SECONDS, gap=GAP_SECONDS))
    return Speech(path, clips)


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    """The five LibriVox clips (real human voices), 1 s apart (about 30 s)."""
    return write_speech(tmp_path_factory.mktemp("speech") / "librivox.wav", librivox_clips())


@pytest.fixture(scope="session")
def synthetic_speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    """espeak-ng saying the test sentences, 1 s apart: a second, different voice."""
    clips = [espeak_clip(sentence) for sentence in ESPEAK_SENTENCES]
    return write_speech(tmp_path_factory.mktemp("speech") / "espeak.wav", clips)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: kept after the run, never committed."""
    root = Path(os.environ.get("CAPTIONIST_TEST_ARTIFACTS", REPO_ROOT / "test-artifacts"))
    folder = root / "e2e"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def stack() -> Iterator[StackProcess]:
    """The whole stack on free ports, as `captionist-dev run` starts it, shared by the session."""
    yield shared_stack()
    stop_shared_stack()


@pytest.fixture(autouse=True)
def dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' own AWS calls go to the emulator, which takes any credentials."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium (package `chromium`, which `make setup` installs)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (Debian package chromium)")
    return CHROMIUM


LaunchBrowser = Callable[..., AbstractAsyncContextManager[Browser]]


@pytest.fixture
def launch(chromium: Path) -> LaunchBrowser:
    """Starts headless Chromium with extra command-line flags (e.g. a fake microphone)."""

    @asynccontextmanager
    async def launched(*extra: str) -> AsyncIterator[Browser]:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(chromium), args=[*HEADLESS_ARGS, *extra]
            )
            try:
                yield browser
            finally:
                await browser.close()

    return launched


@pytest.fixture
async def browser(launch: LaunchBrowser) -> AsyncIterator[Browser]:
    """Headless Chromium driven by playwright, with no microphone."""
    async with launch() as launched:
        yield launched


@pytest.fixture
async def speaking_browser(launch: LaunchBrowser, speech: Speech) -> AsyncIterator[Browser]:
    """Headless Chromium whose microphone says ``speech``."""
    async with launch(*microphone_saying(speech.path)) as launched:
        yield launched
