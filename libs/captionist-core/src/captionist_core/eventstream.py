"""The AWS event-stream codec: the binary framing of Amazon Transcribe's streaming protocol.

A message is a 12-byte prelude (total length, headers length, CRC32 of those 8 bytes, each a
big-endian uint32), the headers, the payload and a CRC32 of everything before it. A header is a
1-byte name length, the UTF-8 name, a 1-byte value type and the value.

Header values map to Python types as follows, so ``decode(encode(m)) == m`` for every message:

==========  ====  ============================================================
wire type   code  Python value
==========  ====  ============================================================
bool true   0     ``True``
bool false  1     ``False``
byte        2     :class:`Byte` (signed 8-bit)
int16       3     :class:`Int16`
int32       4     plain ``int``
int64       5     :class:`Int64`
byte array  6     ``bytes`` (at most 65535)
string      7     ``str`` (at most 65535 UTF-8 bytes)
timestamp   8     timezone-aware ``datetime`` (millisecond precision; decoded as UTC)
uuid        9     ``uuid.UUID``
==========  ====  ============================================================
"""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Final

__all__ = [
    "MAX_MESSAGE_SIZE",
    "Byte",
    "Decoder",
    "EventStreamError",
    "HeaderValue",
    "Int16",
    "Int64",
    "Message",
    "audio_event",
    "decode",
    "encode",
    "event_message",
    "exception_message",
]

# Far above Transcribe's own limits; it bounds what a peer can make us buffer.
MAX_MESSAGE_SIZE: Final = 16 * 1024 * 1024

_PRELUDE = struct.Struct("!III")
_PRELUDE_SIZE: Final = _PRELUDE.size
_CRC_SIZE: Final = 4
_MIN_MESSAGE_SIZE: Final = _PRELUDE_SIZE + _CRC_SIZE
_MAX_NAME_SIZE: Final = 255
_MAX_VARIABLE_SIZE: Final = 0xFFFF

_UINT8 = struct.Struct("!B")
_UINT16 = struct.Struct("!H")
_UINT32 = struct.Struct("!I")
_INT8 = struct.Struct("!b")
_INT16 = struct.Struct("!h")
_INT32 = struct.Struct("!i")
_INT64 = struct.Struct("!q")

_TRUE, _FALSE, _BYTE, _INT16_TYPE, _INT32_TYPE, _INT64_TYPE = 0, 1, 2, 3, 4, 5
_BYTES_TYPE, _STRING_TYPE, _TIMESTAMP_TYPE, _UUID_TYPE = 6, 7, 8, 9

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND: Final = timedelta(milliseconds=1)


class EventStreamError(ValueError):
    """A frame is malformed or a message cannot be encoded."""


def _check_range(kind: str, value: int, bits: int) -> None:
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if not low <= value <= high:
        raise EventStreamError(f"{kind} header value {value} is outside [{low}, {high}]")


@dataclass(frozen=True, slots=True)
class Byte:
    """A header value sent as a signed 8-bit integer (wire type 2)."""

    value: int

    def __post_init__(self) -> None:
        _check_range("byte", self.value, 8)


@dataclass(frozen=True, slots=True)
class Int16:
    """A header value sent as a signed 16-bit integer (wire type 3)."""

    value: int

    def __post_init__(self) -> None:
        _check_range("int16", self.value, 16)


@dataclass(frozen=True, slots=True)
class Int64:
    """A header value sent as a signed 64-bit integer (wire type 5)."""

    value: int

    def __post_init__(self) -> None:
        _check_range("int64", self.value, 64)


# A plain int is an int32 (wire type 4), the width Transcribe and most AWS peers use.
HeaderValue = bool | int | str | bytes | datetime | uuid.UUID | Byte | Int16 | Int64


