"""Presigned Transcribe streaming URLs: botocore signs; the verifier accepts and refuses as AWS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.utils import percent_encode
from yarl import URL

from captionist_core.transcribe_url import (
    STREAM_PATH,
    Query,
    SignatureError,
    SignatureErrorCode,
    VerifiedRequest,
    presign,
    verify,
)

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]

REGION = "us-east-1"
AWS_ENDPOINT = f"https://transcribestreaming.{REGION}.amazonaws.com:8443"
LOCAL_ENDPOINT = "ws://127.0.0.1:8084"
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
# Real session tokens are base64: '+', '/' and '=' must survive encoding and decoding.
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc/def=="
CREDENTIALS = Credentials(KEY_ID, SECRET)
TEMPORARY = Credentials(KEY_ID, SECRET, TOKEN)
PARAMS = {"language-code": "en-US", "media-encoding": "pcm", "sample-rate": "16000"}
SECRETS = {KEY_ID: SECRET}

Pairs = list[tuple[str, str]]
INVALID = SignatureErrorCode.INVALID_SIGNATURE
INCOMPLETE = SignatureErrorCode.INCOMPLETE_SIGNATURE


def received(url: str) -> tuple[str, str, Pairs]:
    """(Host header, path, decoded query pairs) a server gets for ``url``."""
    parts = urlsplit(url)
    return parts.netloc, parts.path, parse_qsl(parts.query, keep_blank_values=True)


def check(
    url: str,
    *,
    query: Query | None = None,
    now: datetime | None = None,
    region: str = REGION,
    **overrides: Any,
) -> VerifiedRequest:
    """Verify ``url`` (or ``query`` in its place) as the local server would."""
    host, path, pairs = received(url)
    arguments: dict[str, Any] = {
        "method": "GET",
        "host": host,
        "path": path,
        "query": pairs if query is None else query,
        "lookup_secret": SECRETS.get,
        "region": region,
        "now": now if now is not None else signed_at(url),
    }
    return verify(**(arguments | overrides))


def refusal(url: str, **kwargs: Any) -> SignatureError:
    """The error verifying ``url`` raises (it must raise)."""
    with pytest.raises(SignatureError) as caught:
        check(url, **kwargs)
    return caught.value


def signed_at(url: str) -> datetime:
    """The X-Amz-Date ``url`` carries."""
    stamp = dict(received(url)[2])["X-Amz-Date"]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def replaced(url: str, name: str, value: str | None) -> Pairs:
    """``url``'s query with ``name`` set to ``value``, or removed when ``value`` is None."""
    pairs = [(key, old) for key, old in received(url)[2] if key != name]
    return pairs if value is None else [*pairs, (name, value)]


def url_with(url: str, name: str, value: str | None) -> str:
    """``url`` with one query parameter replaced or removed, kept in its encoded form."""
    query = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in replaced(url, name, value)
    )
    return urlsplit(url)._replace(query=query).geturl()


# Presigning


def test_aws_endpoint_gives_a_wss_url_botocore_signed() -> None:
    """GIVEN the AWS https endpoint and temporary credentials WHEN presigned
    THEN the URL is wss:// on port 8443 and the stream path, carrying the operation parameters,
    a 300 s expiry, a transcribe credential scope and the session token.
    """
    url = presign(AWS_ENDPOINT, REGION, TEMPORARY, PARAMS)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert parts.scheme == "wss"
    assert parts.netloc == f"transcribestreaming.{REGION}.amazonaws.com:8443"
    assert parts.path == STREAM_PATH
    assert {name: query[name] for name in PARAMS} == PARAMS
    assert query["X-Amz-Expires"] == "300"
    assert query["X-Amz-Credential"].endswith(f"/{REGION}/transcribe/aws4_request")
    assert query["X-Amz-Security-Token"] == TOKEN
    assert query["X-Amz-SignedHeaders"] == "host"


