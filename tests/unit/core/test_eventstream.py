"""The AWS event-stream codec: round trips, botocore as reference peer, golden and bad frames."""

from __future__ import annotations

import contextlib
import json
import random
import struct
import uuid
import zlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from botocore.eventstream import EventStreamBuffer, EventStreamMessage, MessagePrelude

from captionist_core.eventstream import (
    MAX_MESSAGE_SIZE,
    Byte,
    Decoder,
    EventStreamError,
    HeaderValue,
    Int16,
    Int64,
    Message,
    audio_event,
    decode,
    encode,
    event_message,
    exception_message,
)

SESSION = uuid.UUID("a1b2c3d4-e5f6-4789-abcd-ef0123456789")
STARTED = datetime(2025, 11, 25, 12, 0, 0, 123000, tzinfo=UTC)

EVERY_TYPE: dict[str, HeaderValue] = {
    "true": True,
    "false": False,
    "byte": Byte(-7),
    "int16": Int16(-30000),
    "int32": 2_000_000_000,
    "int64": Int64(-(2**62)),
    "bytes": b"\x00\xffraw",
    "string": "héllo wörld",
    "timestamp": STARTED,
    "uuid": SESSION,
}

# AWS's published event-stream test vectors; their CRCs make them self-checking.
AWS_EMPTY_MESSAGE = bytes.fromhex("00000010 00000000 05c248eb 7d98c8ff")
AWS_INT32_HEADER = bytes.fromhex(
    "0000002d 00000010 41c424b8 0a 6576656e742d74797065 04 0000a00c"
    "7b27666f6f273a27626172277d 36f480a0"
)


def botocore_messages(data: bytes) -> list[EventStreamMessage]:
    """Everything botocore's own streaming decoder reads from ``data``."""
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


def botocore_headers(message: EventStreamMessage) -> dict[str, Any]:
    """A botocore message's headers (its stubs mistype them as int)."""
    return cast("dict[str, Any]", message.headers)


