# syntax=docker/dockerfile:1
# captionist-broadcaster: DynamoDB -> listener websockets (/api/stt/connect) and transcript export
# (/api/stt/conversations/{id}/transcript).
#
# Build from the repository root (the build context must hold pyproject.toml and uv.lock):
#   docker build -f docker/broadcaster.Dockerfile -t captionist-broadcaster .
#
# Base images are pinned by tag. A digest (python:...@sha256:...) would be better still: a tag
# can be re-pushed (Debian security rebuilds), a digest cannot. The digests were not resolvable
# when this file was written (no registry access); add them with
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm
# and let Renovate/Dependabot keep them fresh.
ARG PYTHON_VERSION=3.11.14
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---- build: resolve this service's locked dependencies into /app/.venv ------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
COPY --from=uv /uv /usr/local/bin/uv
# Byte-compile at build time (fast start, read-only venv at run time); copy rather than hardlink
# out of the cache mount; use the image's Python, never a downloaded one; the venv lives where the
# runtime stage expects it (console-script shebangs hold its absolute path).
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=0 \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# 1. Third-party dependencies only, from the lock file and the manifests: this layer is rebuilt
#    only when uv.lock or one of these pyproject.toml files changes, not on every code change.
COPY pyproject.toml uv.lock ./
COPY libs/captionist-core/pyproject.toml libs/captionist-core/
COPY services/broadcaster/pyproject.toml services/broadcaster/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package captionist-broadcaster --no-editable --no-install-workspace

# 2. The workspace members this service needs, installed as wheels (--no-editable), so the venv
#    alone is the application and the sources stay behind in this stage.
COPY libs/captionist-core/src libs/captionist-core/src
COPY services/broadcaster/src services/broadcaster/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package captionist-broadcaster --no-editable

# ---- runtime: the interpreter, the venv, an unprivileged user; no uv, no sources ---------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 captionist \
    && useradd --system --no-log-init --uid 10001 --gid 10001 \
        --create-home --home-dir /home/captionist --shell /usr/sbin/nologin captionist
# Owned by root, so the service cannot modify its own code.
COPY --from=build /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:${PATH}" \
    VIRTUAL_ENV=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CAPTIONIST_LOG_FORMAT=json \
    CAPTIONIST_BROADCASTER_HOST=0.0.0.0 \
    CAPTIONIST_BROADCASTER_PORT=8080
WORKDIR /home/captionist
USER 10001:10001
EXPOSE 8080
# slim has no curl: python's urllib (a non-2xx answer or no answer raises, so the exit code is 1).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/stt/healthcheck' % os.environ.get('CAPTIONIST_BROADCASTER_PORT', '8080'), timeout=2)"]
# aiohttp's run_app turns SIGTERM into a graceful shutdown (open websockets closed with 1001).
STOPSIGNAL SIGTERM
ENTRYPOINT ["captionist-broadcaster"]