@pytest.mark.parametrize(
    ("endpoint", "scheme"),
    [
        ("https://example.test", "wss"),
        ("wss://example.test/", "wss"),
        ("http://127.0.0.1:8084", "ws"),
        ("ws://127.0.0.1:8084", "ws"),
    ],
)
def test_endpoint_scheme_decides_ws_or_wss(endpoint: str, scheme: str) -> None:
    """GIVEN an http(s) or ws(s) endpoint WHEN presigned THEN the URL is ws or wss to match."""
    assert urlsplit(presign(endpoint, REGION, CREDENTIALS, PARAMS)).scheme == scheme


@pytest.mark.parametrize(
    "endpoint",
    ["ftp://example.test", "https://example.test/prefix", "https://example.test?x=1", "https://"],
)
def test_endpoint_that_is_not_just_scheme_and_host_is_refused(endpoint: str) -> None:
    """GIVEN an endpoint with another scheme, a path, a query or no host WHEN presigned
    THEN it is a ValueError rather than a URL nobody can open.
    """
    with pytest.raises(ValueError, match="endpoint"):
        presign(endpoint, REGION, CREDENTIALS, PARAMS)


@pytest.mark.parametrize("expires", [0, 604_801])
def test_expiry_outside_sigv4_limits_is_refused(expires: int) -> None:
    """GIVEN an expiry below a second or above a week WHEN presigned THEN ValueError."""
    with pytest.raises(ValueError, match="expires"):
        presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS, expires=expires)


def test_params_cannot_smuggle_signing_parameters() -> None:
    """GIVEN params holding an X-Amz-* signing parameter WHEN presigned THEN ValueError."""
    with pytest.raises(ValueError, match="X-Amz-Date"):
        presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, {**PARAMS, "X-Amz-Date": "20200101T000000Z"})


# Verifying what presign made


@pytest.mark.parametrize("endpoint", [AWS_ENDPOINT, "https://example.test", LOCAL_ENDPOINT])
@pytest.mark.parametrize("credentials", [CREDENTIALS, TEMPORARY], ids=["long-term", "session"])
def test_presigned_url_verifies(endpoint: str, credentials: Credentials) -> None:
    """GIVEN a URL presigned for an AWS, a default-port or a local endpoint, with or without a
    session token WHEN verified THEN it names the key and a 300 s window, and carries the token.
    """
    before = datetime.now(UTC).replace(microsecond=0)
    url = presign(endpoint, REGION, credentials, PARAMS)
    host, path, pairs = received(url)
    verified = verify("GET", host, path, pairs, SECRETS.get, REGION)  # the real clock
    assert verified.access_key_id == KEY_ID
    assert before <= verified.signed_at <= datetime.now(UTC)
    assert verified.expires_at - verified.signed_at == timedelta(seconds=300)
    assert verified.session_token == credentials.token


def test_read_only_credentials_and_optional_parameters_verify() -> None:
    """GIVEN frozen credentials and the stabilization parameters WHEN presigned and verified
    THEN it verifies.
    """
    params = {**PARAMS, "enable-partial-results-stabilization": "true"}
    params["partial-results-stability"] = "high"
    url = presign(AWS_ENDPOINT, REGION, ReadOnlyCredentials(KEY_ID, SECRET, TOKEN), params)
    assert check(url).session_token == TOKEN


def test_expiry_is_honoured_to_the_second() -> None:
    """GIVEN a URL presigned for 60 s WHEN verified at its last valid second and one after
    THEN the first verifies and the second is a 'Signature expired' InvalidSignatureException.
    """
    url = presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS, expires=60)
    last_second = signed_at(url) + timedelta(seconds=60)
    assert check(url, now=last_second).expires_at == last_second
    error = refusal(url, now=last_second + timedelta(seconds=1))
    assert error.code == INVALID
    assert error.message.startswith("Signature expired")


def test_expired_at_default_expiry() -> None:
    """GIVEN a default presigned URL WHEN verified 301 s after signing THEN Signature expired."""
    url = presign(AWS_ENDPOINT, REGION, TEMPORARY, PARAMS)
    error = refusal(url, now=signed_at(url) + timedelta(seconds=301))
    assert (error.code, error.message[:17]) == (INVALID, "Signature expired")


