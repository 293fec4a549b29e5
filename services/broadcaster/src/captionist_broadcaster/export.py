"""Transcript export: a whole conversation as JSON, plain text, SRT or WebVTT.

Segments carry audio times of their speaker's own session; sessions start at different moments. A
cue is placed on the conversation's clock by the segment's stabilization time: it ends at its
``timestamp`` and lasts ``end - start``, relative to the conversation's first cue.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from captionist_core.segment import Segment

MIN_CUE_SECONDS = 0.5


@dataclass(frozen=True)
class Export:
    """A rendered transcript and how to serve it."""

    body: str
    content_type: str
    extension: str


@dataclass(frozen=True)
class _Cue:
    start: float
    end: float
    speaker: str
    text: str


def _cues(segments: Sequence[Segment]) -> list[_Cue]:
    if not segments:
        return []
    starts = [segment.timestamp / 1000 - (segment.end - segment.start) for segment in segments]
    origin = min(starts)
    return [
        _Cue(
            start=start - origin,
            end=start - origin + max(segment.end - segment.start, MIN_CUE_SECONDS),
            speaker=segment.speaker,
            text=" ".join(segment.text.split()),
        )
        for start, segment in zip(starts, segments, strict=True)
    ]


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_json(conversation: str, segments: Sequence[Segment]) -> str:
    """``{"conversation": ..., "segments": [...]}``."""
    return json.dumps(
        {"conversation": conversation, "segments": [s.model_dump(mode="json") for s in segments]},
        ensure_ascii=False,
    )


def to_txt(conversation: str, segments: Sequence[Segment]) -> str:
    """One line per segment: ``[HH:MM:SS] Speaker: text``."""
    return "".join(
        f"[{_clock(cue.start, ',')[:8]}] {cue.speaker}: {cue.text}\n" for cue in _cues(segments)
    )


def to_srt(conversation: str, segments: Sequence[Segment]) -> str:
    """SubRip subtitles, the speaker's name before each cue's text."""
    blocks = [
        f"{index}\n{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}\n{cue.speaker}: {cue.text}\n"
        for index, cue in enumerate(_cues(segments), start=1)
    ]
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(conversation: str, segments: Sequence[Segment]) -> str:
    """WebVTT subtitles with the speaker as a voice span (``<v Alice>``)."""
    cues = [
        f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}\n"
        f"<v {_vtt_escape(cue.speaker)}>{_vtt_escape(cue.text)}\n"
        for cue in _cues(segments)
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


FORMATS: dict[str, tuple[Callable[[str, Sequence[Segment]], str], str]] = {
    "json": (to_json, "application/json"),
    "txt": (to_txt, "text/plain"),
    "srt": (to_srt, "application/x-subrip"),
    "vtt": (to_vtt, "text/vtt"),
}


def render(conversation: str, segments: Sequence[Segment], fmt: str) -> Export:
    """Render ``segments`` in ``fmt`` (one of :data:`FORMATS`)."""
    renderer, content_type = FORMATS[fmt]
    return Export(renderer(conversation, segments), content_type, fmt)
