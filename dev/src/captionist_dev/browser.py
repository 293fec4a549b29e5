"""Debian's headless Chromium as a person with a microphone: the browser tests' and benchmark's.

Chromium's fake capture device plays a WAV file as the microphone, at real-time pace, from the
moment the page opens it; the permission prompt is answered yes without a person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

CHROMIUM: Final = Path("/usr/bin/chromium")
HEADLESS_ARGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# The microphone without the microphone: granted without asking, and fed from a file.
FAKE_MICROPHONE_ARGS: Final = (
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
)


def microphone_saying(wav: Path) -> list[str]:
    """Chromium flags for a microphone that says ``wav`` (16-bit PCM) once, then silence."""
    return [*FAKE_MICROPHONE_ARGS, f"--use-file-for-fake-audio-capture={wav}%noloop"]