def test_signature_from_the_future_is_refused_beyond_the_skew() -> None:
    """GIVEN a URL signed later than the server's clock WHEN verified within the 5 minute skew
    THEN it verifies; beyond it THEN 'Signature not yet current'.
    """
    url = presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS)
    check(url, now=signed_at(url) - timedelta(seconds=300))
    error = refusal(url, now=signed_at(url) - timedelta(seconds=301))
    assert error.code == INVALID
    assert error.message.startswith("Signature not yet current")
    assert refusal(url, now=signed_at(url) - timedelta(seconds=31), max_skew_seconds=30).code == (
        INVALID
    )


def test_naive_now_is_taken_as_utc() -> None:
    """GIVEN a naive UTC clock reading WHEN verifying THEN it counts as UTC."""
    url = presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS)
    naive = signed_at(url).replace(tzinfo=None)
    check(url, now=naive)
    assert refusal(url, now=naive + timedelta(seconds=301)).message.startswith("Signature expired")


# How a server receives the query


def test_aiohttp_request_query_multidict_verifies() -> None:
    """GIVEN the query as aiohttp parses it (yarl's decoded MultiDictProxy) WHEN verified
    THEN it verifies, token and all.
    """
    url = presign(LOCAL_ENDPOINT, REGION, TEMPORARY, PARAMS)
    assert check(url, query=URL(url).query).session_token == TOKEN


def test_any_parameter_order_verifies() -> None:
    """GIVEN the query pairs reversed, and sorted WHEN verified THEN both verify."""
    url = presign(AWS_ENDPOINT, REGION, TEMPORARY, PARAMS)
    pairs = received(url)[2]
    check(url, query=list(reversed(pairs)))
    check(url, query=sorted(pairs))


def test_values_that_need_encoding_verify_however_decoded() -> None:
    """GIVEN parameter values with spaces, '+', '/', '~' and non-ASCII WHEN presigned and the
    query is decoded by urllib or by yarl, or given as a plain dict THEN all verify.
    """
    params = {**PARAMS, "vocabulary-name": "café menu+specials/v2 ~x", "session-id": "a b"}
    url = presign(LOCAL_ENDPOINT, REGION, TEMPORARY, params)
    assert dict(received(url)[2])["vocabulary-name"] == params["vocabulary-name"]
    check(url)
    check(url, query=URL(url).query)
    check(url, query=dict(received(url)[2]))


def test_lightly_encoded_url_as_a_client_library_may_send_it_verifies() -> None:
    """GIVEN the presigned URL re-quoted by yarl (as aiohttp's client sends it: '/' and ':' left
    bare in the query) WHEN the server decodes and verifies THEN it verifies.
    """
    url = presign(LOCAL_ENDPOINT, REGION, TEMPORARY, PARAMS)
    sent = str(URL(url.replace("%2F", "/"), encoded=False))
    assert "/20" in sent
    check(sent, now=signed_at(url))


async def test_real_websocket_handshake_is_verified(aiohttp_client: AiohttpClient) -> None:
    """GIVEN an aiohttp server that verifies the upgrade request from request.host/path/query
    WHEN a client opens the presigned ws:// URL, and then a tampered one
    THEN the first connects and the second is refused with 403 and InvalidSignatureException.
    """

    async def stream(request: web.Request) -> web.StreamResponse:
        try:
            verify(request.method, request.host, request.path, request.query, SECRETS.get, REGION)
        except SignatureError as error:
            return web.json_response({"code": error.code, "message": error.message}, status=403)
        socket = web.WebSocketResponse(heartbeat=10)
        await socket.prepare(request)
        await socket.send_str("verified")
        await socket.close()
        return socket

    app = web.Application()
    app.router.add_get(STREAM_PATH, stream)
    client = await aiohttp_client(app)
    url = presign(f"ws://{client.host}:{client.port}", REGION, TEMPORARY, PARAMS)

    async with client.session.ws_connect(url) as socket:
        assert await socket.receive_str() == "verified"

    tampered = url.replace("sample-rate=16000", "sample-rate=8000")
    async with client.session.get(tampered.replace("ws://", "http://", 1)) as response:
        assert response.status == 403
        assert (await response.json())["code"] == "InvalidSignatureException"
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await client.session.ws_connect(tampered)
    assert caught.value.status == 403


