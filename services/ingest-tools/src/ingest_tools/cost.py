"""Monthly AWS cost model for the ingestion service.

Pure arithmetic over AWS list prices: API Gateway HTTP API -> Lambda (arm64) -> DynamoDB on-demand
(the table, whose items over 1 KiB hold their payload deflated, and the keys-only listing index
``by_source_shard``) -> CloudWatch Logs. Standard library only (and the service's limits and stored
format, :mod:`ingest.limits` and :mod:`ingest.adapters.codec`), so importing it costs nothing at
CLI start-up. tests/integration/test_item_economy.py holds the item sizes and write units to the
items the service writes, tests/integration/test_request_log.py the log sizes to its lines and to
API Gateway's (modules/http-api/access-log-format.json), `make bench` the durations to the CPU time
the handler takes (:func:`modelled_duration_ms`), and docs/decisions/0033 says why.

Conventions (stated once, used everywhere):

* Prices are AWS list prices for us-east-1, as of 2026-11 (``PRICES_AS_OF``), without any free
  tier (no free Lambda requests or GB-seconds, no free 25 GB of DynamoDB storage, no free 5 GB of
  logs, no free metrics, alarms or dashboards). A small deployment inside the free tier pays less.
* A month is 730 hours (AWS's own convention): 2,628,000 seconds, 365/12 = 30.4167 days.
* A "GB" in a price is 2**30 bytes; Lambda memory is MB / 1024 GB.
* Storage is steady state: the events of one retention window are stored at any time (TTL deletes
  are free; DynamoDB removes expired items within a few days, which this model ignores).
* Volume-tiered prices are applied for API Gateway (the 300M boundary); Lambda duration tiers start
  at 7.5 billion GB-seconds a month and are not modelled.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import random
import zlib
from dataclasses import dataclass
from typing import Any

from ingest.adapters import codec
from ingest.limits import MAX_BATCH_EVENTS, MAX_BODY_BYTES, MAX_EVENT_BYTES, MAX_ITEM_BYTES

# --------------------------------------------------------------------------------------------------
# List prices (USD) -- us-east-1, list prices as of 2026-11, no free tier.
# --------------------------------------------------------------------------------------------------
PRICES_AS_OF = "2026-11"
PRICE_REGION = "us-east-1"

# API Gateway HTTP API: $1.00 per million requests for the first 300 million a month...
API_PRICE_PER_MILLION_REQUESTS = 1.00
API_FIRST_TIER_REQUESTS = 300_000_000
# ... then $0.90 per million requests beyond 300 million a month.
API_PRICE_PER_MILLION_REQUESTS_OVER_TIER = 0.90
# HTTP API requests are metered in 512 KB increments: a 600 KB request counts as 2 requests.
API_METERING_INCREMENT_BYTES = 512 * 1024

# Lambda: $0.20 per million invocations (x86 and arm64 alike).
LAMBDA_PRICE_PER_MILLION_REQUESTS = 0.20
# Lambda arm64 (Graviton) duration: $0.0000133334 per GB-second (first 7.5 billion GB-s a month).
LAMBDA_ARM64_PRICE_PER_GB_SECOND = 0.0000133334
# Lambda bills duration rounded up to the next millisecond.
LAMBDA_BILLING_GRANULARITY_MS = 1

# DynamoDB on-demand: $0.625 per million write request units (WRU).
DYNAMODB_PRICE_PER_MILLION_WRU = 0.625
# One WRU per started 1 KB of item size per write; a GSI write is billed like a table write.
DYNAMODB_WRU_BYTES = 1024
# DynamoDB Standard table class storage: $0.25 per GB-month (the first 25 GB free are NOT modelled).
DYNAMODB_STORAGE_PRICE_PER_GB_MONTH = 0.25
# DynamoDB adds 100 bytes of overhead per item, in the table and again in each index.
DYNAMODB_ITEM_STORAGE_OVERHEAD_BYTES = 100
# Point-in-time recovery (continuous backups): $0.20 per GB-month of table size (GSIs not counted).
DYNAMODB_PITR_PRICE_PER_GB_MONTH = 0.20

# CloudWatch Logs ingestion: $0.50 per GB in the Standard log class (the function's log group: its
# metrics are EMF, which only Standard extracts), $0.25 per GB in the Infrequent Access class (the
# API's access log group: read with Logs Insights only; no Live Tail, metric or subscription filters).
LOGS_INGESTION_PRICE_PER_GB = 0.50
LOGS_INFREQUENT_ACCESS_INGESTION_PRICE_PER_GB = 0.25
#: Ingestion price per GB by log class (the classes `aws_cloudwatch_log_group` names).
LOG_CLASS_PRICES_PER_GB = {
    "STANDARD": LOGS_INGESTION_PRICE_PER_GB,
    "INFREQUENT_ACCESS": LOGS_INFREQUENT_ACCESS_INGESTION_PRICE_PER_GB,
}
# CloudWatch Logs archived storage: $0.03 per GB-month (either class), measured after gzip.
LOGS_STORAGE_PRICE_PER_GB_MONTH = 0.03
# CloudWatch custom metrics (the EMF metrics): $0.30 per metric-month (first 10,000 metrics).
CLOUDWATCH_METRIC_PRICE_PER_MONTH = 0.30
# CloudWatch standard-resolution alarm: $0.10 per alarm metric-month (a metric-math alarm is billed
# for each metric it reads).
CLOUDWATCH_ALARM_PRICE_PER_MONTH = 0.10
# CloudWatch dashboard: $3.00 per dashboard-month (an account's first 3 are free tier, not modelled).
CLOUDWATCH_DASHBOARD_PRICE_PER_MONTH = 3.00
# AWS X-Ray: $5.00 per million traces recorded (retrieval/scans not modelled).
XRAY_PRICE_PER_MILLION_TRACES = 5.00
# KMS customer-managed key: $1.00 per key-month (AWS-owned/managed keys are free).
KMS_KEY_PRICE_PER_MONTH = 1.00
# Secrets Manager: $0.40 per secret-month (API calls, $0.05 per 10,000, are negligible with caching).
SECRETS_MANAGER_PRICE_PER_SECRET_MONTH = 0.40

# Consumers (modules/event-bus-pipe). EventBridge Pipes: $0.40 per million requests, counted after
# the filter (records filtered out are free), each 64 KB chunk of a record one request; reading a
# DynamoDB stream through Pipes is not billed. EventBridge custom events: $1.00 per million, each
# 64 KB chunk one event. Rules and same-account delivery to SQS cost nothing more on EventBridge
# (the SQS requests are the queue's). Source: aws.amazon.com/eventbridge/pricing, 2026-11.
PIPES_PRICE_PER_MILLION_REQUESTS = 0.40
EVENTBRIDGE_PRICE_PER_MILLION_EVENTS = 1.00
EVENTBRIDGE_CHUNK_BYTES = 64 * 1024
#: The shaped event is the stored item in DynamoDB JSON (type tags, base64) plus four strings.
PIPE_EVENT_BYTES_PER_ITEM_BYTE = 1.4
PIPE_EVENT_EXTRA_BYTES = 300

# --------------------------------------------------------------------------------------------------
# Units and the service's own limits (see the product contract).
# --------------------------------------------------------------------------------------------------
HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
BYTES_PER_GB = 2**30
MILLION = 1_000_000

MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10_240
# Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB.
LAMBDA_MB_PER_VCPU = 1769
# One conditional write's round trip from a function to DynamoDB in the same region (DynamoDB's
# PutItem SuccessfulRequestLatency is typically 3-5 ms): the one figure of the duration not measured.
DYNAMODB_WRITE_ROUND_TRIP_MS = 5.0
# The conditional writes of a batch's events with ids run on this many threads at once
# (ingest.domain.store._BATCH_WORKERS), so their round trips overlap.
CONDITIONAL_WRITE_WORKERS = 16

# --------------------------------------------------------------------------------------------------
# Default inputs.
# --------------------------------------------------------------------------------------------------
# Warm duration of a single-event request at DEFAULT_MEMORY_MB. `make bench` measures the handler's
# CPU time against an instant DynamoDB stub (0.90 ms on one core, 2026-11) and prints
# modelled_duration_ms() for it: 0.90 ms x 1769/512 + 5 ms = 8.1 ms. 10 ms leaves a quarter for a
# Graviton core slower than the bench host's and for the runtime's own work per invocation.
DEFAULT_DURATION_MS = 10.0
# Extra duration per additional event of a batch at DEFAULT_MEMORY_MB, events with ids (a
# conditional write each, like the sample event). `make bench` measures a batch of 100 of them
# (0.83 ms of one core per extra event, 2026-11) and prints modelled_extra_event_ms() for it:
# 0.83 ms x 1769/512 + 5 ms / 16 threads = 3.2 ms; 4 ms leaves the same quarter as the duration.
# A batch of events without ids is one BatchWriteItem per 25: 0.08 ms of CPU, ~0.5 ms an event.
DEFAULT_DURATION_PER_EXTRA_EVENT_MS = 4.0
DEFAULT_MEMORY_MB = 512
DEFAULT_EVENT_SIZE_BYTES = 512
# What an item stored as it is weighs beyond the event's own bytes: the key, event_id, listing
# shard key, received_at, request_id, caller, size, expires_at and the attribute names, less the
# event's JSON punctuation. Measured on the items the service writes (test_item_economy.py): 189 B
# with API Gateway's 15-character request id, an IPv4 caller and a 22-character user agent.
DEFAULT_ITEM_OVERHEAD_BYTES = 190
# One listing index entry: the table's key, the shard key, event_id and the projected type
# (measured: 94-100 B for sources and types of 4-16 characters).
DEFAULT_INDEX_ENTRY_BYTES = 100
# A batch's head (ingest.adapters.codec, docs/decisions/0039) is written before the other
# events: one more DynamoDB round trip per batch.
LISTING_WRITE_MS = 5.0
# The `codec` attribute of an item whose payload is stored deflated.
CODEC_MARKER_BYTES = codec.attribute_size(codec.CODEC_ATTRIBUTE, codec.DEFLATE)
#: Which indexes every event is written to: the listing index only (this release), the listing
#: index and the by_source index of a table still being migrated, or by_source alone (the layout
#: before docs/decisions/0026, projection ALL: each entry is a copy of the item).
INDEX_LAYOUTS = ("sharded", "both", "legacy")
DEFAULT_RETENTION_DAYS = 30.0
# A success's line, written at DEBUG only (docs/decisions/0038): sampled requests, or the service
# at DEBUG. Measured: 224 B for a single event (test_request_log.py), plus CloudWatch's 26 B of
# metadata per log event. Failure lines (INFO and above, with their metrics) are not modelled:
# rejections and errors are rare next to successes.
DEFAULT_LOG_BYTES_PER_REQUEST = 250
# A batch's line lists its event ids: 39 B per event of a batch (unused for single events).
DEFAULT_LOG_BYTES_PER_BATCHED_EVENT = 40
# The share of requests logged at DEBUG: the module's logs.debug_sample_rate default (prod: 0.01;
# 1 when logs.level is DEBUG, as in dev).
DEFAULT_DEBUG_SAMPLE_RATE = 0.0
# The success metrics are held in each execution environment and written as one EMF line per
# minute of requests (docs/decisions/0038): measured 341 B with all three metrics
# (test_request_log.py), plus CloudWatch's 26 B.
DEFAULT_METRIC_LINE_BYTES = 375
# A flush every 60 s spans two minutes of requests, one line each.
METRIC_LINES_PER_ENVIRONMENT_MINUTE = 2
MINUTES_PER_MONTH = SECONDS_PER_MONTH // 60
# Lambda's own platform.start / platform.report records: none at the system log level WARN that
# modules/ingest-function sets; ~400 B per request at INFO.
DEFAULT_PLATFORM_LOG_BYTES_PER_REQUEST = 0
# One API Gateway access log line per request (modules/http-api/access-log-format.json, 9 fields;
# measured: 197 B for a POST /events from an IPv4 address with a 22-character user agent, so 223 B
# with CloudWatch's metadata; an IPv6 address adds up to 27 B).
DEFAULT_ACCESS_LOG_BYTES_PER_REQUEST = 230
#: The access log group's class (modules/http-api: access_logs.log_group_class).
DEFAULT_ACCESS_LOG_CLASS = "INFREQUENT_ACCESS"
DEFAULT_LOG_RETENTION_DAYS = 30.0
# Archived log bytes / ingested log bytes (archives are gzip-compressed; JSON compresses 5-10x).
DEFAULT_LOG_ARCHIVE_RATIO = 0.2
# EMF metric series while traffic flows: EventsAccepted, EventsDuplicate, PayloadBytes,
# StorageUnavailable, EventsRejected x ~5 reasons, WebhookRejected x ~3 reasons.
DEFAULT_CUSTOM_METRICS = 12
# What an environment's Terraform deploys whatever the traffic (modules/alarms): 8 alarms reading
# 12 metrics (the 5xx-rate alarm is metric math over 2, DynamoDB throttles over 2, DynamoDB system
# errors over 3 operations), one dashboard, and one customer-managed KMS key for the alarm topic
# (modules/ingest-stack always has modules/alarms create it). Secrets Manager secrets are the
# operator's: one per webhook source that names a secret_id; the Terraform creates none.
DEPLOYED_ALARM_METRICS = 12
DEPLOYED_DASHBOARDS = 1
DEPLOYED_KMS_KEYS = 1


def _in_lambda_ms(cpu_ms: float, memory_mb: int) -> float:
    """``cpu_ms`` of one full core at the share of a vCPU that ``memory_mb`` buys."""
    return cpu_ms * max(1.0, LAMBDA_MB_PER_VCPU / memory_mb)


def modelled_duration_ms(cpu_ms: float, memory_mb: int) -> float:
    """The warm Lambda duration of a request whose handler needs ``cpu_ms`` of one full core (what
    `make bench` measures against an instant DynamoDB stub), plus one DynamoDB write round trip."""
    return _in_lambda_ms(cpu_ms, memory_mb) + DYNAMODB_WRITE_ROUND_TRIP_MS


def modelled_extra_event_ms(cpu_ms: float, memory_mb: int) -> float:
    """What one more event with an id adds to a batch's duration, ``cpu_ms`` being its share of
    one core (as `make bench` measures it), plus its write's round trip shared with the writes
    running beside it."""
    return (
        _in_lambda_ms(cpu_ms, memory_mb) + DYNAMODB_WRITE_ROUND_TRIP_MS / CONDITIONAL_WRITE_WORKERS
    )


@dataclass(frozen=True)
class Option:
    """How ``ingest cost`` sets an input: its flag, the unit it names, and its help, in which
    ``{default}`` stands for the input's default. A ``--no-...`` flag switches a default off."""

    flag: str
    metavar: str | None
    help: str
    kind: type | None = None  # when the default (None) does not say it
    choices: tuple[str, ...] | None = None


