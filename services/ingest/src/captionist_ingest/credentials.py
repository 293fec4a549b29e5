"""Credentials that sign Transcribe streams: a dedicated key pair, or botocore's default chain."""

from __future__ import annotations

import asyncio

import botocore.session
from botocore.credentials import Credentials, ReadOnlyCredentials

from captionist_ingest.settings import IngestSettings


class CredentialSource:
    """Hands out a current frozen copy of the credentials, per session.

    With a dedicated pair configured (``CAPTIONIST_INGEST_TRANSCRIBE_ACCESS_KEY_ID``; for a
    self-hosted transcribe-local, which can only verify a key it knows), that pair signs every
    stream; the default chain still serves the AWS SDK clients (the queue).

    Otherwise the default chain is resolved once. Refreshable credentials (instance or task roles,
    SSO) renew themselves when a session asks for them near their expiry; the lookup runs in a
    thread as it may do network I/O.
    """

    def __init__(self, settings: IngestSettings) -> None:
        """A source for ``settings``' dedicated pair, or for the chain on first use."""
        self._dedicated: ReadOnlyCredentials | None = None
        if settings.transcribe_access_key_id and settings.transcribe_secret_access_key:
            self._dedicated = ReadOnlyCredentials(
                settings.transcribe_access_key_id,
                settings.transcribe_secret_access_key.get_secret_value(),
                None,
            )
        self._credentials: Credentials | None = None

    def _current(self) -> ReadOnlyCredentials | None:
        if self._credentials is None:
            # Not cached while absent: credentials provisioned after start-up are picked up.
            self._credentials = botocore.session.get_session().get_credentials()
        if self._credentials is None:
            return None
        return self._credentials.get_frozen_credentials()

    async def current(self) -> ReadOnlyCredentials | None:
        """Credentials to sign one stream with, or ``None`` when there are none."""
        if self._dedicated is not None:
            return self._dedicated
        return await asyncio.to_thread(self._current)