# Tampering and wrong credentials


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("sample-rate", "8000"),
        ("media-encoding", None),
        ("enable-partial-results-stabilization", "true"),
        ("X-Amz-Expires", "600"),
        ("X-Amz-Security-Token", TOKEN + "x"),
        ("X-Amz-Security-Token", None),
        ("X-Amz-SignedHeaders", "host;x-amz-date"),
    ],
    ids=[
        "changed-sample-rate",
        "removed-param",
        "added-param",
        "longer-expiry",
        "changed-token",
        "dropped-token",
        "other-signed-headers",
    ],
)
def test_tampered_query_is_a_signature_mismatch(name: str, value: str | None) -> None:
    """GIVEN a presigned URL with one parameter changed, added or removed WHEN verified
    THEN InvalidSignatureException with AWS's signature mismatch message.
    """
    url = presign(LOCAL_ENDPOINT, REGION, TEMPORARY, PARAMS)
    error = refusal(url, query=replaced(url, name, value))
    assert error.code == INVALID
    assert error.message.startswith(
        "The request signature we calculated does not match the signature you provided."
    )
    assert error.status == 403


@pytest.mark.parametrize(
    "signature",
    ["0" * 64, "e" * 63, "", "é" * 64],
    ids=["zeros", "short", "empty-is-incomplete", "non-ascii"],
)
def test_tampered_signature_is_refused(signature: str) -> None:
    """GIVEN the signature replaced WHEN verified THEN it is refused, even when it is odd input."""
    url = presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS)
    error = refusal(url, query=replaced(url, "X-Amz-Signature", signature))
    assert error.code == (INCOMPLETE if signature == "" else INVALID)


def test_one_flipped_signature_digit_is_a_mismatch() -> None:
    """GIVEN the last hex digit of the signature changed WHEN verified THEN mismatch."""
    url = presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS)
    signature = dict(received(url)[2])["X-Amz-Signature"]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert refusal(url, query=replaced(url, "X-Amz-Signature", flipped)).code == INVALID


@pytest.mark.parametrize(
    "override",
    [{"host": "127.0.0.1:8085"}, {"path": "/other"}, {"method": "POST"}],
    ids=["host", "path", "method"],
)
def test_request_other_than_the_signed_one_is_a_mismatch(override: dict[str, str]) -> None:
    """GIVEN a presigned URL WHEN presented with another host, path or method THEN mismatch."""
    url = presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS)
    assert refusal(url, **override).code == INVALID


def test_wrong_secret_is_a_signature_mismatch() -> None:
    """GIVEN a URL signed with a different secret for a known key WHEN verified THEN mismatch."""
    url = presign(LOCAL_ENDPOINT, REGION, Credentials(KEY_ID, "not-the-secret"), PARAMS)
    error = refusal(url)
    assert (error.code, error.message[:25]) == (INVALID, "The request signature we ")


def test_unknown_access_key_is_unrecognized_client() -> None:
    """GIVEN a URL signed with an access key the server does not know WHEN verified
    THEN UnrecognizedClientException.
    """
    url = presign(LOCAL_ENDPOINT, REGION, Credentials("AKIDUNKNOWN", SECRET), PARAMS)
    error = refusal(url)
    assert error.code == SignatureErrorCode.UNRECOGNIZED_CLIENT
    assert error.message == "The security token included in the request is invalid."


def test_wrong_region_is_refused_by_scope() -> None:
    """GIVEN a URL presigned for eu-west-1 WHEN verified by a us-east-1 server
    THEN InvalidSignatureException naming the region.
    """
    url = presign(LOCAL_ENDPOINT, "eu-west-1", CREDENTIALS, PARAMS)
    error = refusal(url)
    assert error.code == INVALID
    assert "region, not 'eu-west-1'" in error.message


