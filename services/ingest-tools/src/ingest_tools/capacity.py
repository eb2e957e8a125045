"""Capacity model: for a rate, an event size, a batch size and a source mix, how close the traffic
comes to each limit on its way (API Gateway, Lambda, DynamoDB), which one binds first, and what
to raise. ``ingest cost --capacity`` prints it; docs/capacity.md explains every limit.

Standard library only. The write units per event come from the cost model
(:func:`ingest_tools.cost.estimate`), which tests hold to the items the service writes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ingest.limits import DEFAULT_LISTING_SHARDS, MAX_LISTING_SHARDS

from ingest_tools import cost

# --------------------------------------------------------------------------------------------------
# Default AWS quotas (per account and region unless said otherwise), as of 2026-11.
# --------------------------------------------------------------------------------------------------
# API Gateway: requests per second across all HTTP APIs of the account (adjustable), and the burst.
API_ACCOUNT_RATE_LIMIT = 10_000
API_ACCOUNT_BURST_LIMIT = 5_000
# Lambda: concurrent executions of the account (adjustable), and how fast one function may add
# more: 1,000 concurrent executions every 10 seconds.
LAMBDA_CONCURRENCY_LIMIT = 1_000
LAMBDA_SCALING_PER_10_SECONDS = 1_000
# DynamoDB: one partition (and so one partition key) serves at most 1,000 write and 3,000 read
# units per second, whatever the table's capacity; an on-demand table, 40,000 of each per second
# (adjustable); a new on-demand table serves 4,000 writes per second at once and doubles its
# previous peak within about 30 minutes.
DYNAMODB_PARTITION_WRITE_UNITS = 1_000
DYNAMODB_PARTITION_READ_UNITS = 3_000
DYNAMODB_TABLE_WRITE_UNITS = 40_000
DYNAMODB_NEW_TABLE_WRITES = 4_000


@dataclass(frozen=True)
class Limit:
    """One limit on the traffic's way: what the traffic needs of it, what it allows, and how to
    raise it."""

    key: str
    label: str
    needed: float
    allowed: float
    unit: str
    raise_by: str

    @property
    def utilisation(self) -> float:
        return self.needed / self.allowed if self.allowed else math.inf


@dataclass(frozen=True)
class Capacity:
    events_per_second: float
    requests_per_second: float
    hot_events_per_second: float
    limits: tuple[Limit, ...]
    ramp_seconds: float

    @property
    def binding(self) -> Limit:
        """The limit the traffic comes closest to (or exceeds most): the one that binds first."""
        return max(self.limits, key=lambda limit: limit.utilisation)

    def to_dict(self) -> dict[str, Any]:
        return {
            "events_per_second": self.events_per_second,
            "requests_per_second": self.requests_per_second,
            "hot_events_per_second": self.hot_events_per_second,
            "ramp_seconds": self.ramp_seconds,
            "binding": self.binding.key,
            "limits": [
                {
                    "key": limit.key,
                    "label": limit.label,
                    "needed": limit.needed,
                    "allowed": limit.allowed,
                    "unit": limit.unit,
                    "utilisation": limit.utilisation,
                    "raise_by": limit.raise_by,
                }
                for limit in self.limits
            ],
        }


def capacity(
    inputs: cost.CostInputs,
    *,
    hot_source_share: float = 1.0,
    peak_factor: float = 1.0,
    shards: int = DEFAULT_LISTING_SHARDS,
    api_rate_limit: float = API_ACCOUNT_RATE_LIMIT,
    api_burst_limit: float = API_ACCOUNT_BURST_LIMIT,
    concurrency_limit: float = LAMBDA_CONCURRENCY_LIMIT,
    table_write_limit: float = DYNAMODB_TABLE_WRITE_UNITS,
) -> Capacity:
    """The limits ``inputs``' average rate meets, sent as it says (event size, batch size), with
    ``hot_source_share`` of the events from one source, written over ``shards`` listing shards,
    and peaks of ``peak_factor`` times the average rate (every other limit is checked at the
    peak too: a limit holds per second, not on average)."""
    problems = []
    if not peak_factor >= 1:
        problems.append("{peak_factor} is the peak rate over the average: at least 1")
    if not 0 < hot_source_share <= 1:
        problems.append("{hot_source_share} is a fraction of the events: more than 0, at most 1")
    if not 1 <= shards <= MAX_LISTING_SHARDS:
        problems.append(f"{{shards}} must be 1..{MAX_LISTING_SHARDS}, got {shards}")
    allowed = {
        "api_rate_limit": api_rate_limit,
        "api_burst_limit": api_burst_limit,
        "concurrency_limit": concurrency_limit,
        "table_write_limit": table_write_limit,
    }
    problems += [
        f"{{{name}}} must be a finite number > 0 (got {value!r})"
        for name, value in allowed.items()
        if not (math.isfinite(value) and value > 0)
    ]
    if problems:
        raise cost.InvalidInputs(problems)
    bill = cost.estimate(inputs)
    events = inputs.events_per_second * peak_factor
    requests = events / inputs.batch_size
    hot = events * hot_source_share
    duration_s = bill.billed_ms_per_request / 1000
    concurrency = requests * duration_s  # Little's law: arrivals x time in the function
    index_units = bill.index_wru_per_event  # a batch's head: one entry for its events
    table_units = bill.wru_per_event - index_units
    per_shard = hot / shards * index_units if inputs.indexes == "sharded" else hot * index_units
    limits = (
        Limit(
            "api_rate",
            "API Gateway requests/s (account, all HTTP APIs)",
            requests,
            api_rate_limit,
            "requests/s",
            "Service Quotas: API Gateway 'Throttle rate'; or send batches (up to 500 events a "
            "request). The stage's own limit is api.throttling_rate_limit in terraform.tfvars.",
        ),
        Limit(
            "api_burst",
            "API Gateway burst: requests in the peak second beyond the rate",
            max(0.0, requests - api_rate_limit),
            api_burst_limit,
            "requests",
            "Service Quotas: API Gateway 'Throttle burst' (a token bucket of this size, refilled "
            "at the rate); the stage's is api.throttling_burst_limit.",
        ),
        Limit(
            "lambda_concurrency",
            f"Lambda concurrent executions ({bill.billed_ms_per_request} ms a request)",
            concurrency,
            concurrency_limit,
            "executions",
            "Service Quotas: Lambda 'Concurrent executions' (shared by every function of the "
            "account); batching divides it; a reserved concurrency caps this function.",
        ),
        Limit(
            "table_writes",
            "DynamoDB table write units/s (on-demand, per table)",
            events * table_units,
            table_write_limit,
            "WRU/s",
            "Service Quotas: DynamoDB 'Table-level write throughput limit'; a new table "
            f"starts at {DYNAMODB_NEW_TABLE_WRITES:,} writes/s (warm throughput pre-warms it).",
        ),
        Limit(
            "index_shard_writes",
            f"Listing index writes/s per shard of the busiest source ({shards} shards)"
            if inputs.indexes == "sharded"
            else "Index writes/s of the busiest source (one partition key)",
            per_shard,
            DYNAMODB_PARTITION_WRITE_UNITS,
            "WRU/s",
            f"events.listing_shards in terraform.tfvars (at most {MAX_LISTING_SHARDS}); a "
            "partition key's 1,000 write units/s cannot be raised.",
        ),
    )
    ramp = max(0.0, (concurrency - LAMBDA_SCALING_PER_10_SECONDS) / LAMBDA_SCALING_PER_10_SECONDS)
    return Capacity(events, requests, hot, limits, ramp * 10)


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.3g}"


def render(result: Capacity) -> str:
    header = ("Limit", "Needed", "Allowed", "Unit", "Use")
    rows = [
        (
            limit.label,
            f"{limit.needed:,.0f}",
            f"{limit.allowed:,.0f}",
            limit.unit,
            f"{limit.utilisation:.0%}",
        )
        for limit in result.limits
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def fmt(row: tuple[str, ...]) -> str:
        return (
            f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  "
            f"{row[3]:<{widths[3]}}  {row[4]:>{widths[4]}}"
        )

    binding = result.binding
    verdict = "over" if binding.utilisation > 1 else "closest to"
    out = [
        f"At the peak: {_rate(result.events_per_second)} events/s in "
        f"{_rate(result.requests_per_second)} requests/s; the busiest source sends "
        f"{_rate(result.hot_events_per_second)} events/s.",
        "",
        fmt(header),
        "-" * len(fmt(header)),
        *(fmt(row) for row in rows),
        "",
        f"Binds first: {binding.label} ({verdict} its limit, {binding.utilisation:.0%}).",
        f"  Raise it: {binding.raise_by}",
    ]
    table = next(limit for limit in result.limits if limit.key == "table_writes")
    if table.needed > DYNAMODB_NEW_TABLE_WRITES:
        out.append(
            f"A new on-demand table serves {DYNAMODB_NEW_TABLE_WRITES:,} writes/s at once and "
            "doubles its previous peak within ~30 minutes: pre-warm it (warm throughput) or ramp."
        )
    if result.ramp_seconds:
        out.append(
            f"From idle, Lambda reaches the concurrency needed in ~{result.ramp_seconds:.0f} s "
            f"(it adds {LAMBDA_SCALING_PER_10_SECONDS:,} executions every 10 s); API Gateway "
            "answers 429/503 meanwhile and producers retry."
        )
    return "\n".join(out) + "\n"
