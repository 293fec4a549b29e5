"""How server messages look in a terminal: finals, partials, status lines and errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TextIO

CLEAR_LINE = "\r\x1b[2K"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def format_final(segment: dict[str, Any]) -> str:
    """``[start-end] Speaker: text``, times in seconds of the speaker's audio."""
    start, end = _seconds(segment.get("start")), _seconds(segment.get("end"))
    return f"[{start:.2f}-{end:.2f}] {_text(segment.get('speaker'))}: {_text(segment.get('text'))}"


def format_segment(segment: dict[str, Any]) -> str:
    """``[HH:MM:SS] Speaker: text``, the local wall-clock time at which the text became final."""
    timestamp = segment.get("timestamp")
    clock = (
        datetime.fromtimestamp(timestamp / 1000).strftime("%H:%M:%S")
        if isinstance(timestamp, int | float)
        else "--:--:--"
    )
    return f"[{clock}] {_text(segment.get('speaker'))}: {_text(segment.get('text'))}"


class Terminal:
    """Writes transcript lines to ``out`` and notices to ``err``, keeping one live partial line.

    On a TTY the partial is redrawn in place; otherwise each partial is its own ``~ `` line.
    """

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self.interactive = out.isatty()
        self._partial = ""

    def partial(self, text: str) -> None:
        """Show the text being recognized, which may still change."""
        if self.interactive:
            self._partial = text
            self.out.write(f"{CLEAR_LINE}{text}")
        else:
            self.out.write(f"~ {text}\n")
        self.out.flush()

    def line(self, text: str) -> None:
        """A transcript line (a final or a listener's segment), replacing any partial."""
        self._clear_partial()
        self._partial = ""
        self.out.write(f"{text}\n")
        self.out.flush()

    def notice(self, text: str) -> None:
        """A status or error line on the error stream, without losing the partial being shown."""
        self._clear_partial()
        self.err.write(f"{text}\n")
        self.err.flush()
        if self._partial:
            self.out.write(self._partial)
            self.out.flush()

    def close(self) -> None:
        """End a partial still shown, so the shell prompt starts on its own line."""
        if self.interactive and self._partial:
            self.out.write("\n")
            self.out.flush()
            self._partial = ""

    def _clear_partial(self) -> None:
        if self.interactive and self._partial:
            self.out.write(CLEAR_LINE)
            self.out.flush()