def _input(
    default: Any,
    flag: str,
    metavar: str | None,
    help: str,
    *,
    kind: type | None = None,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """A :class:`CostInputs` field with its ``ingest cost`` option: the one place each input is
    declared, for the model, its validation and the command line."""
    option = Option(flag, metavar, help, kind, choices)
    return dataclasses.field(default=default, metadata={"option": option})


def options() -> list[tuple[dataclasses.Field[Any], Option]]:
    """The inputs that ``ingest cost`` sets, each with its option, in declaration order."""
    return [
        (item, item.metadata["option"])
        for item in dataclasses.fields(CostInputs)
        if "option" in item.metadata
    ]


_RATE_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "d": 86_400.0,
    "day": 86_400.0,
    "month": float(SECONDS_PER_MONTH),
}


def parse_rate(text: str) -> float:
    """Events per second from ``"100/s"``, ``"6000/min"``, ``"50/h"``, ``"1e6/day"`` or ``"100"``."""
    number, _, unit = text.strip().partition("/")
    seconds = _RATE_UNITS.get(unit.strip().lower() or "s")
    if seconds is None:
        units = ", ".join(sorted(_RATE_UNITS))
        raise ValueError(f"unknown rate unit {unit!r} in {text!r} (use one of: {units})")
    try:
        value = float(number.replace("_", "").replace(",", ""))
    except ValueError:
        raise ValueError(f"not a rate: {text!r} (expected e.g. 100/s)") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"a rate must be a finite number >= 0, got {text!r}")
    return value / seconds


