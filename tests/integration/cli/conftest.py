"""The CLI tests drive the whole stack from `captionist-dev run`, shared with the stack tests."""

from __future__ import annotations

# Re-exported, not redefined: one session stack for the stack, browser and CLI tests alike.
from tests.integration.dev.conftest import stack

__all__ = ["stack"]
