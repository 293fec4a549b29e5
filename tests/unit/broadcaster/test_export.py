"""Transcript export formats, checked by parsing them with real subtitle libraries."""

from __future__ import annotations

import html
import io
import json
from datetime import timedelta

import srt
import webvtt

from captionist_broadcaster.export import render
from captionist_core.segment import Segment
from tests.segments import make_segment

T0 = 1764072000000


def _conversation() -> list[Segment]:
    return [
        make_segment("c1", "Hello everyone.", speaker="Alice", start=0.5, end=2.0, timestamp=T0),
        make_segment(
            "c1", "Hi <Alice> & all", speaker="Bob Smith", start=10.0, end=11.0, timestamp=T0 + 3000
        ),
        make_segment(
            "c1", "Let's start.", speaker="Alice", start=4.0, end=6.0, timestamp=T0 + 6000
        ),
    ]


def test_json_export_is_the_contract_shape() -> None:
    """GIVEN segments WHEN exported as json THEN it is {conversation, segments} in order."""
    segments = _conversation()
    body = json.loads(render("c1", segments, "json").body)
    assert body["conversation"] == "c1"
    assert [s["text"] for s in body["segments"]] == [s.text for s in segments]
    assert body["segments"][0]["cursor"] == segments[0].cursor


def test_srt_export_parses_with_srt_library() -> None:
    """GIVEN three segments WHEN exported as srt THEN a subtitle parser reads three timed cues."""
    cues = list(srt.parse(render("c1", _conversation(), "srt").body))
    assert [cue.content for cue in cues] == [
        "Alice: Hello everyone.",
        "Bob Smith: Hi <Alice> & all",
        "Alice: Let's start.",
    ]
    # Placed on the conversation's clock: each ends at its stabilization time.
    assert cues[0].start == timedelta(0)
    assert cues[0].end == timedelta(seconds=1.5)
    assert cues[1].start == timedelta(seconds=3.5)
    assert cues[2].start == timedelta(seconds=5.5)
    assert cues[2].end == timedelta(seconds=7.5)


def test_vtt_export_parses_with_webvtt_library() -> None:
    """GIVEN segments WHEN exported as vtt THEN webvtt-py reads cues with speakers as voices."""
    body = render("c1", _conversation(), "vtt").body
    assert body.startswith("WEBVTT\n")
    captions = webvtt.from_buffer(io.StringIO(body)).captions
    assert len(captions) == 3
    assert captions[0].start == "00:00:00.000"
    assert captions[0].end == "00:00:01.500"
    assert captions[1].voice == "Bob Smith"
    # Markup characters are escaped as WebVTT requires (webvtt-py leaves the entities as-is).
    assert html.unescape(captions[1].text) == "Hi <Alice> & all"
    assert "<Alice>" not in body


def test_txt_export_has_a_line_per_segment() -> None:
    """GIVEN segments WHEN exported as txt THEN each is a timed line with its speaker."""
    lines = render("c1", _conversation(), "txt").body.splitlines()
    assert lines == [
        "[00:00:00] Alice: Hello everyone.",
        "[00:00:03] Bob Smith: Hi <Alice> & all",
        "[00:00:05] Alice: Let's start.",
    ]


def test_zero_length_segment_still_gets_a_visible_cue() -> None:
    """GIVEN a segment whose start equals its end WHEN exported THEN its cue has a duration."""
    segment = make_segment("c1", "Yes.", start=3.0, end=3.0, timestamp=T0)
    cue = next(iter(srt.parse(render("c1", [segment], "srt").body)))
    assert cue.end > cue.start