@dataclass(frozen=True)
class Message:
    """One event-stream message: ordered headers and an opaque payload."""

    headers: Mapping[str, HeaderValue]
    payload: bytes = b""

    def __post_init__(self) -> None:
        # A read-only copy keeps the frozen message from changing under its holder.
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    def _string_header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return value if isinstance(value, str) else None

    @property
    def message_type(self) -> str | None:
        """The ``:message-type`` header (``event``, ``exception`` or ``error``), if present."""
        return self._string_header(":message-type")

    @property
    def event_type(self) -> str | None:
        """The ``:event-type`` header (e.g. ``AudioEvent``, ``TranscriptEvent``), if present."""
        return self._string_header(":event-type")

    @property
    def exception_type(self) -> str | None:
        """The ``:exception-type`` header (e.g. ``BadRequestException``), if present."""
        return self._string_header(":exception-type")


def _encode_utf8(kind: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise EventStreamError(f"{kind} {text!r} is not encodable as UTF-8") from error


def _encode_value(name: str, value: HeaderValue) -> bytes:
    # bool before int: bool is a subclass of int.
    if isinstance(value, bool):
        return _UINT8.pack(_TRUE if value else _FALSE)
    if isinstance(value, int):
        _check_range("int32", value, 32)
        return _UINT8.pack(_INT32_TYPE) + _INT32.pack(value)
    if isinstance(value, Byte):
        return _UINT8.pack(_BYTE) + _INT8.pack(value.value)
    if isinstance(value, Int16):
        return _UINT8.pack(_INT16_TYPE) + _INT16.pack(value.value)
    if isinstance(value, Int64):
        return _UINT8.pack(_INT64_TYPE) + _INT64.pack(value.value)
    if isinstance(value, bytes | str):
        kind = _BYTES_TYPE if isinstance(value, bytes) else _STRING_TYPE
        data = value if isinstance(value, bytes) else _encode_utf8(f"header {name!r}", value)
        if len(data) > _MAX_VARIABLE_SIZE:
            raise EventStreamError(
                f"header {name!r} value is {len(data)} bytes, the limit is {_MAX_VARIABLE_SIZE}"
            )
        return _UINT8.pack(kind) + _UINT16.pack(len(data)) + data
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise EventStreamError(f"timestamp header {name!r} must be timezone-aware")
        millis = (value - _EPOCH) // _MILLISECOND
        return _UINT8.pack(_TIMESTAMP_TYPE) + _INT64.pack(millis)
    if isinstance(value, uuid.UUID):
        return _UINT8.pack(_UUID_TYPE) + value.bytes
    raise TypeError(f"header {name!r} has unsupported value type {type(value).__name__}")


def _encode_header(name: str, value: HeaderValue) -> bytes:
    raw_name = _encode_utf8("header name", name)
    if not 1 <= len(raw_name) <= _MAX_NAME_SIZE:
        raise EventStreamError(
            f"header name {name!r} is {len(raw_name)} bytes, it must be 1 to {_MAX_NAME_SIZE}"
        )
    return _UINT8.pack(len(raw_name)) + raw_name + _encode_value(name, value)


def encode(message: Message) -> bytes:
    """Frame ``message`` as one event-stream message, headers in the mapping's order.

    Raises ``EventStreamError`` for values the format cannot carry (out-of-range integers, names
    over 255 bytes, strings over 65535 bytes, naive timestamps, messages over ``MAX_MESSAGE_SIZE``)
    and ``TypeError`` for header values of an unsupported type.
    """
    return _frame(_encode_headers(message.headers), message.payload)


def _encode_headers(headers: Mapping[str, HeaderValue]) -> bytes:
    return b"".join(_encode_header(name, value) for name, value in headers.items())


def _frame(headers: bytes, payload: bytes) -> bytes:
    """A message of already encoded ``headers`` and ``payload``: prelude, CRCs and all."""
    total = _MIN_MESSAGE_SIZE + len(headers) + len(payload)
    if total > MAX_MESSAGE_SIZE:
        raise EventStreamError(f"message is {total} bytes, the limit is {MAX_MESSAGE_SIZE}")
    head = struct.pack("!II", total, len(headers))
    body = head + _UINT32.pack(zlib.crc32(head)) + headers + payload
    return body + _UINT32.pack(zlib.crc32(body))


def _parse_prelude(prelude: bytes) -> tuple[int, int]:
    """Validate a 12-byte prelude and return (total length, headers length)."""
    total, headers_length, crc = _PRELUDE.unpack(prelude)
    computed = zlib.crc32(prelude[:8])
    if crc != computed:
        raise EventStreamError(
            f"prelude CRC mismatch: frame says {crc:#010x}, computed {computed:#010x}"
        )
    if total > MAX_MESSAGE_SIZE:
        raise EventStreamError(f"prelude announces {total} bytes, the limit is {MAX_MESSAGE_SIZE}")
    if total < _MIN_MESSAGE_SIZE:
        raise EventStreamError(
            f"prelude announces {total} bytes, a message is at least {_MIN_MESSAGE_SIZE}"
        )
    if headers_length > total - _MIN_MESSAGE_SIZE:
        raise EventStreamError(
            f"prelude announces {headers_length} header bytes in a {total}-byte message"
        )
    return total, headers_length


def _take(data: bytes, offset: int, size: int, what: str) -> bytes:
    if offset + size > len(data):
        raise EventStreamError(f"header overrun: {what} runs past the end of the headers")
    return data[offset : offset + size]


def _decode_utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise EventStreamError(f"{what} is not valid UTF-8") from error


_FIXED_VALUES: Final[Mapping[int, tuple[struct.Struct, type[Byte | Int16 | Int64] | None]]] = {
    _BYTE: (_INT8, Byte),
    _INT16_TYPE: (_INT16, Int16),
    _INT32_TYPE: (_INT32, None),
    _INT64_TYPE: (_INT64, Int64),
}


def _decode_value(data: bytes, offset: int, kind: int, name: str) -> tuple[HeaderValue, int]:
    """Decode the value of type ``kind`` at ``offset``; return it and the offset after it."""
    what = f"header {name!r}"
    if kind in (_TRUE, _FALSE):
        return kind == _TRUE, offset
    if kind in _FIXED_VALUES:
        layout, wrapper = _FIXED_VALUES[kind]
        (number,) = layout.unpack(_take(data, offset, layout.size, what))
        return (number if wrapper is None else wrapper(number)), offset + layout.size
    if kind in (_BYTES_TYPE, _STRING_TYPE):
        (length,) = _UINT16.unpack(_take(data, offset, 2, f"{what} length"))
        raw = _take(data, offset + 2, length, what)
        value = raw if kind == _BYTES_TYPE else _decode_utf8(raw, f"{what} value")
        return value, offset + 2 + length
    if kind == _TIMESTAMP_TYPE:
        (millis,) = _INT64.unpack(_take(data, offset, 8, what))
        try:
            return _EPOCH + millis * _MILLISECOND, offset + 8
        except OverflowError as error:
            raise EventStreamError(f"{what} timestamp {millis} ms is out of range") from error
    if kind == _UUID_TYPE:
        return uuid.UUID(bytes=_take(data, offset, 16, what)), offset + 16
    raise EventStreamError(f"{what} has unknown value type {kind}")


def _decode_headers(data: bytes) -> dict[str, HeaderValue]:
    headers: dict[str, HeaderValue] = {}
    offset = 0
    while offset < len(data):
        (name_length,) = _UINT8.unpack(_take(data, offset, 1, "header name length"))
        name = _decode_utf8(_take(data, offset + 1, name_length, "header name"), "header name")
        offset += 1 + name_length
        (kind,) = _UINT8.unpack(_take(data, offset, 1, f"header {name!r} type"))
        value, offset = _decode_value(data, offset + 1, kind, name)
        if name in headers:
            raise EventStreamError(f"header {name!r} appears twice")
        headers[name] = value
    return headers


def _decode_message(frame: bytes, total: int, headers_length: int) -> Message:
    """Decode a frame whose prelude is valid and whose length is exactly ``total``."""
    (crc,) = _UINT32.unpack_from(frame, total - _CRC_SIZE)
    computed = zlib.crc32(frame[: total - _CRC_SIZE])
    if crc != computed:
        raise EventStreamError(
            f"message CRC mismatch: frame says {crc:#010x}, computed {computed:#010x}"
        )
    headers_end = _PRELUDE_SIZE + headers_length
    headers = _decode_headers(frame[_PRELUDE_SIZE:headers_end])
    return Message(headers=headers, payload=frame[headers_end : total - _CRC_SIZE])


def decode(frame: bytes) -> Message:
    """Decode exactly one complete message (e.g. one websocket binary frame).

    Raises ``EventStreamError`` if ``frame`` is truncated, longer than its prelude says, fails
    either CRC, announces more than ``MAX_MESSAGE_SIZE`` bytes, or has malformed headers.
    """
    frame = bytes(frame)
    if len(frame) < _PRELUDE_SIZE:
        raise EventStreamError(
            f"frame is too short: {len(frame)} bytes, the prelude alone is {_PRELUDE_SIZE}"
        )
    total, headers_length = _parse_prelude(frame[:_PRELUDE_SIZE])
    if len(frame) < total:
        raise EventStreamError(f"frame is truncated: {len(frame)} of {total} bytes")
    if len(frame) > total:
        raise EventStreamError(
            f"total length mismatch: frame is {len(frame)} bytes, its prelude says {total}"
        )
    return _decode_message(frame, total, headers_length)


class Decoder:
    """Incremental decoder for a byte stream carrying messages back to back.

    It buffers at most one partial message, and rejects a prelude announcing more than
    ``MAX_MESSAGE_SIZE`` bytes as soon as the prelude arrives. After an error the stream cannot
    be resynchronised, so every later ``feed`` raises too.
    """

    def __init__(self) -> None:
        """Start with an empty buffer."""
        self._buffer = bytearray()
        self._expected: tuple[int, int] | None = None
        self._error: EventStreamError | None = None

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete message held; non-zero at end of stream means truncation."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Message]:
        """Add ``data`` and return every message it completes, in order.

        Raises ``EventStreamError`` on the first malformed message; messages completed earlier
        in the same call are lost with it, as the stream is unusable from then on.
        """
        if self._error is not None:
            raise EventStreamError(f"stream already failed: {self._error}")
        self._buffer += data
        messages: list[Message] = []
        try:
            while True:
                if self._expected is None:
                    if len(self._buffer) < _PRELUDE_SIZE:
                        break
                    self._expected = _parse_prelude(bytes(self._buffer[:_PRELUDE_SIZE]))
                total, headers_length = self._expected
                if len(self._buffer) < total:
                    break
                frame = bytes(self._buffer[:total])
                del self._buffer[:total]
                self._expected = None
                messages.append(_decode_message(frame, total, headers_length))
        except EventStreamError as error:
            self._error = error
            self._buffer.clear()
            raise
        return messages


def event_message(event_type: str, payload: bytes, content_type: str = "application/json") -> bytes:
    """Frame an event: ``:event-type``, ``:content-type`` and ``:message-type`` = ``event``."""
    headers: dict[str, HeaderValue] = {
        ":event-type": event_type,
        ":content-type": content_type,
        ":message-type": "event",
    }
    return encode(Message(headers=headers, payload=payload))


_AUDIO_EVENT_HEADERS = _encode_headers(
    {
        ":content-type": "application/octet-stream",
        ":event-type": "AudioEvent",
        ":message-type": "event",
    }
)


def audio_event(pcm: bytes) -> bytes:
    """Frame a chunk of audio as the ``AudioEvent`` a Transcribe client sends (its headers are
    the same every time: encoded once)."""
    return _frame(_AUDIO_EVENT_HEADERS, pcm)


def exception_message(exception_type: str, message: str) -> bytes:
    """Frame an exception (e.g. ``BadRequestException``) with payload ``{"Message": message}``."""
    headers: dict[str, HeaderValue] = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    payload = json.dumps({"Message": message}).encode("utf-8")
    return encode(Message(headers=headers, payload=payload))
