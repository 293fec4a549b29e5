"""The stack shared by the stack tests and the browser tests, and the order that sharing needs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.dev.stack_process import StackProcess, shared_stack, stop_shared_stack

STOPS_STACK = "stops_stack"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of tests that stop the shared stack."""
    config.addinivalue_line("markers", f"{STOPS_STACK}: stops the shared stack; runs last")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that stop the shared stack run after every test that uses it (the browser's too)."""
    stopping = [item for item in items if item.get_closest_marker(STOPS_STACK)]
    items[:] = [item for item in items if not item.get_closest_marker(STOPS_STACK)] + stopping


@pytest.fixture(scope="session")
def stack() -> Iterator[StackProcess]:
    """The whole stack on free ports, as `captionist-dev run` starts it, shared by the session."""
    yield shared_stack()
    stop_shared_stack()
