"""The session's audio bookkeeping: speaker time versus upstream time, and the replay buffer."""

from __future__ import annotations

from captionist_ingest.audio import ReplayBuffer, Timeline, pcm_seconds, silence


def test_silence_is_zeros_of_the_right_length() -> None:
    assert silence(100, 16000) == bytes(3200)
    assert pcm_seconds(3200, 16000) == 0.1


def test_without_inserted_silence_times_are_unchanged() -> None:
    timeline = Timeline(16000)
    timeline.speaker_audio(32000)
    assert timeline.to_speaker(0.5) == 0.5
    assert timeline.upstream_seconds == 1.0


def test_inserted_silence_is_taken_out_of_later_times() -> None:
    # GIVEN 1 s of speech, 0.3 s of keepalive silence in three chunks, then 1 s of speech
    timeline = Timeline(16000)
    timeline.speaker_audio(32000)
    for _ in range(3):
        timeline.inserted_silence(3200)
    timeline.speaker_audio(32000)
    # THEN upstream times after the gap map back to the speaker's audio time
    assert timeline.to_speaker(0.9) == 0.9
    assert timeline.to_speaker(1.8) == 1.5
    # AND a time inside the gap maps to where the speaker paused
    assert timeline.to_speaker(1.2) == 1.0


def test_replay_buffer_keeps_audio_since_the_last_final_within_its_bound() -> None:
    # GIVEN a buffer of at most 10 bytes
    buffer = ReplayBuffer(10)
    for chunk in (b"aaaa", b"bbbb", b"cccc"):
        buffer.append(chunk)
    # THEN the oldest chunk went past the bound
    assert buffer.pending() == b"bbbbcccc"
    assert (buffer.start, buffer.dropped_bytes) == (4, 4)
    # WHEN a final ends at byte 9 (inside the third chunk)
    buffer.release_before(9)
    # THEN only the chunk the final does not cover wholly is kept
    assert buffer.pending() == b"cccc"
    assert buffer.size == 4


def test_replay_starts_at_the_last_final_end_not_at_its_chunk() -> None:
    # GIVEN a buffer holding three chunks, a final having ended at byte 6 (inside the second)
    buffer = ReplayBuffer(100)
    for chunk in (b"aaaa", b"bbbb", b"cccc"):
        buffer.append(chunk)
    buffer.release_before(6)
    # THEN a replay from that end skips what the final covered, and says where it starts
    assert buffer.replay_from(6) == (6, [b"bb", b"cccc"])
    # AND an older end than what is held replays everything held
    assert buffer.replay_from(0) == (4, [b"bbbb", b"cccc"])
    # AND with nothing to replay, it starts at the end
    buffer.release_before(12)
    assert buffer.replay_from(12) == (12, [])
