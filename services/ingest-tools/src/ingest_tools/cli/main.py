"""ingest: serve locally, send events and webhooks, trigger sample deliveries, read, export,
replay and forward stored events.

Every failure is one line on stderr and a non-zero exit: 1 when the work failed, 2 when the
command line is wrong. --debug (or INGEST_DEBUG=1) shows the traceback of an unexpected error.
Defaults come from the environment: INGEST_URL (the API), INGEST_TABLE (the table) and
AWS_ENDPOINT_URL_DYNAMODB (its endpoint); each command's --help says which it reads.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ingest import __version__

from ingest_tools.cli.common import CliError, plain

DEBUG_VARIABLE = "INGEST_DEBUG"


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and no abbreviated options (``--source`` must never be
    taken for ``--sources``); its subcommands' parsers are of this class too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def help_printer(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``parser`` printing its help and exiting 2 when no subcommand is given."""

    def show(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=show)
    return parser


def build_parser() -> argparse.ArgumentParser:
    from ingest_tools.cli import cost, events, forward, replay, send, serve, trigger

    parser = Parser(
        prog="ingest",
        description=plain(__doc__ or ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ingest {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help=f"show the traceback of an unexpected error (also: {DEBUG_VARIABLE}=1)",
    )
    commands: Any = parser.add_subparsers(dest="command", metavar="COMMAND")
    help_printer(parser)
    serve.register(commands)
    send.register(commands)
    trigger.register(commands)
    events.register(commands)
    replay.register(commands)
    forward.register(commands)
    cost.register(commands)
    return parser


def describe(exc: BaseException) -> tuple[str, int]:
    """One line and an exit code for an error that reached the top."""
    import urllib.error

    if isinstance(exc, CliError):
        return str(exc), exc.code
    if isinstance(exc, OSError) and exc.filename is not None:
        reason = exc.strerror or type(exc).__name__
        return f"{exc.filename}: {reason}", 1 if not isinstance(exc, FileNotFoundError) else 2
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach the server: {exc.reason}", 1
    if isinstance(exc, ConnectionError | TimeoutError):
        return f"cannot reach the server: {exc}", 1
    return (
        f"unexpected error: {type(exc).__name__}: {exc} "
        f"(--debug or {DEBUG_VARIABLE}=1 shows the traceback)",
        1,
    )


def _debugging(argv: list[str]) -> bool:
    """Whether the traceback is wanted: --debug anywhere before ``--``, or $INGEST_DEBUG."""
    options = argv[: argv.index("--")] if "--" in argv else argv
    return "--debug" in options or os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = _debugging(arguments)
    if debug and "--debug" in arguments:
        arguments.remove("--debug")  # accepted after the subcommand too
    args = build_parser().parse_args(arguments)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (| head): nothing more to say; keep the interpreter quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if debug:
            raise
        message, code = describe(exc)
        print(f"ingest: {' '.join(message.split())}", file=sys.stderr)
        return code
    return code


if __name__ == "__main__":
    sys.exit(main())
