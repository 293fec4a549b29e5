"""Run a console script once told to: ``python -m captionist_dev.launch <script> [args...]``.

The script's code is imported first, then the launcher waits for a line on stdin before running
it (end of input instead means: do not run). ``captionist-dev run`` starts the services that need
the queue and table this way while the emulator boots, so loading their code (seconds of CPU
each) overlaps with that wait instead of following it.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points


def main() -> None:
    """Load the console script named by the first argument, wait for a line, then run it."""
    name, *arguments = sys.argv[1:]
    (script,) = entry_points(group="console_scripts", name=name)
    run = script.load()
    if not sys.stdin.readline():
        return
    sys.argv = [name, *arguments]
    sys.exit(run())


if __name__ == "__main__":
    main()
