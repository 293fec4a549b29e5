"""The pocketsphinx recognizer on its own: utterances, flushing, word times."""

from __future__ import annotations

from pathlib import Path

from captionist_transcribe_local.engines.base import Result
from captionist_transcribe_local.engines.pocketsphinx_engine import PocketsphinxEngine

GOFORWARD = Path("/usr/share/pocketsphinx/test/data/goforward.raw")


def test_end_of_stream_in_mid_speech_still_gives_a_final() -> None:
    """GIVEN "go forward ten meters" cut off at 2.0 s, in the middle of "meters"
    WHEN it is fed in 100 ms chunks and the stream is finished
    THEN partials come while it is fed and finish() returns one final with their ResultId, whose
    words are real words (no <s>, </s>, <sil> or "(2)" suffixes) in increasing time order.
    """
    recognizer = PocketsphinxEngine().recognizer("en-US")
    pcm = GOFORWARD.read_bytes()[: 2 * 32000]

    outputs = [
        output
        for offset in range(0, len(pcm), 3200)
        for output in recognizer.accept(pcm[offset : offset + 3200])
    ]
    ended = recognizer.finish()
    recognizer.close()

    # pocketsphinx answers every result at once, never a future.
    partials = [output for output in outputs if isinstance(output, Result)]
    finals = [output for output in ended if isinstance(output, Result)]
    assert (len(partials), len(finals)) == (len(outputs), len(ended))

    assert partials
    assert all(result.is_partial for result in partials)
    assert len(finals) == 1
    final = finals[0]
    assert not final.is_partial
    assert {result.result_id for result in partials} == {final.result_id}
    assert final.words
    assert final.text == " ".join(word.text for word in final.words)
    assert all(word.text.isalpha() for word in final.words)
    starts = [word.start for word in final.words]
    assert starts == sorted(starts)
    assert 0 < final.start < final.end <= 2.0
    assert (final.start, final.end) == (final.words[0].start, final.words[-1].end)


def test_silence_gives_nothing() -> None:
    """GIVEN three seconds of digital silence
    WHEN it is fed and the stream finished
    THEN no result at all comes.
    """
    recognizer = PocketsphinxEngine().recognizer("en-US")

    results = recognizer.accept(bytes(3 * 32000)) + recognizer.finish()

    assert results == []


def test_end_of_stream_on_a_frame_boundary_in_mid_speech_still_gives_a_final() -> None:
    """GIVEN "go forward ten meters" cut at 1.8 s, exactly 60 endpointer frames of 30 ms
    WHEN it is fed and the stream is finished
    THEN the open utterance is flushed into a final (nothing is left over to flush with).
    """
    recognizer = PocketsphinxEngine().recognizer("en-US")
    pcm = GOFORWARD.read_bytes()[:57_600]

    for offset in range(0, len(pcm), 3200):
        recognizer.accept(pcm[offset : offset + 3200])
    finals = recognizer.finish()
    recognizer.close()

    assert len(finals) == 1
    final = finals[0]
    assert isinstance(final, Result)
    assert not final.is_partial
    assert "forward" in final.text