def api_metered_requests(body_bytes: int) -> int:
    """Requests API Gateway bills for one HTTP API request of ``body_bytes`` (512 KB increments)."""
    return max(1, math.ceil(body_bytes / API_METERING_INCREMENT_BYTES))


def write_units(item_bytes: int) -> int:
    """DynamoDB write request units for writing one item of ``item_bytes`` (one per started KB)."""
    return max(1, math.ceil(item_bytes / DYNAMODB_WRU_BYTES))


#: The seed of the sample event: the same size is always the same text.
SAMPLE_SEED = 26
_SAMPLE_NAMES = ("Espresso beans", "Filter papers", "Ceramic mug", "Milk jug", "Grinder", "Kettle")


@functools.lru_cache(maxsize=64)
def sample_event(size: int) -> str:
    """A representative event of exactly ``size`` bytes of JSON: an ``order.created`` whose data
    is a customer and as many line items as fit (member names repeat, values vary, as in most
    business events), padded to the size with random letters. Below ~200 bytes a minimal event."""
    rng = random.Random(SAMPLE_SEED)  # noqa: S311 - a reproducible sample, not a secret

    def hexid(n: int) -> str:
        return "".join(rng.choice("0123456789abcdef") for _ in range(n))

    def letters(n: int) -> str:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))

    head = '{"type":"order.created","id":"ord-000001","source":"shop","data":'
    customer = {"id": f"cus_{hexid(12)}", "email": f"{hexid(8)}@example.com", "country": "DE"}
    opening = (
        json.dumps(
            {"order_id": f"ord_{hexid(16)}", "customer": customer, "currency": "EUR"},
            separators=(",", ":"),
        )[:-1]
        + ',"items":['
    )
    closing = '],"note":"'
    tail = '"}}'
    fixed = len(head) + len(opening) + len(closing) + len(tail)
    if size < fixed:
        minimal = '{"type":"t","data":""}'
        return minimal[:-2] + letters(max(0, size - len(minimal))) + minimal[-2:]
    items: list[str] = []
    used = fixed
    while True:
        price = f"{rng.randint(1, 200)}.{rng.randint(0, 99):02d}"
        item = json.dumps(
            {
                "sku": f"SKU-{rng.randint(10000, 99999)}",
                "name": rng.choice(_SAMPLE_NAMES),
                "qty": rng.randint(1, 5),
                "unit_price": price,
            },
            separators=(",", ":"),
        )
        cost = len(item) + (1 if items else 0)
        if used + cost > size:
            break
        items.append(item)
        used += cost
    return head + opening + ",".join(items) + closing + letters(size - used) + tail


