"""``captionist-dev``: the local development commands (``make run`` is ``captionist-dev run``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from captionist_dev import gateway, package, stack


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the chosen command; exits with its status."""
    parser = argparse.ArgumentParser(
        prog="captionist-dev", description="Captionist on one machine."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="start the AWS emulator, every service and the gateway; Ctrl-C stops them",
        description=(
            "Start the whole stack on 127.0.0.1 in the foreground (web app at"
            " http://127.0.0.1:8080). Ports come from CAPTIONIST_GATEWAY_PORT,"
            " CAPTIONIST_BROADCASTER_PORT, CAPTIONIST_PROCESSOR_PORT and CAPTIONIST_EMULATOR_PORT;"
            " set AWS_ENDPOINT_URL to use an emulator that is already running (e.g. LocalStack)."
        ),
    )
    run.add_argument(
        "--without",
        action="append",
        default=[],
        choices=stack.APP_SERVICE_NAMES,
        metavar="SERVICE",
        help=(
            "do not start SERVICE (one of: %(choices)s; repeatable): run it yourself on its"
            " port, e.g. in a debugger or to stop and restart it"
        ),
    )
    commands.add_parser("gateway", help="run the gateway alone (CAPTIONIST_GATEWAY_* settings)")
    commands.add_parser(
        "package",
        help="build the processor's Lambda zip (build/processor.zip); --help for options",
        add_help=False,
    )
    arguments, rest = parser.parse_known_args(argv)
    if arguments.command == "package":
        sys.exit(package.main(rest))
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if arguments.command == "run":
        sys.exit(stack.run(without=arguments.without))
    gateway.main()


if __name__ == "__main__":
    main()
