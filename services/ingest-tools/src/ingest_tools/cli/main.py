"""``ingest``: serve locally, send events and webhooks, read, export and replay stored events."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ingest import __version__


def build_parser() -> argparse.ArgumentParser:
    from ingest_tools.cli import cost, events, forward, replay, send, serve

    parser = argparse.ArgumentParser(prog="ingest", description=__doc__)
    parser.add_argument("--version", action="version", version=f"ingest {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve.register(commands)
    send.register(commands)
    events.register(commands)
    replay.register(commands)
    forward.register(commands)
    cost.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
