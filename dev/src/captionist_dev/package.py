"""The processor's Lambda deployment package: one zip, the same bytes for the same lock.

``captionist-dev package`` (``make package``) installs the processor's locked dependencies for
Lambda's platform (``--arch``: arm64 or x86_64, Python 3.11) with uv, adds the project's own two
packages (``captionist_core`` and ``captionist_processor``) from source, and zips it all with
sorted entries, fixed timestamps and fixed permissions, so that building twice gives the same
bytes and Terraform's ``source_code_hash`` only changes when the code or the lock does.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Final

from captionist_dev.settings import REPO_ROOT

PACKAGE: Final = "captionist-processor"
# The project's own code in the zip, copied from source (the Lambda needs no dist-info for it).
SOURCES: Final = (
    REPO_ROOT / "libs" / "captionist-core" / "src" / "captionist_core",
    REPO_ROOT / "services" / "processor" / "src" / "captionist_processor",
)
PLATFORMS: Final = {"arm64": "aarch64-manylinux_2_28", "x86_64": "x86_64-manylinux_2_28"}
PYTHON_VERSION: Final = "3.11"
HANDLER: Final = "captionist_processor.handler.lambda_handler"
# 1980-01-01, the earliest time a zip entry can hold.
ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)
DEFAULT_OUTPUT: Final = REPO_ROOT / "build" / "processor.zip"


def uv_command() -> list[str]:
    """uv: the one running us (``uv run`` sets ``UV``), on the PATH, or the module ``make`` uses."""
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else ["python3", "-m", "uv"]


def _uv(*args: str) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - uv, with our own arguments
            [*uv_command(), *args], check=True, capture_output=True, text=True
        )
    except subprocess.CalledProcessError as error:
        raise SystemExit(f"uv {args[0]} failed:\n{error.stderr}") from error
    return done.stdout


def install(target: Path, arch: str) -> None:
    """The processor's locked third-party dependencies, for Lambda's ``arch``, into ``target``."""
    requirements = target.parent / "requirements.txt"
    requirements.write_text(
        _uv(
            "export",
            "--frozen",
            "--no-dev",
            "--package",
            PACKAGE,
            "--no-emit-workspace",
            "--format",
            "requirements-txt",
            "--directory",
            str(REPO_ROOT),
        )
    )
    _uv(
        "pip",
        "install",
        "--quiet",
        "--target",
        str(target),
        "--python-platform",
        PLATFORMS[arch],
        "--python-version",
        PYTHON_VERSION,
        "--only-binary",
        ":all:",
        "--no-deps",
        "--require-hashes",
        "--no-compile",
        "-r",
        str(requirements),
    )


# uv's lock file and console scripts (their shebangs name this machine's Python) stay out.
LEFT_OUT: Final = frozenset({".lock", "bin"})


def _entries(root: Path) -> list[Path]:
    """Every file under ``root`` that belongs in the zip, in a fixed order."""
    files = []
    for folder, directories, names in os.walk(root):
        top = Path(folder) == root
        directories[:] = sorted(
            d for d in directories if d != "__pycache__" and not (top and d in LEFT_OUT)
        )
        names = [name for name in names if not (top and name in LEFT_OUT)]
        files += [Path(folder) / name for name in sorted(names) if not name.endswith(".pyc")]
    return sorted(files, key=lambda path: path.relative_to(root).as_posix())


def write_zip(root: Path, output: Path) -> None:
    """Zip ``root`` deterministically: sorted entries, fixed times and permissions."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in _entries(root):
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=ZIP_TIME)
            executable = os.access(path, os.X_OK)
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    partial.replace(output)


def build(output: Path, arch: str = "arm64") -> str:
    """Build the package at ``output``; returns its sha256."""
    with tempfile.TemporaryDirectory(prefix="captionist-package-") as scratch:
        root = Path(scratch) / "package"
        root.mkdir()
        install(root, arch)
        for source in SOURCES:
            shutil.copytree(
                source, root / source.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        write_zip(root, output)
    return hashlib.sha256(output.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    """``captionist-dev package``."""
    parser = argparse.ArgumentParser(
        prog="captionist-dev package", description="Build the processor's Lambda zip."
    )
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="arm64")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    arguments = parser.parse_args(argv)
    digest = build(arguments.output, arguments.arch)
    size = arguments.output.stat().st_size / 2**20
    print(f"{arguments.output} ({arguments.arch}, {size:.1f} MiB, sha256 {digest})")
    print(f"handler: {HANDLER}")
    return 0