@functools.lru_cache(maxsize=64)
def sample_compression_ratio(size: int) -> float:
    """The share of the sample event's bytes left in an item stored compressed: its ``data``
    deflated as the service deflates it (ingest.adapters.codec), its other members as they are."""
    text = sample_event(size)
    data = json.dumps(json.loads(text)["data"], separators=(",", ":"), ensure_ascii=False)
    raw = data.encode("utf-8")
    packer = zlib.compressobj(codec.COMPRESS_LEVEL, zlib.DEFLATED, -15)
    packed = packer.compress(raw) + packer.flush()
    return (len(text.encode("utf-8")) - len(raw) + len(packed)) / size


def stored_item_bytes(
    event_size_bytes: int, item_overhead_bytes: int, compression_ratio: float | None
) -> tuple[int, bool]:
    """The size of the item an event is stored as, and whether its payload is deflated: by the
    service's rule, when the item would exceed one write unit and deflating makes it smaller."""
    raw = event_size_bytes + item_overhead_bytes
    if raw <= codec.COMPRESS_ABOVE_BYTES:
        return raw, False
    ratio = (
        sample_compression_ratio(event_size_bytes)
        if compression_ratio is None
        else compression_ratio
    )
    packed = item_overhead_bytes + CODEC_MARKER_BYTES + math.ceil(ratio * event_size_bytes)
    return (packed, True) if packed < raw else (raw, False)


def listed_together(inputs: CostInputs) -> bool:
    """Whether a batch's events share one index entry, its head's (the model's batches have one
    source; the layout before 0026 had no heads)."""
    return inputs.batch_size >= codec.LISTED_TOGETHER_AT_LEAST and inputs.indexes != "legacy"


def listing_bytes(batch_size: int) -> int:
    """What the head of a batch of ``batch_size`` events of one source weighs more than another
    event: its ``listing`` attribute, the other events' ids."""
    return codec.attribute_size(
        codec.LISTING_ATTRIBUTE, bytes(codec.LISTING_BYTES_PER_EVENT * (batch_size - 1))
    )


def request_body_bytes(event_size_bytes: int, batch_size: int) -> int:
    """Body size of a request: one JSON object, or a JSON array (brackets and commas) of a batch."""
    if batch_size == 1:
        return event_size_bytes
    return batch_size * event_size_bytes + batch_size + 1


def billed_duration_ms(duration_ms: float) -> int:
    """Lambda's billed duration: rounded up to the next millisecond (float noise ignored)."""
    granules = math.ceil(round(duration_ms / LAMBDA_BILLING_GRANULARITY_MS, 6))
    return max(1, granules) * LAMBDA_BILLING_GRANULARITY_MS


def _api_usd(metered_requests: float) -> float:
    first = min(metered_requests, API_FIRST_TIER_REQUESTS)
    rest = max(0.0, metered_requests - API_FIRST_TIER_REQUESTS)
    return (
        first * API_PRICE_PER_MILLION_REQUESTS + rest * API_PRICE_PER_MILLION_REQUESTS_OVER_TIER
    ) / MILLION


#: Inputs with bounds of their own (checked in CostInputs.__post_init__).
_BOUNDED = frozenset(
    {
        "event_size_bytes",
        "batch_size",
        "memory_mb",
        "compression_ratio",
        "indexes",
        "access_log_class",
    }
)


class _Names(dict[str, str]):
    """Each input by its own name, unless named otherwise (see InvalidInputs.describe)."""

    def __missing__(self, key: str) -> str:
        return key


