"""`captionist`, the terminal client, as a user runs it against `captionist-dev run`'s stack."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
import wave
from pathlib import Path

from tests.integration.dev.stack_process import StackProcess

CAPTIONIST = Path(sys.executable).parent / "captionist"
RECORDING = Path("/usr/share/pocketsphinx/test/data/goforward.raw")  # "go forward ten meters"
FINAL_LINE = re.compile(r"^\[\d+\.\d\d-\d+\.\d\d\] Ann: (?P<text>.*forward.*)$", re.MULTILINE)
COMMAND_TIMEOUT = 30


def captionist(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed console script and collect its output."""
    return subprocess.run(
        [str(CAPTIONIST), *args],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def write_wav(path: Path, frames: bytes, *, width: int = 2, rate: int = 16000) -> Path:
    """A mono WAV file of ``frames`` with the given sample width."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return path


def test_streamed_speech_is_printed_and_a_listener_sees_the_same_final(
    stack: StackProcess, tmp_path: Path
) -> None:
    """GIVEN a WAV of "go forward ten meters" and the stack
    WHEN `captionist stream --fast` sends it, then `captionist listen --once` reads that
    conversation
    THEN the stream exits 0 after printing a final containing "forward",
    and the listener prints that same final with its wall-clock time."""
    recording = write_wav(tmp_path / "goforward.wav", RECORDING.read_bytes())
    conversation = f"cli-{uuid.uuid4().hex[:12]}"

    streamed = captionist(
        "stream", str(recording), "--fast", "--conversation", conversation,
        "--speaker", "Ann", "--url", stack.gateway_url,
    )  # fmt: skip

    assert streamed.returncode == 0, streamed.stderr
    final = FINAL_LINE.search(streamed.stdout)
    assert final is not None, streamed.stdout
    assert f"conversation {conversation}" in streamed.stderr
    # The final reaches the listener's store through the queue: allow it a few seconds.
    deadline = time.monotonic() + 10
    while True:
        listened = captionist(
            "listen", "--conversation", conversation, "--once", "--url", stack.gateway_url
        )
        assert listened.returncode == 0, listened.stderr
        if final["text"] in listened.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    listened_line = rf"^\[\d\d:\d\d:\d\d\] Ann: {re.escape(final['text'])}$"
    assert re.search(listened_line, listened.stdout, re.MULTILINE), listened.stdout
    assert listened.stdout.count(final["text"]) == 1


def test_a_wav_of_8_bit_samples_is_refused_before_connecting(tmp_path: Path) -> None:
    """GIVEN a WAV file of 8-bit samples
    WHEN `captionist stream` is asked to send it (to a server that does not even exist)
    THEN it exits 2 saying that only 16-bit PCM is supported."""
    eight_bit = write_wav(tmp_path / "eight.wav", bytes(1600), width=1, rate=8000)

    refused = captionist(
        "stream", str(eight_bit), "--conversation", "x", "--url", "http://127.0.0.1:9"
    )

    assert refused.returncode == 2
    assert "8-bit samples are not supported" in refused.stderr
    assert "16-bit PCM" in refused.stderr
    assert refused.stdout == ""


def test_an_invalid_conversation_id_gets_the_servers_refusal(
    stack: StackProcess, tmp_path: Path
) -> None:
    """GIVEN a valid WAV file and the stack
    WHEN `captionist stream` names a conversation id the contract does not allow
    THEN it prints the server's 400 message and exits 2; so does `captionist listen`."""
    recording = write_wav(tmp_path / "short.wav", bytes(3200))

    streamed = captionist(
        "stream", str(recording), "--conversation", "not valid!", "--url", stack.gateway_url
    )

    assert streamed.returncode == 2
    assert "invalid_conversation" in streamed.stderr
    assert "'conversation' must match [A-Za-z0-9_-]{1,64}" in streamed.stderr
    listened = captionist("listen", "--conversation", "", "--once", "--url", stack.gateway_url)
    assert listened.returncode == 2
    assert "refused:" in listened.stderr
