"""`ingest cost`: the monthly AWS bill for a given traffic profile (see docs/cost.md).

The options are the cost model's inputs (:class:`ingest_tools.cost.CostInputs`), each declared
there once with its flag, default and help.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ingest.limits import DEFAULT_LISTING_SHARDS

from ingest_tools import capacity, cost


def _rate(text: str) -> float:
    try:
        return cost.parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(text: str) -> float:
    try:
        value = float(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


#: The capacity model's options: flag, type, default, metavar, help.
_CAPACITY_OPTIONS: tuple[tuple[str, type, float, str, str], ...] = (
    ("--hot-source-share", float, 1.0, "F", "share of the events from the busiest source (default %(default)s: one source)"),
    ("--peak-factor", float, 1.0, "F", "peak rate over the average rate (default %(default)s)"),
    ("--shards", int, DEFAULT_LISTING_SHARDS, "N", "LISTING_SHARDS, events.listing_shards (default %(default)s)"),
    ("--api-rate-limit", float, capacity.API_ACCOUNT_RATE_LIMIT, "RPS", "API Gateway requests/s: the account's (default %(default)g) or the stage's"),
    ("--concurrency-limit", float, capacity.LAMBDA_CONCURRENCY_LIMIT, "N", "Lambda concurrent executions available (default %(default)g)"),
)  # fmt: skip


def _dest(option: cost.Option) -> str:
    return option.flag.removeprefix("--").replace("-", "_")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``cost`` subcommand."""
    parser = subparsers.add_parser(
        "cost",
        help="estimate the monthly AWS bill for a traffic profile",
        description=(
            "Estimate the monthly AWS cost (API Gateway, Lambda arm64, DynamoDB on-demand, "
            "CloudWatch) from list prices stated in ingest_tools.cost (us-east-1, no free tier)."
        ),
    )
    volume = parser.add_mutually_exclusive_group(required=True)
    volume.add_argument(
        "--rate",
        type=_rate,
        metavar="N/UNIT",
        help="average event rate: 100/s, 6000/min, 50/h, 1000/day (a bare number is per second)",
    )
    volume.add_argument(
        "--per-month", type=_count, metavar="N", help="events per month (730 hours)"
    )
    for item, option in cost.options():
        if isinstance(item.default, bool):  # a --no-... switch
            parser.add_argument(option.flag, action="store_true", help=option.help)
            continue
        shown = item.default if isinstance(item.default, str | None) else f"{item.default:g}"
        parser.add_argument(
            option.flag,
            type=option.kind or type(item.default),
            default=item.default,
            metavar=option.metavar,
            choices=option.choices,
            help=option.help.format(default=shown),
        )
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    limits = parser.add_argument_group(
        "capacity", "which AWS limit the traffic meets first, and what to raise (docs/capacity.md)"
    )
    limits.add_argument(
        "--capacity", action="store_true", help="print the capacity model instead of the bill"
    )
    for flag, kind, default, metavar, text in _CAPACITY_OPTIONS:
        limits.add_argument(flag, type=kind, default=default, metavar=metavar, help=text)
    parser.set_defaults(func=run)


def _inputs(args: argparse.Namespace) -> dict[str, Any]:
    """The model's inputs from the parsed options (a ``--no-...`` switch turns its input off)."""
    chosen: dict[str, Any] = {}
    for item, option in cost.options():
        value = getattr(args, _dest(option))
        chosen[item.name] = not value if isinstance(item.default, bool) else value
    return chosen


def _flags() -> dict[str, str]:
    """Each input by the option that sets it, for messages about the command line."""
    flags = {item.name: option.flag for item, option in cost.options()}
    flags.update(
        (flag.removeprefix("--").replace("-", "_"), flag) for flag, *_ in _CAPACITY_OPTIONS
    )
    return {**flags, "events_per_month": "--rate/--per-month"}


def run(args: argparse.Namespace) -> int:
    """Print the estimate; 2 on inputs the model (or the service's limits) cannot take."""
    events_per_month = (
        args.rate * cost.SECONDS_PER_MONTH if args.rate is not None else args.per_month
    )
    try:
        inputs = cost.CostInputs(events_per_month=float(events_per_month), **_inputs(args))
    except cost.InvalidInputs as exc:
        print(f"ingest cost: {exc.describe(_flags())}", file=sys.stderr)
        return 2
    if args.capacity:
        try:
            limits = capacity.capacity(
                inputs,
                hot_source_share=args.hot_source_share,
                peak_factor=args.peak_factor,
                shards=args.shards,
                api_rate_limit=args.api_rate_limit,
                concurrency_limit=args.concurrency_limit,
            )
        except cost.InvalidInputs as exc:
            print(f"ingest cost: {exc.describe(_flags())}", file=sys.stderr)
            return 2
        if args.json:
            print(json.dumps(limits.to_dict(), indent=2, sort_keys=True))
        else:
            print(capacity.render(limits), end="")
        return 0
    result = cost.estimate(inputs)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        print(cost.render_table(result), end="")
    return 0
