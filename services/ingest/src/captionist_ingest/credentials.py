"""AWS credentials for presigning Transcribe streams, from botocore's default chain."""

from __future__ import annotations

import asyncio

import botocore.session
from botocore.credentials import Credentials, ReadOnlyCredentials


class CredentialSource:
    """Resolves the default chain once, then hands out a current frozen copy per session.

    Refreshable credentials (instance or task roles, SSO) renew themselves when a session asks
    for them near their expiry; the lookup runs in a thread as it may do network I/O.
    """

    def __init__(self) -> None:
        """A source that resolves the chain on first use."""
        self._credentials: Credentials | None = None

    def _current(self) -> ReadOnlyCredentials | None:
        if self._credentials is None:
            # Not cached while absent: credentials provisioned after start-up are picked up.
            self._credentials = botocore.session.get_session().get_credentials()
        if self._credentials is None:
            return None
        return self._credentials.get_frozen_credentials()

    async def current(self) -> ReadOnlyCredentials | None:
        """Credentials to sign one stream with, or ``None`` when the chain has none."""
        return await asyncio.to_thread(self._current)
