"""The gateway's own answers: healthcheck, unknown API paths, the web app, services that are down.

Nothing listens behind the gateway here: every route to a service meets a closed port.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from captionist_core.web import HEALTHCHECK_BODY
from captionist_dev.gateway import create_app
from captionist_dev.settings import GatewaySettings, default_web_root

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]

INDEX = "<!doctype html><title>test app</title>"


@pytest.fixture
def web_root(tmp_path: Path) -> Path:
    """A web app with an index, a script and a nested asset; a secret lies next to it."""
    root = tmp_path / "site"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "app.js").write_text("console.log('app')")
    (root / "assets" / "logo.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("do not serve")
    return root


@pytest.fixture
async def gateway(
    aiohttp_client: AiohttpClient, web_root: Path, closed_port: int
) -> TestClient[Any, Any]:
    """A gateway whose ingest and broadcaster are not running."""
    settings = GatewaySettings(
        ingest_url=f"http://127.0.0.1:{closed_port}",
        broadcaster_url=f"http://127.0.0.1:{closed_port}",
        web_root=web_root,
    )
    return await aiohttp_client(create_app(settings))


async def test_healthcheck_is_answered_by_the_gateway(gateway: TestClient[Any, Any]) -> None:
    """GIVEN a gateway with no service running
    WHEN the ALB's health check path is requested
    THEN the gateway itself answers 200 "Yes, I'm ok"."""
    response = await gateway.get("/api/stt/healthcheck")
    assert response.status == 200
    assert await response.text() == HEALTHCHECK_BODY


@pytest.mark.parametrize(
    "path",
    ["/api/stt/nothing", "/api/stt/", "/api/stt/healthcheck/extra", "/api/stt/connect/extra"],
)
async def test_unknown_api_path_is_a_json_404(gateway: TestClient[Any, Any], path: str) -> None:
    """GIVEN a path under /api/stt/ that no listener rule routes
    WHEN it is requested
    THEN the answer is 404 with the contract's JSON error, not the web app."""
    response = await gateway.get(path)
    assert response.status == 404
    body = await response.json()
    assert body["error"]["code"] == "not_found"
    assert path in body["error"]["message"]


async def test_root_serves_the_index(gateway: TestClient[Any, Any]) -> None:
    """GIVEN a web root with index.html
    WHEN / is requested
    THEN index.html is served as HTML, not cached without revalidation."""
    response = await gateway.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    assert await response.text() == INDEX
    assert response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    ("path", "content"),
    [("/app.js", "console.log('app')"), ("/assets/logo.svg", "<svg/>"), ("/assets/", INDEX)],
)
async def test_files_of_the_web_app_are_served(
    gateway: TestClient[Any, Any], path: str, content: str
) -> None:
    """GIVEN files in the web root
    WHEN their paths are requested
    THEN their contents are served (a directory falls back to the index)."""
    response = await gateway.get(path)
    assert response.status == 200
    assert await response.text() == content


@pytest.mark.parametrize(
    "path", ["/conversations/abc", "/missing.js", "/deep/link/?x=1", "/api/stt", "/api"]
)
async def test_unknown_paths_get_the_index(gateway: TestClient[Any, Any], path: str) -> None:
    """GIVEN a path that is no file and not under /api/stt/
    WHEN it is requested
    THEN the index is served (the single-page app routes it), with 200."""
    response = await gateway.get(path)
    assert response.status == 200
    assert await response.text() == INDEX


@pytest.mark.parametrize("path", ["/%2E%2E/secret.txt", "/assets/%2E%2E/%2E%2E/secret.txt"])
async def test_files_outside_the_web_root_are_never_served(
    gateway: TestClient[Any, Any], path: str
) -> None:
    """GIVEN a file next to the web root
    WHEN a path climbs out of the root to reach it
    THEN the index is served instead of the file."""
    response = await gateway.get(URL(path, encoded=True))
    assert "do not serve" not in await response.text()


async def test_web_socket_to_a_stopped_service_is_a_503_before_upgrade(
    gateway: TestClient[Any, Any],
) -> None:
    """GIVEN the ingest is not running (it does not exist yet)
    WHEN a speaker opens /api/stt/transcribe
    THEN the handshake fails with 503 and the contract's JSON error naming the ingest."""
    response = await gateway.get(
        "/api/stt/transcribe?sampleRate=16000",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    assert response.status == 503
    assert await response.json() == {
        "error": {"code": "service_unavailable", "message": "ingest is not running"}
    }
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await gateway.ws_connect("/api/stt/transcribe?sampleRate=16000")
    assert refused.value.status == 503


@pytest.mark.parametrize(
    "path", ["/api/stt/conversations/abc/transcript?format=txt", "/api/stt/connect"]
)
async def test_http_to_a_stopped_service_is_a_503(gateway: TestClient[Any, Any], path: str) -> None:
    """GIVEN the broadcaster is not running
    WHEN one of its paths is requested
    THEN the answer is 503 with the contract's JSON error naming the broadcaster."""
    response = await gateway.get(path)
    assert response.status == 503
    assert await response.json() == {
        "error": {"code": "service_unavailable", "message": "broadcaster is not running"}
    }


def test_default_web_root_is_the_repository_web_app() -> None:
    """GIVEN no CAPTIONIST_GATEWAY_WEB_ROOT
    WHEN the gateway's settings are read
    THEN the web root is the repository's built web app, web/dist (make test builds it)."""
    root = default_web_root()
    assert (root.parent.name, root.name) == ("web", "dist")
    assert (root / "index.html").is_file()
