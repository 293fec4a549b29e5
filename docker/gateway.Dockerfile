# syntax=docker/dockerfile:1
# captionist-gateway: the local stand-in for the ALB + CloudFront. It routes /api/stt/transcribe to
# ingest and /api/stt/connect, /api/stt/conversations/* to the broadcaster (by path, exactly as the
# ALB listener rules do), answers /api/stt/healthcheck itself, and serves the built web app for
# every other path. Also used, with another command, as the one-shot `init` of compose.yaml (the
# image holds captionist_dev.resources, the project's own queue/table bootstrap).
#
# Build from the repository root:
#   docker build -f docker/gateway.Dockerfile -t captionist-gateway .
#
# Base images are pinned by tag. A digest (image@sha256:...) would be better still: a tag can be
# re-pushed, a digest cannot. The digests were not resolvable when this file was written (no
# registry access); add them with `docker buildx imagetools inspect <image:tag>`.
ARG PYTHON_VERSION=3.11.14
ARG NODE_VERSION=20.19.5
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---- web: the browser app, built with the locked npm packages (web/package-lock.json) ----------
FROM node:${NODE_VERSION}-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
# Only what `vite build` reads: a host's node_modules or dist never reaches the image.
COPY web/index.html web/vite.config.ts web/tsconfig.json web/tsconfig.node.json web/tsconfig.worklet.json ./
COPY web/public ./public
COPY web/src ./src
RUN npm run build

# ---- build: captionist-dev's locked dependencies into /app/.venv --------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=0 \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# 1. Third-party dependencies only (rebuilt when uv.lock or these manifests change).
COPY pyproject.toml uv.lock ./
COPY libs/captionist-core/pyproject.toml libs/captionist-core/
COPY dev/pyproject.toml dev/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package captionist-dev --no-editable --no-install-workspace

# 2. captionist-core and captionist-dev themselves, as wheels (--no-editable).
COPY libs/captionist-core/src libs/captionist-core/src
COPY dev/src dev/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package captionist-dev --no-editable

# ---- runtime ------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 captionist \
    && useradd --system --no-log-init --uid 10001 --gid 10001 \
        --create-home --home-dir /home/captionist --shell /usr/sbin/nologin captionist
COPY --from=build /app/.venv /app/.venv
COPY --from=web /web/dist /app/web
# The web root must be set: its default is computed from the source checkout (web/dist beside
# dev/), which does not exist once captionist-dev is installed as a wheel.
ENV PATH="/app/.venv/bin:${PATH}" \
    VIRTUAL_ENV=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CAPTIONIST_LOG_FORMAT=json \
    CAPTIONIST_GATEWAY_HOST=0.0.0.0 \
    CAPTIONIST_GATEWAY_PORT=8080 \
    CAPTIONIST_GATEWAY_WEB_ROOT=/app/web
WORKDIR /home/captionist
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/stt/healthcheck' % os.environ.get('CAPTIONIST_GATEWAY_PORT', '8080'), timeout=2)"]
STOPSIGNAL SIGTERM
# Where ingest and the broadcaster are: CAPTIONIST_GATEWAY_INGEST_URL and
# CAPTIONIST_GATEWAY_BROADCASTER_URL (defaults http://127.0.0.1:8081 and :8082).
ENTRYPOINT ["python", "-m", "captionist_dev.gateway"]