class InvalidInputs(ValueError):
    """Inputs the model (or the service's limits) cannot take. Each problem is a template in which
    ``{field}`` stands for an input, so that a caller can name the inputs its own way."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.describe({}))

    def describe(self, names: dict[str, str]) -> str:
        """The problems, each input named by ``names`` (by its field name when absent)."""
        return "; ".join(problem.format_map(_Names(names)) for problem in self.problems)


@dataclass(frozen=True, kw_only=True)
class CostInputs:
    """What the month looks like. Sizes in bytes, durations in milliseconds, periods in days."""

    # One line per input: the field, its default, and the `ingest cost` option that sets it.
    # fmt: off
    events_per_month: float
    event_size_bytes: int = _input(DEFAULT_EVENT_SIZE_BYTES, "--size", "BYTES", "average event size as sent, in bytes (default {default})")
    batch_size: int = _input(1, "--batch", "N", "events per request (default {default}: single)")
    retention_days: float = _input(DEFAULT_RETENTION_DAYS, "--retention-days", "D", "days events are kept before TTL removes them (default {default})")
    duration_ms: float = _input(DEFAULT_DURATION_MS, "--duration-ms", "MS", "warm Lambda duration of a single-event request at --memory-mb, as `make bench` prints it from the CPU time it measures (default {default}: 8.1 ms at 512 MB, rounded up)")
    duration_per_extra_event_ms: float = _input(DEFAULT_DURATION_PER_EXTRA_EVENT_MS, "--per-event-ms", "MS", "extra duration per additional event of a batch (default {default}: events with ids, as `make bench` prints it; ~0.5 without ids; 0 if --duration-ms is a measured batch)")
    memory_mb: int = _input(DEFAULT_MEMORY_MB, "--memory-mb", "MB", "Lambda memory (default {default})")
    item_overhead_bytes: int = _input(DEFAULT_ITEM_OVERHEAD_BYTES, "--item-overhead", "BYTES", "bytes an item stored as it is weighs beyond the event's own (default {default})")
    compression_ratio: float | None = _input(None, "--compression-ratio", "F", "share of an event's bytes left in an item stored compressed (default: measured on a sample order event of --size; 1 = incompressible)", kind=float)
    index_entry_bytes: int = _input(DEFAULT_INDEX_ENTRY_BYTES, "--index-entry-bytes", "BYTES", "bytes of one listing index entry (default {default})")
    indexes: str = _input("sharded", "--indexes", "LAYOUT", "indexes each event is written to: sharded (by_source_shard), both (during the migration), legacy (by_source, projection ALL, before 0026); default {default}", choices=INDEX_LAYOUTS)
    log_bytes_per_request: int = _input(DEFAULT_LOG_BYTES_PER_REQUEST, "--log-bytes", "BYTES", "Lambda log bytes of a success's line, written at DEBUG only: sampled requests or the service at DEBUG (default {default}; failure lines are not modelled)")
    log_bytes_per_batched_event: int = _input(DEFAULT_LOG_BYTES_PER_BATCHED_EVENT, "--batch-log-bytes", "BYTES", "extra bytes per event of a batch in a success's line: its event id (default {default})")
    debug_sample_rate: float = _input(DEFAULT_DEBUG_SAMPLE_RATE, "--debug-sample-rate", "F", "share of requests whose success line is logged, logs.debug_sample_rate (default {default}; 1 when logs.level is DEBUG)")
    metric_line_bytes: int = _input(DEFAULT_METRIC_LINE_BYTES, "--metric-line-bytes", "BYTES", "Lambda log bytes of one line of held success metrics, one a minute per execution environment (default {default})")
    platform_log_bytes_per_request: int = _input(DEFAULT_PLATFORM_LOG_BYTES_PER_REQUEST, "--platform-log-bytes", "BYTES", "Lambda platform log bytes per request (default {default}; 0 at system log level WARN)")
    access_log_bytes_per_request: int = _input(DEFAULT_ACCESS_LOG_BYTES_PER_REQUEST, "--access-log-bytes", "BYTES", "API Gateway access log bytes per request (default {default})")
    access_log_class: str = _input(DEFAULT_ACCESS_LOG_CLASS, "--access-log-class", "CLASS", "the access log group's class, access_logs.log_group_class (default {default})", choices=tuple(LOG_CLASS_PRICES_PER_GB))
    log_retention_days: float = _input(DEFAULT_LOG_RETENTION_DAYS, "--log-retention-days", "D", "log group retention (default {default}; 0 = no archived storage)")
    log_archive_ratio: float = DEFAULT_LOG_ARCHIVE_RATIO
    pitr: bool = _input(True, "--no-pitr", None, "point-in-time recovery disabled on the table")
    xray_sample_rate: float = _input(0.0, "--xray-sample-rate", "F", "fraction of requests traced by X-Ray (default {default}: tracing off)")
    custom_metrics: int = _input(DEFAULT_CUSTOM_METRICS, "--metrics", "N", "custom metric series published while traffic flows (default {default})")
    alarms: int = _input(DEPLOYED_ALARM_METRICS, "--alarms", "N", "CloudWatch alarm metrics, a metric-math alarm counting each metric it reads (default {default}: the 8 alarms the Terraform deploys)")
    dashboards: int = _input(DEPLOYED_DASHBOARDS, "--dashboards", "N", "CloudWatch dashboards (default {default}: the one deployed; free while the account has at most 3)")
    kms_keys: int = _input(DEPLOYED_KMS_KEYS, "--kms-keys", "N", "customer-managed KMS keys (default {default}: the alarm topic's)")
    secrets: int = _input(0, "--secrets", "N", "Secrets Manager secrets, one per webhook source with a secret_id (default {default}: the Terraform creates none)")
    consumers: float = _input(0.0, "--consumers", "F", "fraction of events the EventBridge pipe passes to the bus after its filter (default {default}: no pipe; 1: every event)")
    # fmt: on

    def __post_init__(self) -> None:
        problems: list[str] = []
        # Every amount is a finite number >= 0; the bounded ones are checked below.
        numbers = {
            item.name: getattr(self, item.name)
            for item in dataclasses.fields(self)
            if item.name not in _BOUNDED and not isinstance(getattr(self, item.name), bool)
        }
        problems += [
            f"{{{name}}} must be a finite number >= 0 (got {value!r})"
            for name, value in numbers.items()
            if not (math.isfinite(value) and value >= 0)
        ]
        if not 1 <= self.event_size_bytes <= MAX_EVENT_BYTES:
            problems.append(
                f"{{event_size_bytes}} must be 1..{MAX_EVENT_BYTES} (one event <= 256 KiB), "
                f"got {self.event_size_bytes}"
            )
        if not 1 <= self.batch_size <= MAX_BATCH_EVENTS:
            problems.append(f"{{batch_size}} must be 1..{MAX_BATCH_EVENTS}, got {self.batch_size}")
        elif (
            self.event_size_bytes <= MAX_EVENT_BYTES
            and request_body_bytes(self.event_size_bytes, self.batch_size) > MAX_BODY_BYTES
        ):
            problems.append(
                f"a batch of {self.batch_size} events of {self.event_size_bytes} bytes exceeds the "
                f"1 MiB request limit; at most {max_batch_for(self.event_size_bytes)} fit"
            )
        if self.event_size_bytes + self.item_overhead_bytes > MAX_ITEM_BYTES:
            problems.append(
                "{event_size_bytes} + {item_overhead_bytes} exceeds DynamoDB's 400 KB item"
            )
        if not MIN_MEMORY_MB <= self.memory_mb <= MAX_MEMORY_MB:
            problems.append(
                f"{{memory_mb}} must be {MIN_MEMORY_MB}..{MAX_MEMORY_MB}, got {self.memory_mb}"
            )
        if self.xray_sample_rate > 1:
            problems.append("{xray_sample_rate} is a fraction of requests: 0..1")
        if self.debug_sample_rate > 1:
            problems.append("{debug_sample_rate} is a fraction of requests: 0..1")
        if self.consumers > 1:
            problems.append("{consumers} is a fraction of events: 0..1")
        ratio = self.compression_ratio
        if ratio is not None and not (math.isfinite(ratio) and 0 < ratio <= 1):
            problems.append(
                "{compression_ratio} is a share of the event's bytes: more than 0, at most 1"
            )
        if self.indexes not in INDEX_LAYOUTS:
            problems.append(f"{{indexes}} must be one of {', '.join(INDEX_LAYOUTS)}")
        if self.access_log_class not in LOG_CLASS_PRICES_PER_GB:
            classes = ", ".join(LOG_CLASS_PRICES_PER_GB)
            problems.append(f"{{access_log_class}} must be one of {classes}")
        if problems:
            raise InvalidInputs(problems)

    @classmethod
    def from_rate(cls, events_per_second: float, **kwargs: Any) -> CostInputs:
        """Inputs for a steady average rate (events per second) over a 730-hour month."""
        return cls(events_per_month=events_per_second * SECONDS_PER_MONTH, **kwargs)

    @property
    def events_per_second(self) -> float:
        return self.events_per_month / SECONDS_PER_MONTH


def max_batch_for(event_size_bytes: int) -> int:
    """The largest batch of events of this size that fits in the 1 MiB request limit."""
    for batch in range(MAX_BATCH_EVENTS, 1, -1):
        if request_body_bytes(event_size_bytes, batch) <= MAX_BODY_BYTES:
            return batch
    return 1


@dataclass(frozen=True)
class CostLine:
    """One component of the monthly bill."""

    key: str
    label: str
    quantity: float
    unit: str
    unit_price_usd: float
    usd: float
    fixed: bool = False


@dataclass(frozen=True)
class CostEstimate:
    """The monthly bill, line by line, with the derived quantities behind it."""

    inputs: CostInputs
    lines: tuple[CostLine, ...]
    requests_per_month: float
    request_body_bytes: int
    api_metered_per_request: int
    item_size_bytes: int
    item_compressed: bool
    index_entry_bytes: int
    wru_per_event: float
    billed_ms_per_request: int
    gb_seconds: float
    stored_items: float
    table_bytes: float
    gsi_bytes: float
    log_bytes_per_month: float
    #: The share of ``wru_per_event`` written to indexes (the rest is the table's).
    index_wru_per_event: float

    def line(self, key: str) -> CostLine:
        for line in self.lines:
            if line.key == key:
                return line
        raise KeyError(key)

    def usd(self, key: str) -> float:
        return self.line(key).usd

    @property
    def variable_usd(self) -> float:
        """Everything that scales with traffic or stored data."""
        return math.fsum(line.usd for line in self.lines if not line.fixed)

    @property
    def fixed_usd(self) -> float:
        """Monthly charges that do not scale with volume (metrics, alarms, dashboards, keys...)."""
        return math.fsum(line.usd for line in self.lines if line.fixed)

    @property
    def total_usd(self) -> float:
        return math.fsum(line.usd for line in self.lines)

    @property
    def usd_per_million_events(self) -> float | None:
        """Variable cost per million events (fixed charges excluded); None for an idle month."""
        if self.inputs.events_per_month <= 0:
            return None
        return self.variable_usd / self.inputs.events_per_month * MILLION

    def to_dict(self) -> dict[str, Any]:
        """Every input, line and derived quantity, numbers as the decimals they stand for."""
        data = dataclasses.asdict(self)
        data["prices_as_of"] = PRICES_AS_OF
        data["region"] = PRICE_REGION
        data["variable_usd"] = self.variable_usd
        data["fixed_usd"] = self.fixed_usd
        data["total_usd"] = self.total_usd
        data["usd_per_million_events"] = self.usd_per_million_events
        data["usd_per_million_events_by_batch"] = {
            str(batch): usd for batch, usd in per_million_by_batch(self.inputs)
        }
        data["max_batch_size"] = max_batch_for(self.inputs.event_size_bytes)
        tidy: dict[str, Any] = _decimals(data)
        return tidy


def _decimals(value: Any) -> Any:
    """``value`` with each float rounded to 12 significant digits, which sheds binary noise
    (12 x 0.30 is 3.5999999999999996 in floats, 3.6 here) and keeps more than any price has."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {key: _decimals(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(item) for item in value]
    return value