def as_botocore_value(value: HeaderValue) -> object:
    """How botocore represents a header value we encoded."""
    if isinstance(value, Byte | Int16 | Int64):
        return value.value
    if isinstance(value, datetime):
        return (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    if isinstance(value, uuid.UUID):
        return value.bytes
    return value


def hand_frame(headers: bytes, payload: bytes) -> bytes:
    """Frame already-encoded headers and a payload with struct and zlib alone."""
    total = 12 + len(headers) + len(payload) + 4
    head = struct.pack("!II", total, len(headers))
    body = head + struct.pack("!I", zlib.crc32(head)) + headers + payload
    return body + struct.pack("!I", zlib.crc32(body))


def with_byte(frame: bytes, index: int, value: int) -> bytes:
    """``frame`` with the byte at ``index`` replaced."""
    return frame[:index] + bytes([value]) + frame[index + 1 :]


# Round trips


@pytest.mark.parametrize(("name", "value"), list(EVERY_TYPE.items()))
def test_each_header_type_round_trips(name: str, value: HeaderValue) -> None:
    """GIVEN a message with one header of a type WHEN encoded and decoded THEN it is unchanged."""
    message = Message(headers={name: value}, payload=b"payload")
    assert decode(encode(message)) == message


def test_all_header_types_together_keep_their_order() -> None:
    """GIVEN every header type in one message WHEN round-tripped THEN values and order match."""
    decoded = decode(encode(Message(headers=EVERY_TYPE, payload=b"{}")))
    assert list(decoded.headers.items()) == list(EVERY_TYPE.items())
    assert type(decoded.headers["int32"]) is int
    assert type(decoded.headers["true"]) is bool


@pytest.mark.parametrize(
    ("value", "expected_type"),
    [(Byte(127), 2), (Byte(-128), 2), (Int16(32767), 3), (-(2**31), 4), (2**31 - 1, 4)],
)
def test_integer_widths_are_explicit(value: HeaderValue, expected_type: int) -> None:
    """GIVEN an integer header at the edge of its width WHEN encoded THEN it uses that wire type."""
    frame = encode(Message(headers={"n": value}, payload=b""))
    assert frame[14] == expected_type
    assert decode(frame).headers["n"] == value


@pytest.mark.parametrize("payload", [b"", bytes(range(256)) * 4096])
def test_empty_and_large_payloads_round_trip(payload: bytes) -> None:
    """GIVEN an empty or a 1 MiB payload WHEN round-tripped THEN the payload is unchanged."""
    message = Message(headers={":message-type": "event"}, payload=payload)
    assert decode(encode(message)).payload == payload


def test_message_without_headers_round_trips() -> None:
    """GIVEN a message with no headers WHEN round-tripped THEN it is unchanged."""
    assert decode(encode(Message(headers={}, payload=b"x"))) == Message(headers={}, payload=b"x")


def test_timestamps_in_any_zone_decode_as_the_same_instant_in_utc() -> None:
    """GIVEN a timestamp in UTC+02:00 WHEN round-tripped THEN it is the same instant, in UTC."""
    local = STARTED.astimezone(timezone(timedelta(hours=2)))
    decoded = decode(encode(Message(headers={"t": local}, payload=b""))).headers["t"]
    assert decoded == local
    assert isinstance(decoded, datetime)
    assert decoded.tzinfo is UTC


def test_message_headers_cannot_change_after_construction() -> None:
    """GIVEN a message built from a dict WHEN the dict changes THEN the message does not."""
    source: dict[str, HeaderValue] = {"a": "1"}
    message = Message(headers=source, payload=b"")
    source["a"] = "2"
    assert message.headers["a"] == "1"
    with pytest.raises(TypeError):
        message.headers["a"] = "3"  # type: ignore[index]


# botocore as the reference peer


def test_botocore_decodes_every_header_type_we_encode() -> None:
    """GIVEN a frame with every header type WHEN botocore decodes it THEN it reads our values."""
    (message,) = botocore_messages(encode(Message(headers=EVERY_TYPE, payload=b"body")))
    expected = {name: as_botocore_value(value) for name, value in EVERY_TYPE.items()}
    assert botocore_headers(message) == expected
    assert message.payload == b"body"


def test_botocore_prelude_and_crcs_agree_with_ours() -> None:
    """GIVEN a frame we encode WHEN botocore parses it THEN its prelude and CRC are the frame's."""
    frame = encode(Message(headers={"k": "v", "n": Int64(1)}, payload=b"0123456789"))
    (message,) = botocore_messages(frame)
    prelude = cast("MessagePrelude", message.prelude)
    total, headers_length, prelude_crc = struct.unpack("!III", frame[:12])
    assert (prelude.total_length, prelude.headers_length, prelude.crc) == (
        total,
        headers_length,
        prelude_crc,
    )
    assert prelude.total_length == len(frame)
    assert prelude.payload_length == 10
    assert message.crc == struct.unpack("!I", frame[-4:])[0]


def test_botocore_decodes_the_transcribe_helpers() -> None:
    """GIVEN audio, event and exception frames WHEN botocore reads them THEN all 3 match."""
    stream = (
        audio_event(b"\x01\x02" * 800)
        + event_message("TranscriptEvent", b'{"Transcript":{"Results":[]}}')
        + exception_message("BadRequestException", "bad audio")
    )
    audio, transcript, failure = botocore_messages(stream)
    assert botocore_headers(audio) == {
        ":content-type": "application/octet-stream",
        ":event-type": "AudioEvent",
        ":message-type": "event",
    }
    assert audio.payload == b"\x01\x02" * 800
    assert botocore_headers(transcript) == {
        ":event-type": "TranscriptEvent",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert botocore_headers(failure) == {
        ":exception-type": "BadRequestException",
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    assert json.loads(failure.payload) == {"Message": "bad audio"}


# Golden frames


def test_encoded_frame_matches_hand_built_bytes() -> None:
    """GIVEN an AudioEvent WHEN encoded THEN every byte equals a frame built by hand."""
    pcm = b"\x00\x01\x02\x03"
    headers = (
        b"\x0d:content-type\x07\x00\x18application/octet-stream"
        b"\x0b:event-type\x07\x00\x0aAudioEvent"
        b"\x0d:message-type\x07\x00\x05event"
    )
    expected = hand_frame(headers, pcm)
    assert audio_event(pcm) == expected
    assert expected[:8] == struct.pack("!II", 12 + len(headers) + 4 + 4, len(headers))


def test_hand_built_frame_with_every_type_decodes() -> None:
    """GIVEN a frame built by hand with every value type WHEN decoded THEN values are right."""
    headers = (
        b"\x01a\x00"
        b"\x01b\x01"
        b"\x01c\x02\xf9"
        b"\x01d\x03\x8a\xd0"
        b"\x01e\x04\x77\x35\x94\x00"
        b"\x01f\x05" + struct.pack("!q", -(2**62)) + b"\x01g\x06\x00\x02\x00\xff"
        b"\x01h\x07\x00\x03abc"
        b"\x01i\x08" + struct.pack("!q", 1764072000123) + b"\x01j\x09" + SESSION.bytes
    )
    message = decode(hand_frame(headers, b"p"))
    assert dict(message.headers) == {
        "a": True,
        "b": False,
        "c": Byte(-7),
        "d": Int16(-30000),
        "e": 2_000_000_000,
        "f": Int64(-(2**62)),
        "g": b"\x00\xff",
        "h": "abc",
        "i": STARTED,
        "j": SESSION,
    }
    assert message.payload == b"p"


def test_aws_published_vectors_decode() -> None:
    """GIVEN AWS's published empty and int32-header frames WHEN decoded THEN they read right."""
    assert decode(AWS_EMPTY_MESSAGE) == Message(headers={}, payload=b"")
    assert decode(AWS_INT32_HEADER) == Message(
        headers={"event-type": 40972}, payload=b"{'foo':'bar'}"
    )


def test_aws_published_vectors_are_what_we_encode() -> None:
    """GIVEN the messages behind AWS's published frames WHEN encoded THEN the bytes are theirs."""
    assert encode(Message(headers={}, payload=b"")) == AWS_EMPTY_MESSAGE
    int32_message = Message(headers={"event-type": 40972}, payload=b"{'foo':'bar'}")
    assert encode(int32_message) == AWS_INT32_HEADER


# Transcribe helpers


def test_helpers_expose_message_event_and_exception_types() -> None:
    """GIVEN frames from the helpers WHEN decoded THEN their type properties read the headers."""
    audio = decode(audio_event(b"pcm"))
    assert (audio.message_type, audio.event_type, audio.exception_type) == (
        "event",
        "AudioEvent",
        None,
    )
    assert audio.payload == b"pcm"
    event = decode(event_message("TranscriptEvent", b"{}"))
    assert (event.event_type, event.headers[":content-type"]) == (
        "TranscriptEvent",
        "application/json",
    )
    failure = decode(exception_message("LimitExceededException", 'too "many"'))
    assert (failure.message_type, failure.exception_type, failure.event_type) == (
        "exception",
        "LimitExceededException",
        None,
    )
    assert json.loads(failure.payload) == {"Message": 'too "many"'}


# Bad frames


def test_corrupt_prelude_crc_is_rejected() -> None:
    """GIVEN a frame whose prelude CRC is wrong WHEN decoded THEN a prelude CRC error is raised."""
    frame = audio_event(b"pcm")
    with pytest.raises(EventStreamError, match="prelude CRC mismatch"):
        decode(with_byte(frame, 9, frame[9] ^ 0x01))


def test_corrupt_length_is_caught_by_the_prelude_crc() -> None:
    """GIVEN a frame whose total length was altered WHEN decoded THEN the prelude CRC catches it."""
    frame = audio_event(b"pcm")
    with pytest.raises(EventStreamError, match="prelude CRC mismatch"):
        decode(with_byte(frame, 3, frame[3] + 1))


@pytest.mark.parametrize("index", [12, 20, -5, -1])
def test_corrupt_message_crc_is_rejected(index: int) -> None:
    """GIVEN a frame with a flipped header, payload or CRC byte WHEN decoded THEN it is rejected."""
    frame = bytearray(audio_event(b"pcm"))
    frame[index] ^= 0x40
    with pytest.raises(EventStreamError, match="message CRC mismatch"):
        decode(bytes(frame))


def test_every_truncation_point_raises_event_stream_error() -> None:
    """GIVEN a frame cut at every length WHEN decoded THEN each raises EventStreamError."""
    frame = encode(Message(headers=EVERY_TYPE, payload=b"payload"))
    for cut in range(len(frame)):
        with pytest.raises(EventStreamError, match=r"too short|truncated"):
            decode(frame[:cut])


def test_trailing_bytes_are_a_length_mismatch() -> None:
    """GIVEN a frame with an extra byte WHEN decoded THEN a total length mismatch is raised."""
    with pytest.raises(EventStreamError, match="total length mismatch"):
        decode(audio_event(b"pcm") + b"\x00")


def test_oversize_prelude_is_rejected() -> None:
    """GIVEN a valid prelude announcing more than 16 MiB WHEN decoded THEN it is rejected."""
    head = struct.pack("!II", MAX_MESSAGE_SIZE + 1, 0)
    prelude = head + struct.pack("!I", zlib.crc32(head))
    with pytest.raises(EventStreamError, match="limit"):
        decode(prelude + b"\x00" * 20)
    with pytest.raises(EventStreamError, match="limit"):
        Decoder().feed(prelude)


@pytest.mark.parametrize(("total", "headers_length"), [(15, 0), (0, 0), (16, 1), (40, 30)], ids=str)
def test_impossible_prelude_lengths_are_rejected(total: int, headers_length: int) -> None:
    """GIVEN a valid-CRC prelude whose lengths cannot fit WHEN decoded THEN it is rejected."""
    head = struct.pack("!II", total, headers_length)
    frame = head + struct.pack("!I", zlib.crc32(head)) + b"\x00" * max(total - 12, 4)
    with pytest.raises(EventStreamError, match="prelude announces"):
        decode(frame[: max(total, 16)])


def test_unknown_header_type_is_rejected() -> None:
    """GIVEN a header with value type 10 WHEN decoded THEN an unknown-type error is raised."""
    with pytest.raises(EventStreamError, match="unknown value type 10"):
        decode(hand_frame(b"\x01x\x0a\x00", b""))


@pytest.mark.parametrize(
    "headers",
    [
        b"\x05ab",  # name longer than the headers
        b"\x01a",  # no type byte
        b"\x01a\x04\x00\x00",  # int32 cut short
        b"\x01a\x07\x00\x09abc",  # string longer than the headers
        b"\x01a\x06\x00",  # byte array length cut short
        b"\x01a\x09" + b"\x00" * 15,  # uuid cut short
    ],
)
def test_header_overrun_is_rejected(headers: bytes) -> None:
    """GIVEN headers that run past their announced length WHEN decoded THEN it is an overrun."""
    with pytest.raises(EventStreamError, match="header overrun"):
        decode(hand_frame(headers, b"payload after the headers"))


@pytest.mark.parametrize(
    "headers", [b"\x01\xff\x07\x00\x01a", b"\x01a\x07\x00\x02\xc3\x28"], ids=["name", "value"]
)
def test_non_utf8_names_and_strings_are_rejected(headers: bytes) -> None:
    """GIVEN a header name or string that is not UTF-8 WHEN decoded THEN it is rejected."""
    with pytest.raises(EventStreamError, match="not valid UTF-8"):
        decode(hand_frame(headers, b""))


def test_duplicate_header_is_rejected() -> None:
    """GIVEN the same header twice WHEN decoded THEN it is rejected."""
    with pytest.raises(EventStreamError, match="appears twice"):
        decode(hand_frame(b"\x01a\x00\x01a\x01", b""))


def test_out_of_range_timestamp_is_rejected() -> None:
    """GIVEN a timestamp beyond what datetime holds WHEN decoded THEN it is rejected."""
    headers = b"\x01t\x08" + struct.pack("!q", 2**63 - 1)
    with pytest.raises(EventStreamError, match="out of range"):
        decode(hand_frame(headers, b""))


def test_random_bytes_only_ever_raise_event_stream_error() -> None:
    """GIVEN random or corrupted frames WHEN decoded THEN only EventStreamError escapes."""
    rng = random.Random(20251125)
    valid = encode(Message(headers=EVERY_TYPE, payload=b"payload"))
    for _ in range(3000):
        garbage = rng.randbytes(rng.randrange(64))
        with pytest.raises(EventStreamError):
            decode(garbage)
    for _ in range(3000):
        # Keep the CRCs valid so the header parser itself sees the damage.
        headers = bytearray(valid[12:-11])
        for _ in range(rng.randrange(1, 4)):
            headers[rng.randrange(len(headers))] = rng.randrange(256)
        with contextlib.suppress(EventStreamError):
            decode(hand_frame(bytes(headers), b"payload"))


# Values the format cannot carry


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({"n": 2**31}, "int32"),
        ({"s": "x" * 65536}, "limit is 65535"),
        ({"b": b"x" * 65536}, "limit is 65535"),
        ({"x" * 256: True}, "1 to 255"),
        ({"": True}, "1 to 255"),
        ({"t": datetime(2025, 1, 1)}, "timezone-aware"),
        ({"s": "\ud800"}, "UTF-8"),
    ],
)
def test_unencodable_values_are_rejected(headers: dict[str, HeaderValue], match: str) -> None:
    """GIVEN a header value outside the format WHEN encoded THEN a clear error is raised."""
    with pytest.raises(EventStreamError, match=match):
        encode(Message(headers=headers, payload=b""))


@pytest.mark.parametrize(
    ("make", "value"), [(Byte, 128), (Byte, -129), (Int16, 32768), (Int64, 2**63)]
)
def test_width_wrappers_reject_out_of_range_values(make: type[Byte], value: int) -> None:
    """GIVEN a value that does not fit a width WHEN wrapped THEN it is rejected at once."""
    with pytest.raises(EventStreamError, match="outside"):
        make(value)


def test_oversize_message_is_not_encoded() -> None:
    """GIVEN a payload over 16 MiB WHEN encoded THEN it is rejected."""
    with pytest.raises(EventStreamError, match="limit"):
        encode(Message(headers={}, payload=bytes(MAX_MESSAGE_SIZE)))


def test_unsupported_value_type_is_a_type_error() -> None:
    """GIVEN a header value of an unsupported type WHEN encoded THEN a TypeError is raised."""
    with pytest.raises(TypeError, match="float"):
        encode(Message(headers={"f": 1.5}, payload=b""))  # type: ignore[dict-item]


# The streaming decoder


def test_stream_split_at_every_boundary_yields_the_three_messages() -> None:
    """GIVEN 3 messages back to back WHEN fed in two parts split anywhere THEN exactly those 3."""
    messages = [
        Message(headers=EVERY_TYPE, payload=b"first"),
        Message(headers={}, payload=b""),
        Message(headers={":event-type": "AudioEvent"}, payload=b"\x00" * 300),
    ]
    stream = b"".join(encode(message) for message in messages)
    for split in range(len(stream) + 1):
        decoder = Decoder()
        assert decoder.feed(stream[:split]) + decoder.feed(stream[split:]) == messages
        assert decoder.buffered == 0


def test_stream_fed_one_byte_at_a_time_yields_each_message_when_complete() -> None:
    """GIVEN 3 frames fed byte by byte WHEN each last byte arrives THEN its message comes out."""
    frames = [audio_event(b"a"), event_message("TranscriptEvent", b"{}"), audio_event(b"")]
    stream = b"".join(frames)
    ends = {sum(len(frame) for frame in frames[: i + 1]) for i in range(len(frames))}
    decoder = Decoder()
    decoded: list[Message] = []
    for position in range(len(stream)):
        out = decoder.feed(stream[position : position + 1])
        assert len(out) == (1 if position + 1 in ends else 0)
        decoded += out
    assert decoded == [decode(frame) for frame in frames]


def test_stream_holds_a_partial_message_until_it_completes() -> None:
    """GIVEN half a frame WHEN fed THEN nothing comes out and the half is buffered."""
    frame = audio_event(b"pcm")
    decoder = Decoder()
    assert decoder.feed(frame[:20]) == []
    assert decoder.buffered == 20
    assert decoder.feed(frame[20:]) == [decode(frame)]


def test_stream_stays_failed_after_a_bad_frame() -> None:
    """GIVEN a corrupt frame in a stream WHEN fed THEN it raises, and so does every later feed."""
    good = audio_event(b"pcm")
    decoder = Decoder()
    with pytest.raises(EventStreamError, match="message CRC mismatch"):
        decoder.feed(with_byte(good, len(good) - 1, good[-1] ^ 0xFF))
    with pytest.raises(EventStreamError, match="already failed"):
        decoder.feed(good)