def test_wrong_service_is_refused_by_scope() -> None:
    """GIVEN a transcribe-scoped URL WHEN verified for another service THEN refused by scope."""
    url = presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS)
    error = refusal(url, service="s3")
    assert (error.code, error.message) == (
        INVALID,
        "Credential should be scoped to correct service: 's3'.",
    )


@pytest.mark.parametrize(
    ("scope", "fragment"),
    [
        (f"{KEY_ID}/19990101/{REGION}/transcribe/aws4_request", "Date in Credential scope"),
        (f"{KEY_ID}/{{date}}/{REGION}/transcribe/aws4_request_x", "valid terminator"),
    ],
    ids=["date", "terminator"],
)
def test_wrong_scope_date_or_terminator_is_refused(scope: str, fragment: str) -> None:
    """GIVEN a credential scope whose date differs from X-Amz-Date, or with a bad terminator
    WHEN verified THEN InvalidSignatureException saying so.
    """
    url = presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS)
    credential = scope.format(date=signed_at(url).strftime("%Y%m%d"))
    error = refusal(url, query=replaced(url, "X-Amz-Credential", credential))
    assert error.code == INVALID
    assert fragment in error.message


# Missing and malformed signing parameters


def test_no_signing_parameters_is_missing_authentication_token() -> None:
    """GIVEN a URL with only operation parameters WHEN verified THEN MissingAuthenticationToken."""
    url = presign(LOCAL_ENDPOINT, REGION, TEMPORARY, PARAMS)
    query = [(name, value) for name, value in received(url)[2] if not name.startswith("X-Amz-")]
    error = refusal(url, query=query)
    assert (error.code, error.message) == (
        SignatureErrorCode.MISSING_AUTHENTICATION_TOKEN,
        "Missing Authentication Token",
    )


@pytest.mark.parametrize(
    "name",
    [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    ],
)
def test_each_missing_signing_parameter_is_incomplete(name: str) -> None:
    """GIVEN a presigned URL missing one signing parameter WHEN verified
    THEN IncompleteSignature naming it.
    """
    url = presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS)
    error = refusal(url, query=replaced(url, name, None))
    assert error.code == INCOMPLETE
    assert f"'{name}'" in error.message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Amz-Expires", "0"),
        ("X-Amz-Expires", "604801"),
        ("X-Amz-Expires", "-5"),
        ("X-Amz-Expires", "five"),
        ("X-Amz-Expires", "³"),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA1"),
        ("X-Amz-Date", "2025-11-25T12:00:00Z"),
        ("X-Amz-Date", "20251125"),
        ("X-Amz-Credential", f"{KEY_ID}/20251125/{REGION}"),
        ("X-Amz-Credential", f"/20251125/{REGION}/transcribe/aws4_request"),
    ],
)
def test_malformed_signing_parameter_is_incomplete(name: str, value: str) -> None:
    """GIVEN one parameter out of range or malformed WHEN verified THEN IncompleteSignature."""
    url = presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS)
    assert refusal(url, query=replaced(url, name, value)).code == INCOMPLETE


def test_longest_allowed_expiry_verifies() -> None:
    """GIVEN a URL presigned for a whole week WHEN verified a week later THEN it still verifies."""
    url = presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS, expires=604_800)
    check(url, now=signed_at(url) + timedelta(days=7))


def test_repeated_signing_parameter_is_incomplete() -> None:
    """GIVEN a second X-Amz-Signature appended WHEN verified THEN IncompleteSignature."""
    url = presign(LOCAL_ENDPOINT, REGION, CREDENTIALS, PARAMS)
    pairs = received(url)[2]
    error = refusal(url, query=[*pairs, ("X-Amz-Signature", "0" * 64)])
    assert error.code == INCOMPLETE


def test_encoded_url_helper_round_trips() -> None:
    """GIVEN a URL rebuilt with one value replaced in encoded form WHEN verified THEN it refuses
    exactly as the pairs do, so tampering tests hold for raw query strings too.
    """
    url = presign(LOCAL_ENDPOINT, REGION, TEMPORARY, PARAMS)
    assert refusal(url_with(url, "sample-rate", "8000")).code == INVALID
    check(url_with(url, "sample-rate", "16000"), now=signed_at(url))