def _line(
    key: str, label: str, quantity: float, unit: str, price: float, *, fixed: bool = False
) -> CostLine:
    """A component of the bill billed at one price per unit."""
    return CostLine(key, label, quantity, unit, price, quantity * price, fixed)


def estimate(inputs: CostInputs) -> CostEstimate:
    """The monthly cost of ``inputs`` at list prices (see the module docstring for conventions)."""
    events = inputs.events_per_month
    requests = events / inputs.batch_size
    body = request_body_bytes(inputs.event_size_bytes, inputs.batch_size)
    metered_per_request = api_metered_requests(body)
    metered = requests * metered_per_request

    together = listed_together(inputs)
    duration = inputs.duration_ms + (inputs.batch_size - 1) * inputs.duration_per_extra_event_ms
    duration += LISTING_WRITE_MS if together else 0.0
    billed_ms = billed_duration_ms(duration)
    gb_seconds = requests * billed_ms / 1000 * inputs.memory_mb / 1024

    item, compressed = stored_item_bytes(
        inputs.event_size_bytes, inputs.item_overhead_bytes, inputs.compression_ratio
    )
    # Every event is one table item. A single event (or a batch of fewer than three events of a
    # source) has one entry in each index (by_source: a copy of the item); in a larger batch the
    # head (the item that also lists the others) has the batch's one listing entry (the layout
    # before 0026 had none). Each list holds (bytes, how many per event).
    share = 1 / inputs.batch_size
    if together:
        head, _ = stored_item_bytes(
            inputs.event_size_bytes,
            inputs.item_overhead_bytes + listing_bytes(inputs.batch_size),
            inputs.compression_ratio,
        )
        table_items = [(item, 1.0 - share), (head, share)]
        index_entries = {
            "sharded": [(inputs.index_entry_bytes, share)],
            "both": [(inputs.index_entry_bytes, share), *table_items],
        }[inputs.indexes]
    else:
        table_items = [(item, 1.0)]
        index_entries = {
            "sharded": [(inputs.index_entry_bytes, 1.0)],
            "both": [(inputs.index_entry_bytes, 1.0), (item, 1.0)],
            "legacy": [(item, 1.0)],
        }[inputs.indexes]
    index_wru_per_event = sum(n * write_units(size) for size, n in index_entries)
    wru_per_event = sum(n * write_units(size) for size, n in table_items) + index_wru_per_event
    wru = events * wru_per_event

    stored_items = events * inputs.retention_days / DAYS_PER_MONTH
    table_bytes = stored_items * sum(
        n * (size + DYNAMODB_ITEM_STORAGE_OVERHEAD_BYTES) for size, n in table_items
    )
    gsi_bytes = stored_items * sum(
        n * (size + DYNAMODB_ITEM_STORAGE_OVERHEAD_BYTES) for size, n in index_entries
    )
    storage_gb = (table_bytes + gsi_bytes) / BYTES_PER_GB
    pitr_gb = table_bytes / BYTES_PER_GB if inputs.pitr else 0.0

    success_line = inputs.log_bytes_per_request + (
        inputs.batch_size * inputs.log_bytes_per_batched_event if inputs.batch_size > 1 else 0
    )
    function_log_bytes = (
        requests * (inputs.debug_sample_rate * success_line + inputs.platform_log_bytes_per_request)
        + metric_lines(requests, billed_ms) * inputs.metric_line_bytes
    )
    access_log_bytes = requests * inputs.access_log_bytes_per_request
    log_bytes = function_log_bytes + access_log_bytes
    log_gb = log_bytes / BYTES_PER_GB
    archived_gb = log_gb * inputs.log_retention_days / DAYS_PER_MONTH * inputs.log_archive_ratio
    traces = requests * inputs.xray_sample_rate
    metrics = inputs.custom_metrics if events > 0 else 0
    shaped = item * PIPE_EVENT_BYTES_PER_ITEM_BYTE + PIPE_EVENT_EXTRA_BYTES
    piped = events * inputs.consumers * math.ceil(shaped / EVENTBRIDGE_CHUNK_BYTES)
    access_class = inputs.access_log_class.replace("_", " ").title()

    lines = (
        CostLine(
            "api_requests",
            "API Gateway HTTP API requests"
            + (" (>300M: $0.90/M)" if metered > API_FIRST_TIER_REQUESTS else ""),
            metered,
            "requests",
            API_PRICE_PER_MILLION_REQUESTS / MILLION,
            _api_usd(metered),
        ),
        _line("lambda_requests", "Lambda invocations", requests, "requests", LAMBDA_PRICE_PER_MILLION_REQUESTS / MILLION),
        _line("lambda_duration", f"Lambda arm64 duration ({billed_ms} ms x {inputs.memory_mb} MB)", gb_seconds, "GB-s", LAMBDA_ARM64_PRICE_PER_GB_SECOND),
        _line("dynamodb_writes", f"DynamoDB writes (table + index, {wru_per_event:.3g} WRU/event)", wru, "WRU", DYNAMODB_PRICE_PER_MILLION_WRU / MILLION),
        _line("dynamodb_storage", "DynamoDB storage (table + index, steady state)", storage_gb, "GB-month", DYNAMODB_STORAGE_PRICE_PER_GB_MONTH),
        _line("dynamodb_pitr", "DynamoDB point-in-time recovery", pitr_gb, "GB-month", DYNAMODB_PITR_PRICE_PER_GB_MONTH),
        _line("logs_ingestion", "CloudWatch Logs ingestion, function (Standard)", function_log_bytes / BYTES_PER_GB, "GB", LOGS_INGESTION_PRICE_PER_GB),
        _line("access_logs_ingestion", f"CloudWatch Logs ingestion, API access ({access_class})", access_log_bytes / BYTES_PER_GB, "GB", LOG_CLASS_PRICES_PER_GB[inputs.access_log_class]),
        _line("logs_storage", "CloudWatch Logs archive (compressed, steady state)", archived_gb, "GB-month", LOGS_STORAGE_PRICE_PER_GB_MONTH),
        _line("xray_traces", "X-Ray traces recorded", traces, "traces", XRAY_PRICE_PER_MILLION_TRACES / MILLION),
        _line("custom_metrics", "CloudWatch custom metrics (EMF)", metrics, "metrics", CLOUDWATCH_METRIC_PRICE_PER_MONTH, fixed=True),
        _line("alarms", "CloudWatch alarm metrics", inputs.alarms, "alarms", CLOUDWATCH_ALARM_PRICE_PER_MONTH, fixed=True),
        _line("dashboards", "CloudWatch dashboards", inputs.dashboards, "dashboards", CLOUDWATCH_DASHBOARD_PRICE_PER_MONTH, fixed=True),
        _line("kms_keys", "KMS customer-managed keys", inputs.kms_keys, "keys", KMS_KEY_PRICE_PER_MONTH, fixed=True),
        _line("secrets", "Secrets Manager secrets", inputs.secrets, "secrets", SECRETS_MANAGER_PRICE_PER_SECRET_MONTH, fixed=True),
        _line("pipes_requests", "EventBridge Pipes requests (64 KB chunks)", piped, "requests", PIPES_PRICE_PER_MILLION_REQUESTS / MILLION),
        _line("eventbridge_events", "EventBridge custom events (64 KB chunks)", piped, "events", EVENTBRIDGE_PRICE_PER_MILLION_EVENTS / MILLION),
    )  # fmt: skip
    # In the order of CostEstimate's fields.
    return CostEstimate(
        inputs, lines, requests, body, metered_per_request, item, compressed, round(sum(n * size for size, n in index_entries)),
        wru_per_event, billed_ms, gb_seconds, stored_items, table_bytes, gsi_bytes, log_bytes,
        index_wru_per_event,
    )  # fmt: skip


