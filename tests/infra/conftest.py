"""The offline checks of terraform/ and docker/, with the tools of tools/infra-checks.

Those tools live in their own environment (``make setup`` syncs it from its own lock): checkov's
``hcl2`` module clashes with python-hcl2.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from captionist_dev.settings import REPO_ROOT

TOOLS = REPO_ROOT / "tools" / "infra-checks"
TERRAFORM = REPO_ROOT / "terraform"


@pytest.fixture(scope="session")
def tools() -> Path:
    """The bin/ folder of the infra-checks environment."""
    bin_dir = TOOLS / ".venv" / "bin"
    if not (bin_dir / "checkov").exists():
        pytest.fail(f"{bin_dir} has no checkov: run `make setup`")
    return bin_dir


def terraform_directories() -> list[Path]:
    """Every module and every environment root."""
    return sorted(
        path
        for group in ("modules", "envs")
        for path in (TERRAFORM / group).glob("*")
        if path.is_dir()
    )
