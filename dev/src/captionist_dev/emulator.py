"""moto server, the AWS emulator of the local stack, as a child process."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request


def start_moto(
    host: str = "127.0.0.1", port: int = 4566, timeout: float = 20
) -> subprocess.Popen[bytes]:
    """Start moto server on ``host:port`` and return once it answers."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_http(f"http://{host}:{port}/moto-api/", timeout, process)
    return process


def wait_for_http(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` until it answers with any HTTP status; fail if ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback URL we built
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout} s") from None
            time.sleep(0.05)
