"""`terraform test`: the whole system planned once per speech engine, with no AWS account.

terraform/modules/captionist/tests/*.tftest.hcl plan modules/captionist with the real AWS provider;
the few AWS calls a plan makes go to the emulator. The provider comes from a filesystem mirror
(``CAPTIONIST_TERRAFORM_PLUGINS``, default /opt/tf-plugins): Terraform's registry cannot be reached
from here, so on a machine with no mirror this test is skipped and says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.conftest import TERRAFORM, TOOLS

PLUGINS = Path(os.environ.get("CAPTIONIST_TERRAFORM_PLUGINS", "/opt/tf-plugins"))


def test_the_system_plans_with_either_speech_engine(
    tools: Path, aws_endpoint: str, tmp_path: Path
) -> None:
    """GIVEN modules/captionist's terraform tests
    THEN init installs the provider from the mirror and every run passes: Amazon Transcribe,
    self-hosted transcribe-local, and self-hosted without its image refused."""
    if not (PLUGINS / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.skip(f"no hashicorp/aws provider in {PLUGINS} (set CAPTIONIST_TERRAFORM_PLUGINS)")
    # init writes .terraform/ and a lock file next to the module: work on a copy.
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM, copy, ignore=shutil.ignore_patterns(".terraform*"))
    done = subprocess.run(
        [
            str(tools / "python"),
            str(TOOLS / "terraform_check.py"),
            *("--test", str(copy / "modules" / "captionist")),
            *("--plugins", str(PLUGINS)),
            *("--var", f'emulator="{aws_endpoint}"'),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["init"]["code"] == 0, result["init"]["output"]
    assert result["test"]["code"] == 0, result["test"]["output"]
    assert "3 passed, 0 failed" in result["test"]["output"]