def metric_lines(requests: float, billed_ms: int) -> float:
    """Lines of held success metrics a month (docs/decisions/0038): two a minute in each execution
    environment, as many environments as requests run at once on average (at least one while
    traffic flows), and never more lines than requests (a request a minute or less: one each)."""
    if requests <= 0:
        return 0.0
    environments = max(1, math.ceil(requests / SECONDS_PER_MONTH * billed_ms / 1000))
    return min(requests, environments * METRIC_LINES_PER_ENVIRONMENT_MINUTE * MINUTES_PER_MONTH)


def per_million_by_batch(
    inputs: CostInputs, batch_sizes: tuple[int, ...] = (1, 10, 100, 500)
) -> list[tuple[int, float]]:
    """Variable cost per million events for the same traffic sent in batches of each size.

    Sizes that do not fit the 1 MiB request limit are replaced by the largest batch that does;
    the input's own batch size is always included. Uses one million events a month when the
    inputs describe an idle month.
    """
    base = inputs
    if inputs.events_per_month <= 0:
        base = dataclasses.replace(inputs, events_per_month=float(MILLION))
    limit = max_batch_for(inputs.event_size_bytes)
    sizes = sorted({min(size, limit) for size in (*batch_sizes, inputs.batch_size)})
    figures: list[tuple[int, float]] = []
    for size in sizes:
        per_million = estimate(dataclasses.replace(base, batch_size=size)).usd_per_million_events
        if per_million is not None:
            figures.append((size, per_million))
    return figures


