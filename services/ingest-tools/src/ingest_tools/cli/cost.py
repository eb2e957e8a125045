"""`ingest cost`: the monthly AWS bill for a given traffic profile (see docs/cost.md)."""

from __future__ import annotations

import argparse
import json
import sys

# Kept in step with ingest_tools.cost; repeated here so that building the parser imports nothing else.
_DEFAULT_SIZE = 512
_DEFAULT_DURATION_MS = 20.0
_DEFAULT_PER_EVENT_MS = 1.0
_DEFAULT_MEMORY_MB = 512
_DEFAULT_RETENTION_DAYS = 30.0


def _rate(text: str) -> float:
    from ingest_tools.cost import parse_rate  # imported on use: building the parser stays light

    try:
        return parse_rate(text)
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
    parser.add_argument(
        "--size",
        type=int,
        default=_DEFAULT_SIZE,
        metavar="BYTES",
        help=f"average event size as sent, in bytes (default {_DEFAULT_SIZE})",
    )
    parser.add_argument(
        "--batch", type=int, default=1, metavar="N", help="events per request (default 1: single)"
    )
    parser.add_argument(
        "--retention-days",
        type=float,
        default=_DEFAULT_RETENTION_DAYS,
        metavar="D",
        help=f"days events are kept before TTL removes them (default {_DEFAULT_RETENTION_DAYS:g})",
    )
    parser.add_argument(
        "--duration-ms",
        type=float,
        default=_DEFAULT_DURATION_MS,
        metavar="MS",
        help=(
            "warm handler duration of a single-event request, as `make bench` measures it "
            f"(default {_DEFAULT_DURATION_MS:g})"
        ),
    )
    parser.add_argument(
        "--per-event-ms",
        type=float,
        default=_DEFAULT_PER_EVENT_MS,
        metavar="MS",
        help=(
            "extra handler time per additional event of a batch "
            f"(default {_DEFAULT_PER_EVENT_MS:g}; 0 if --duration-ms is a measured batch)"
        ),
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=_DEFAULT_MEMORY_MB,
        metavar="MB",
        help=f"Lambda memory (default {_DEFAULT_MEMORY_MB})",
    )
    parser.add_argument(
        "--item-overhead",
        type=int,
        default=None,
        metavar="BYTES",
        help="bytes the service adds to each stored item (default 200)",
    )
    parser.add_argument(
        "--log-bytes",
        type=int,
        default=None,
        metavar="BYTES",
        help="Lambda log bytes per request: JSON line + EMF (default 600)",
    )
    parser.add_argument(
        "--batch-log-bytes",
        type=int,
        default=None,
        metavar="BYTES",
        help="extra Lambda log bytes per event of a batch: its event id (default 30)",
    )
    parser.add_argument(
        "--platform-log-bytes",
        type=int,
        default=None,
        metavar="BYTES",
        help="Lambda platform log bytes per request (default 400; 0 at system log level WARN)",
    )
    parser.add_argument(
        "--access-log-bytes",
        type=int,
        default=None,
        metavar="BYTES",
        help="API Gateway access log bytes per request (default 450)",
    )
    parser.add_argument(
        "--log-retention-days",
        type=float,
        default=None,
        metavar="D",
        help="log group retention (default 30; 0 = no archived storage)",
    )
    parser.add_argument(
        "--no-pitr", action="store_true", help="point-in-time recovery disabled on the table"
    )
    parser.add_argument(
        "--xray-sample-rate",
        type=float,
        default=0.0,
        metavar="F",
        help="fraction of requests traced by X-Ray (default 0: tracing off)",
    )
    parser.add_argument(
        "--metrics",
        type=int,
        default=None,
        metavar="N",
        help="custom metric series published while traffic flows (default 12)",
    )
    parser.add_argument(
        "--alarms", type=int, default=0, metavar="N", help="CloudWatch alarm metrics"
    )
    parser.add_argument(
        "--dashboards", type=int, default=0, metavar="N", help="dashboards beyond the 3 free"
    )
    parser.add_argument(
        "--kms-keys", type=int, default=0, metavar="N", help="customer-managed KMS keys"
    )
    parser.add_argument(
        "--secrets", type=int, default=0, metavar="N", help="Secrets Manager secrets"
    )
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the estimate; 2 on inputs the model (or the service's limits) cannot take."""
    from ingest_tools import cost  # imported on use: building the parser stays light

    optional = {
        "item_overhead_bytes": args.item_overhead,
        "log_bytes_per_request": args.log_bytes,
        "log_bytes_per_batched_event": args.batch_log_bytes,
        "platform_log_bytes_per_request": args.platform_log_bytes,
        "access_log_bytes_per_request": args.access_log_bytes,
        "log_retention_days": args.log_retention_days,
        "custom_metrics": args.metrics,
    }
    events_per_month = (
        args.rate * cost.SECONDS_PER_MONTH if args.rate is not None else args.per_month
    )
    try:
        inputs = cost.CostInputs(
            events_per_month=float(events_per_month),
            event_size_bytes=args.size,
            batch_size=args.batch,
            retention_days=args.retention_days,
            duration_ms=args.duration_ms,
            duration_per_extra_event_ms=args.per_event_ms,
            memory_mb=args.memory_mb,
            pitr=not args.no_pitr,
            xray_sample_rate=args.xray_sample_rate,
            alarms=args.alarms,
            dashboards=args.dashboards,
            kms_keys=args.kms_keys,
            secrets=args.secrets,
            **{name: value for name, value in optional.items() if value is not None},
        )
    except ValueError as exc:
        print(f"ingest cost: {exc}", file=sys.stderr)
        return 2
    result = cost.estimate(inputs)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        print(cost.render_table(result), end="")
    return 0
