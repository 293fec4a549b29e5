"""``captionist``: the command line (argparse) and the dispatch to its subcommands.

Exit codes: 0 success; 1 a failure while talking to the server (an ``error`` message, a
lost connection); 2 a usage error, a file that cannot be sent, or a request the server refused
(HTTP 400); 130 a stream aborted with a second Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from captionist_cli.listen import ListenOptions, listen_from_terminal
from captionist_cli.server import UsageError, websocket_url
from captionist_cli.stream import StreamOptions, stream_from_terminal
from captionist_cli.wav import WavError, read_wav

DEFAULT_URL = "http://127.0.0.1:8080"
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The ``captionist`` parser with its ``stream`` and ``listen`` subcommands."""
    parser = argparse.ArgumentParser(
        prog="captionist",
        description="Stream speech to Captionist, or follow a conversation's captions live.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    stream = commands.add_parser(
        "stream",
        help="send a WAV file (16-bit PCM) and print its captions",
        description="Send a 16-bit PCM WAV file (stereo is mixed to mono) in 100 ms chunks and "
        "print partials, finals and status as they arrive.",
    )
    stream.add_argument("file", type=Path, metavar="FILE.wav", help="16-bit PCM WAV file")
    stream.add_argument("--conversation", required=True, metavar="ID", help="conversation id")
    stream.add_argument("--speaker", metavar="NAME", help="display name (server default: Speaker)")
    stream.add_argument("--language", metavar="CODE", help="language code (default en-US)")
    stream.add_argument("--url", default=DEFAULT_URL, help=f"server (default {DEFAULT_URL})")
    stream.add_argument(
        "--fast", action="store_true", help="send as fast as possible, not at real-time pace"
    )

    listen = commands.add_parser(
        "listen",
        help="print a conversation's segments as they land",
        description="Print the conversation's recent segments, then each new one; reconnects "
        "after drops without printing a segment twice.",
    )
    listen.add_argument("--conversation", required=True, metavar="ID", help="conversation id")
    listen.add_argument("--since", metavar="CURSOR", help="start after this segment cursor")
    listen.add_argument("--url", default=DEFAULT_URL, help=f"server (default {DEFAULT_URL})")
    listen.add_argument("--once", action="store_true", help="print the snapshot and exit")
    return parser


def _stream(args: argparse.Namespace) -> int:
    audio = read_wav(args.file)
    options = StreamOptions(
        url=args.url,
        conversation=args.conversation,
        speaker=args.speaker,
        language=args.language,
        fast=args.fast,
    )
    return stream_from_terminal(audio, options)


def _listen(args: argparse.Namespace) -> int:
    options = ListenOptions(
        url=args.url, conversation=args.conversation, since=args.since, once=args.once
    )
    return listen_from_terminal(options)


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; the process's exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        websocket_url(args.url, "/", {})  # a bad --url is a usage error, before any work
        if args.command == "stream":
            return _stream(args)
        return _listen(args)
    except (UsageError, WavError) as error:
        print(f"captionist {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE


def main() -> None:
    """The ``captionist`` console script."""
    sys.exit(run())
