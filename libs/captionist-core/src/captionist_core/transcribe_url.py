"""SigV4 query-presigned URLs for Amazon Transcribe's streaming websocket, both ends.

``presign`` builds the URL a client opens (botocore's own ``SigV4QueryAuth`` does the signing), and
``verify`` checks one the way AWS does, so the local Transcribe-compatible server rejects exactly
what AWS would, with AWS's error codes. Verification rebuilds the canonical request and recomputes
the signature through botocore's public ``canonical_request``/``string_to_sign``/``signature``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from botocore.auth import SIGV4_TIMESTAMP, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.utils import percent_encode

STREAM_PATH: Final = "/stream-transcription-websocket"
SERVICE: Final = "transcribe"
ALGORITHM: Final = "AWS4-HMAC-SHA256"
DEFAULT_EXPIRES: Final = 300
MAX_EXPIRES: Final = 604_800  # one week, SigV4's ceiling for presigned URLs
DEFAULT_MAX_SKEW_SECONDS: Final = 300

SIGNATURE_PARAM: Final = "X-Amz-Signature"
TOKEN_PARAM: Final = "X-Amz-Security-Token"  # noqa: S105 - a parameter name, not a secret
REQUIRED_PARAMS: Final = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    SIGNATURE_PARAM,
)
AUTH_PARAMS: Final = frozenset((*REQUIRED_PARAMS, TOKEN_PARAM))

_SECURE_SCHEMES: Final = {"https": ("https", "wss"), "wss": ("https", "wss")}
_PLAIN_SCHEMES: Final = {"http": ("http", "ws"), "ws": ("http", "ws")}
_MISMATCH: Final = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)

Query = Mapping[str, str] | Iterable[tuple[str, str]]


class SignatureErrorCode(StrEnum):
    """The error codes AWS answers a badly authenticated streaming request with."""

    MISSING_AUTHENTICATION_TOKEN = "MissingAuthenticationToken"  # noqa: S105 - an error code
    INCOMPLETE_SIGNATURE = "IncompleteSignature"
    UNRECOGNIZED_CLIENT = "UnrecognizedClientException"
    INVALID_SIGNATURE = "InvalidSignatureException"


class SignatureError(Exception):
    """A presigned request AWS would refuse; ``code`` and ``message`` are what AWS answers."""

    def __init__(self, code: SignatureErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        """The HTTP status to refuse the websocket handshake with: 403 Forbidden for every code."""
        return 403


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """Who signed a request that verified, and the window its signature is valid in."""

    access_key_id: str
    signed_at: datetime
    expires_at: datetime
    session_token: str | None = None


def presign(
    endpoint: str,
    region: str,
    credentials: Credentials | ReadOnlyCredentials,
    params: Mapping[str, str],
    expires: int = DEFAULT_EXPIRES,
) -> str:
    """The ws(s) URL that opens a streaming transcription, presigned for ``expires`` seconds.

    ``endpoint`` is ``scheme://host[:port]``: ``https``/``wss`` give a ``wss://`` URL,
    ``http``/``ws`` a ``ws://`` one. ``params`` are the operation's query parameters
    (``language-code``, ``media-encoding``, ``sample-rate``, ...). A session token is signed in as
    ``X-Amz-Security-Token``. The signing time is always now: botocore has no public way to set it.
    """
    http_scheme, ws_scheme, netloc = _split_endpoint(endpoint)
    if not 1 <= expires <= MAX_EXPIRES:
        raise ValueError(f"expires must be within 1..{MAX_EXPIRES} seconds, not {expires}")
    if clashing := sorted(AUTH_PARAMS.intersection(params)):
        raise ValueError(f"params must not carry signing parameters: {', '.join(clashing)}")
    # Signed over http(s) because that is the request the websocket upgrade is.
    request = AWSRequest(
        method="GET", url=urlunsplit((http_scheme, netloc, STREAM_PATH, "", "")), params=params
    )
    SigV4QueryAuth(credentials, SERVICE, region, expires=expires).add_auth(request)
    assert request.url is not None
    parts = urlsplit(request.url)
    return urlunsplit((ws_scheme, parts.netloc, parts.path, parts.query, ""))


def verify(
    method: str,
    host: str,
    path: str,
    query: Query,
    lookup_secret: Callable[[str], str | None],
    region: str,
    service: str = SERVICE,
    now: datetime | None = None,
    max_skew_seconds: int = DEFAULT_MAX_SKEW_SECONDS,
) -> VerifiedRequest:
    """Check a SigV4 query-presigned request as AWS does, or raise ``SignatureError``.

    ``host`` is the Host header as received (with its port when not the default), ``path`` the
    request path, and ``query`` the decoded query: a mapping such as aiohttp's ``request.query``
    multidict (every pair counts, repeats included) or ``(name, value)`` pairs, in any order.
    ``lookup_secret`` maps an access key id to its secret, or ``None`` when the key is unknown.
    """
    pairs = list(query.items() if isinstance(query, Mapping) else query)
    auth = _auth_params(pairs)
    if auth["X-Amz-Algorithm"] != ALGORITHM:
        raise SignatureError(
            SignatureErrorCode.INCOMPLETE_SIGNATURE,
            f"Unsupported AWS 'algorithm': '{auth['X-Amz-Algorithm']}'.",
        )
    access_key_id, scope_date, scope_region, scope_service, terminator = _credential(auth)
    signed_at = _signed_at(auth["X-Amz-Date"])
    expires = _expires(auth["X-Amz-Expires"])
    signed_headers = auth["X-Amz-SignedHeaders"].split(";")
    if "host" not in signed_headers:
        raise SignatureError(
            SignatureErrorCode.INVALID_SIGNATURE,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        )
    if scope_date != auth["X-Amz-Date"][:8]:
        raise SignatureError(
            SignatureErrorCode.INVALID_SIGNATURE,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            f"HTTP: '{scope_date}' != '{auth['X-Amz-Date'][:8]}', from '{auth['X-Amz-Date']}'.",
        )
    if scope_region != region:
        raise SignatureError(
            SignatureErrorCode.INVALID_SIGNATURE,
            f"Credential should be scoped to a valid region, not '{scope_region}'.",
        )
    if scope_service != service:
        raise SignatureError(
            SignatureErrorCode.INVALID_SIGNATURE,
            f"Credential should be scoped to correct service: '{service}'.",
        )
    if terminator != "aws4_request":
        raise SignatureError(
            SignatureErrorCode.INVALID_SIGNATURE,
            f"Credential should be scoped with a valid terminator: 'aws4_request', "
            f"not '{terminator}'.",
        )
    current = _utc(now) if now is not None else datetime.now(UTC)
    expires_at = signed_at + timedelta(seconds=expires)
    _check_window(signed_at, expires_at, current, max_skew_seconds)

    secret = lookup_secret(access_key_id)
    if secret is None:
        raise SignatureError(
            SignatureErrorCode.UNRECOGNIZED_CLIENT,
            "The security token included in the request is invalid.",
        )
    token = auth.get(TOKEN_PARAM)
    expected = _signature(
        method,
        host,
        path,
        pairs,
        signed_headers,
        auth["X-Amz-Date"],
        ReadOnlyCredentials(access_key_id, secret, token),
        region,
        service,
    )
    if not hmac.compare_digest(expected.encode(), auth[SIGNATURE_PARAM].encode()):
        raise SignatureError(SignatureErrorCode.INVALID_SIGNATURE, _MISMATCH)
    return VerifiedRequest(access_key_id, signed_at, expires_at, token)


def _split_endpoint(endpoint: str) -> tuple[str, str, str]:
    """(http scheme to sign with, ws scheme to hand out, netloc) of ``endpoint``."""
    parts = urlsplit(endpoint)
    schemes = _SECURE_SCHEMES.get(parts.scheme) or _PLAIN_SCHEMES.get(parts.scheme)
    if schemes is None or not parts.hostname:
        raise ValueError(f"endpoint must be http(s):// or ws(s)://host[:port], not {endpoint!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"endpoint must be only scheme://host[:port], not {endpoint!r}")
    return schemes[0], schemes[1], parts.netloc


def _auth_params(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The X-Amz-* signing parameters, each present exactly once."""
    auth: dict[str, str] = {}
    for name, value in pairs:
        if name in AUTH_PARAMS:
            if name in auth:
                raise SignatureError(
                    SignatureErrorCode.INCOMPLETE_SIGNATURE,
                    f"AWS query-string parameter '{name}' must appear only once. "
                    "Re-examine the query-string parameters.",
                )
            auth[name] = value
    if not auth:
        raise SignatureError(
            SignatureErrorCode.MISSING_AUTHENTICATION_TOKEN, "Missing Authentication Token"
        )
    for name in REQUIRED_PARAMS:
        if not auth.get(name):
            raise SignatureError(
                SignatureErrorCode.INCOMPLETE_SIGNATURE,
                f"AWS query-string parameters must include '{name}'. "
                "Re-examine the query-string parameters.",
            )
    return auth


