"""The web app's files, served as CloudFront serves the S3 bucket: unknown paths get index.html."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from captionist_core.web import json_error
from captionist_dev.keys import SETTINGS


def web_app_file(root: Path, path: str) -> Path | None:
    """The file ``path`` names under ``root``; ``index.html`` for directories and unknown paths.

    ``None`` when there is no web app at all (no ``index.html``).
    """
    base = root.resolve()
    try:
        candidate = (base / path.lstrip("/")).resolve()
    except (OSError, ValueError):  # e.g. a NUL byte in the path
        candidate = base
    if candidate.is_relative_to(base):
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if candidate.is_file():
            return candidate
    index = base / "index.html"
    return index if index.is_file() else None


async def serve_web_app(request: web.Request) -> web.StreamResponse:
    """Every path outside ``/api/stt/``: a file of the web app, or its ``index.html``."""
    root = request.app[SETTINGS].web_root
    file = web_app_file(root, request.match_info["path"])
    if file is None:
        return json_error(
            404,
            "web_app_missing",
            f"No web app in {root} (no index.html): build it with `make web`",
        )
    # Local files change while developing: browsers revalidate instead of caching.
    return web.FileResponse(file, headers={"Cache-Control": "no-cache"})