def _quantity(value: float) -> str:
    if value == int(value) or abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def _money(value: float) -> str:
    return f"{value:.2f}" if abs(round(value, 2) - value) < 1e-12 else f"{value:g}"


def _price(value: float, unit: str) -> str:
    singular = unit if unit == "GB-s" else unit.removesuffix("s")
    if value < 0.01:
        return f"${_money(value * MILLION)}/M {unit}"
    return f"${_money(value)}/{singular}"


def render_table(estimate: CostEstimate) -> str:
    """A plain-text table of the monthly bill, for terminals and docs."""
    inputs = estimate.inputs
    header = ("Component", "Quantity", "Unit", "Price", "USD/month")
    rows = [
        (
            line.label,
            _quantity(line.quantity),
            line.unit,
            _price(line.unit_price_usd, line.unit),
            f"{line.usd:,.4f}",
        )
        for line in estimate.lines
        if line.usd or not line.fixed
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def fmt(row: tuple[str, ...]) -> str:
        left = f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:<{widths[2]}}"
        return f"{left}  {row[3]:<{widths[3]}}  {row[4]:>{widths[4]}}".rstrip()

    rule = "-" * len(fmt(tuple("-" * w for w in widths)))
    per_million = estimate.usd_per_million_events
    most = max_batch_for(inputs.event_size_bytes)
    out = [
        f"AWS list prices, {PRICE_REGION}, as of {PRICES_AS_OF}; no free tier; month = 730 h.",
        (
            f"{inputs.events_per_month:,.0f} events/month ({inputs.events_per_second:,.4g}/s), "
            f"{inputs.event_size_bytes} B/event (item {estimate.item_size_bytes} B"
            f"{', deflated' if estimate.item_compressed else ''}, "
            + (
                f"one index entry a batch (its head +{listing_bytes(inputs.batch_size):,} B), "
                if listed_together(inputs)
                else f"index {estimate.index_entry_bytes} B, "
            )
            + f"{estimate.wru_per_event:.3g} WRU), "
            f"batch {inputs.batch_size} ({estimate.request_body_bytes:,} B/request), "
            f"retention {inputs.retention_days:g} d, "
            f"{inputs.duration_ms:g} ms + {inputs.duration_per_extra_event_ms:g} ms/extra event "
            f"at {inputs.memory_mb} MB"
        ),
        "",
        fmt(header),
        rule,
        *(fmt(row) for row in rows),
        rule,
        f"{'Variable (scales with traffic and stored data)':<{len(rule) - 12}}"
        f"{estimate.variable_usd:>12,.4f}",
        f"{'Fixed (metrics, alarms, dashboard, keys, secrets: what the Terraform deploys)':<{len(rule) - 12}}"
        f"{estimate.fixed_usd:>12,.4f}",
        f"{'Total USD/month':<{len(rule) - 12}}{estimate.total_usd:>12,.4f}",
        "",
        "Per million events (variable cost): "
        + ("n/a (idle month)" if per_million is None else f"${per_million:,.4f}"),
        "  by events per request: "
        + ", ".join(
            f"{size}{' (the most that fit in 1 MiB)' if size == most < MAX_BATCH_EVENTS else ''}"
            f": ${usd:,.4f}"
            for size, usd in per_million_by_batch(inputs)
        ),
    ]
    return "\n".join(out) + "\n"