def _credential(auth: Mapping[str, str]) -> tuple[str, str, str, str, str]:
    """(access key id, date, region, service, terminator) from ``X-Amz-Credential``."""
    # The access key id cannot hold a slash, so the last four parts are always the scope.
    parts = auth["X-Amz-Credential"].rsplit("/", 4)
    if len(parts) != 5 or not all(parts):
        raise SignatureError(
            SignatureErrorCode.INCOMPLETE_SIGNATURE,
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{auth['X-Amz-Credential']}'",
        )
    return parts[0], parts[1], parts[2], parts[3], parts[4]


def _signed_at(value: str) -> datetime:
    """``X-Amz-Date`` (``YYYYMMDDTHHMMSSZ``) as an aware UTC datetime."""
    try:
        return datetime.strptime(value, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError(
            SignatureErrorCode.INCOMPLETE_SIGNATURE,
            f"X-Amz-Date must be in the ISO8601 Long Format (yyyyMMdd'T'HHmmss'Z'), not '{value}'.",
        ) from None


def _expires(value: str) -> int:
    """``X-Amz-Expires`` in seconds, within SigV4's 1 second to one week."""
    seconds = int(value) if value.isascii() and value.isdigit() else -1
    if not 1 <= seconds <= MAX_EXPIRES:
        raise SignatureError(
            SignatureErrorCode.INCOMPLETE_SIGNATURE,
            f"X-Amz-Expires must be a whole number of seconds from 1 to {MAX_EXPIRES}, "
            f"not '{value}'.",
        )
    return seconds


def _check_window(
    signed_at: datetime, expires_at: datetime, now: datetime, max_skew_seconds: int
) -> None:
    """Refuse a signature that is past its expiry, or dated beyond the clock skew AWS tolerates."""
    skew = timedelta(seconds=max_skew_seconds)
    if now > expires_at:
        raise SignatureError(
            SignatureErrorCode.INVALID_SIGNATURE,
            f"Signature expired: {_stamp(expires_at)} is now earlier than {_stamp(now)}.",
        )
    if signed_at > now + skew:
        raise SignatureError(
            SignatureErrorCode.INVALID_SIGNATURE,
            f"Signature not yet current: {_stamp(signed_at)} is still later than "
            f"{_stamp(now + skew)} ({_stamp(now)} + {max_skew_seconds} sec.)",
        )


def _signature(
    method: str,
    host: str,
    path: str,
    pairs: list[tuple[str, str]],
    signed_headers: list[str],
    timestamp: str,
    credentials: ReadOnlyCredentials,
    region: str,
    service: str,
) -> str:
    """The signature botocore computes for this request, as signed at ``timestamp``."""
    # The canonical query is every pair but the signature, SigV4-encoded; botocore sorts it.
    canonical_query = "&".join(
        f"{percent_encode(name)}={percent_encode(value)}"
        for name, value in pairs
        if name != SIGNATURE_PARAM
    )
    # A URL-only verifier knows just the host header, which is all botocore's presigner signs.
    if signed_headers != ["host"]:
        raise SignatureError(SignatureErrorCode.INVALID_SIGNATURE, _MISMATCH)
    request = AWSRequest(
        method=method,
        url=urlunsplit(("https", host, path, canonical_query, "")),
        headers={"host": host},
    )
    request.context["timestamp"] = timestamp  # what add_auth sets before signing
    signer = SigV4QueryAuth(credentials, service, region)
    canonical_request = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical_request), request)


def _utc(moment: datetime) -> datetime:
    """``moment`` as aware UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime(SIGV4_TIMESTAMP)
