"""The cost model against hand-computed bills, its edge cases, its properties, and `ingest cost`.

Conventions of the model: a month is 730 h (= 365/12 days), a GB is 2**30 bytes, no free tier.
Hand-computed cases switch off the inputs they do not exercise (item overhead, access log, archived
logs, PITR, metrics) so that each figure below can be checked with a pocket calculator.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from ingest.domain import store
from ingest.limits import MAX_BATCH_EVENTS, MAX_EVENT_BYTES
from ingest_tools import cost
from ingest_tools.cli import cost as cost_cli
from ingest_tools.cost import CostInputs, estimate

ONE_MONTH_DAYS = 365 / 12  # retention of exactly one (730-hour) month: stored items = events/month
GIB = 1_073_741_824


def bare(**overrides: Any) -> CostInputs:
    """Inputs with every secondary cost switched off; the tests switch on what they check. The
    layout is the simplest to compute by hand: items stored as they are, each copied into one
    index (``legacy``, projection ALL); test_item_layout_* compute the current layout."""
    values: dict[str, Any] = {
        "indexes": "legacy",
        "compression_ratio": 1.0,
        "events_per_month": 1_000_000.0,
        "event_size_bytes": 1024,
        "batch_size": 1,
        "retention_days": ONE_MONTH_DAYS,
        "duration_ms": 20.0,
        "duration_per_extra_event_ms": 1.0,
        "memory_mb": 512,
        "item_overhead_bytes": 0,
        "log_bytes_per_request": 600,
        "log_bytes_per_batched_event": 0,
        "debug_sample_rate": 1.0,  # every success line logged, as at logs.level DEBUG
        "metric_line_bytes": 0,
        "platform_log_bytes_per_request": 0,
        "access_log_bytes_per_request": 0,
        "log_retention_days": 0.0,
        "pitr": False,
        "custom_metrics": 0,
        "alarms": 0,
        "dashboards": 0,
        "kms_keys": 0,
    }
    values.update(overrides)
    return CostInputs(**values)


# --------------------------------------------------------------------------------------------------
# Hand-computed bills
# --------------------------------------------------------------------------------------------------


def test_one_million_single_events_of_1_kib() -> None:
    result = estimate(bare())

    # 1,000,000 requests, each 1,024 B <= 512 KB -> 1 metered request: 1,000,000 x $1.00/M
    assert result.usd("api_requests") == pytest.approx(1.00)
    # 1,000,000 invocations x $0.20/M
    assert result.usd("lambda_requests") == pytest.approx(0.20)
    # 1,000,000 x 0.020 s x 0.5 GB = 10,000 GB-s; x $0.0000133334 = $0.133334
    assert result.gb_seconds == pytest.approx(10_000)
    assert result.usd("lambda_duration") == pytest.approx(0.133334)
    # 1,024 B item -> 1 WRU, written to table + GSI -> 2 WRU/event -> 2,000,000 WRU x $0.625/M
    assert result.wru_per_event == 2
    assert result.usd("dynamodb_writes") == pytest.approx(1.25)
    # one month retained: 1,000,000 items x (1,024 + 100) B x 2 (table + GSI) = 2,248,000,000 B
    # = 2,248,000,000 / 1,073,741,824 = 2.0936131477 GB; x $0.25 = $0.5234032869
    assert result.stored_items == pytest.approx(1_000_000)
    assert result.table_bytes + result.gsi_bytes == pytest.approx(2_248_000_000)
    assert result.usd("dynamodb_storage") == pytest.approx(0.5234032869)
    # 1,000,000 x 600 B = 600,000,000 B = 0.5587935448 GB; x $0.50 = $0.2793967724
    assert result.usd("logs_ingestion") == pytest.approx(0.2793967724)
    # PITR, archived logs, X-Ray and fixed charges are off in this case.
    for key in ("dynamodb_pitr", "logs_storage", "xray_traces", "custom_metrics", "alarms"):
        assert result.usd(key) == 0
    # 1.00 + 0.20 + 0.133334 + 1.25 + 0.5234032869 + 0.2793967724 = 3.3861340593
    assert result.total_usd == pytest.approx(3.3861340593)
    assert result.usd_per_million_events == pytest.approx(3.3861340593)


def test_one_million_events_in_batches_of_100() -> None:
    result = estimate(bare(batch_size=100))

    # 10,000 requests of 100 x 1,024 + 101 (brackets, commas) = 102,501 B -> 1 metered request each
    assert result.requests_per_month == pytest.approx(10_000)
    assert result.request_body_bytes == 102_501
    assert result.usd("api_requests") == pytest.approx(0.01)
    # 10,000 x $0.20/M
    assert result.usd("lambda_requests") == pytest.approx(0.002)
    # 20 ms + 99 x 1 ms = 119 ms; 10,000 x 0.119 s x 0.5 GB = 595 GB-s; x $0.0000133334
    assert result.billed_ms_per_request == 119
    assert result.gb_seconds == pytest.approx(595)
    assert result.usd("lambda_duration") == pytest.approx(0.007933373)
    # writes and storage do not depend on batching
    assert result.usd("dynamodb_writes") == pytest.approx(1.25)
    assert result.usd("dynamodb_storage") == pytest.approx(0.5234032869)
    # 10,000 x 600 B = 6,000,000 B = 0.0055879354 GB; x $0.50
    assert result.usd("logs_ingestion") == pytest.approx(0.0027939677)
    # 0.01 + 0.002 + 0.007933373 + 1.25 + 0.5234032869 + 0.0027939677 = 1.7961306277
    assert result.total_usd == pytest.approx(1.7961306277)


def test_a_batch_of_100_shares_one_index_entry() -> None:
    """The current layout: each event one item; the batch one index entry, its head's."""
    result = estimate(bare(batch_size=100, indexes="sharded", index_entry_bytes=100))
    # the head also lists the other 99 ids: "listing" (7 B) + 99 x 16 B = 1,591 B more
    assert cost.listing_bytes(100) == 1591
    # 99 items of 1,024 B (1 WRU), the head of 2,615 B (3 WRU), one entry (1 WRU): 103 / 100
    assert result.wru_per_event == pytest.approx(1.03)
    assert result.index_wru_per_event == pytest.approx(0.01)
    assert result.usd("dynamodb_writes") == pytest.approx(0.64375)
    # stored: 1,000,000 x (1,024 + 100) + 10,000 x 1,591 in the table, 10,000 x (100 + 100) index
    assert result.table_bytes == pytest.approx(1_124_000_000 + 15_910_000)
    assert result.gsi_bytes == pytest.approx(2_000_000)
    # the head is written first: 20 + 99 x 1 + 5 ms a request
    assert result.billed_ms_per_request == 124
    two = estimate(bare(batch_size=2, indexes="sharded", index_entry_bytes=100))
    assert two.wru_per_event == 2  # below three events: an entry each


def test_pitr_and_archived_logs() -> None:
    result = estimate(
        bare(
            access_log_bytes_per_request=400,
            pitr=True,
            log_retention_days=73.0,  # 73 / (365/12) = 2.4 months of logs kept
            log_archive_ratio=0.25,
        )
    )
    # PITR on the base table only: 1,000,000 x 1,124 B = 1,124,000,000 B = 1.0468065739 GB x $0.20
    assert result.usd("dynamodb_pitr") == pytest.approx(0.2093613148)
    # the function's log group: 1,000,000 x 600 B = 0.5587935448 GB x $0.50 (Standard)
    assert result.usd("logs_ingestion") == pytest.approx(0.2793967724)
    # the access log group: 1,000,000 x 400 B = 0.3725290298 GB x $0.25 (Infrequent Access)
    assert result.usd("access_logs_ingestion") == pytest.approx(0.0931322575)
    # archive: 0.9313225746 GB x 2.4 months x 0.25 compressed = 0.5587935448 GB-month x $0.03
    assert result.usd("logs_storage") == pytest.approx(0.0167638063)


def test_the_access_log_class_sets_its_ingestion_price() -> None:
    standard = estimate(bare(access_log_bytes_per_request=400, access_log_class="STANDARD"))
    # 0.3725290298 GB x $0.50 in the Standard class: twice the Infrequent Access price
    assert standard.usd("access_logs_ingestion") == pytest.approx(0.1862645149)
    assert "(Standard)" in standard.line("access_logs_ingestion").label
    with pytest.raises(cost.InvalidInputs, match="access_log_class must be one of"):
        bare(access_log_class="DELIVERY")


def test_the_duration_model_stretches_cpu_time_by_the_memorys_share_of_a_vcpu() -> None:
    # 0.9 ms of one core at 512 MB (0.2894 vCPU): 0.9 x 1769 / 512 = 3.1096 ms, + 5 ms for the write
    assert cost.modelled_duration_ms(0.9, 512) == pytest.approx(8.1095703125)
    # from 1,769 MB on, a single-threaded handler has a whole core
    assert cost.modelled_duration_ms(0.9, 3008) == pytest.approx(5.9)
    # the default duration covers the bench's measurement (0.90 ms, docs/cost.md) with a margin
    assert cost.modelled_duration_ms(0.9, cost.DEFAULT_MEMORY_MB) <= cost.DEFAULT_DURATION_MS


def test_an_extra_event_of_a_batch_shares_its_round_trip_with_the_writes_beside_it() -> None:
    # 0.83 ms of one core x 1769/512 = 2.8677 ms, + 5 ms / 16 threads = 0.3125 ms
    assert cost.modelled_extra_event_ms(0.83, 512) == pytest.approx(3.1802148438)
    assert cost.CONDITIONAL_WRITE_WORKERS == store._BATCH_WORKERS  # the store's thread pool
    measured = cost.modelled_extra_event_ms(0.83, cost.DEFAULT_MEMORY_MB)
    assert measured <= cost.DEFAULT_DURATION_PER_EXTRA_EVENT_MS


def test_platform_lines_and_batch_event_ids_add_log_bytes() -> None:
    single = estimate(bare(platform_log_bytes_per_request=350))
    # 1,000,000 requests x (600 + 350) B = 950,000,000 B = 0.8847564459 GB; x $0.50
    assert single.log_bytes_per_month == pytest.approx(950_000_000)
    assert single.usd("logs_ingestion") == pytest.approx(0.4423782229)
    batched = estimate(bare(batch_size=100, log_bytes_per_batched_event=30))
    # 10,000 requests x (600 + 100 x 30) B = 36,000,000 B = 0.0335276127 GB; x $0.50
    assert batched.log_bytes_per_month == pytest.approx(36_000_000)
    assert batched.usd("logs_ingestion") == pytest.approx(0.0167638063)


def test_success_lines_are_logged_for_the_sampled_share_of_requests() -> None:
    # 1,000,000 requests x 1 % x 600 B = 6,000,000 B = 0.0055879354 GB; x $0.50
    sampled = estimate(bare(debug_sample_rate=0.01))
    assert sampled.log_bytes_per_month == pytest.approx(6_000_000)
    assert sampled.usd("logs_ingestion") == pytest.approx(0.0027939677)
    # at the module's default (no sampling) a success writes no line: only the metric lines remain
    assert estimate(bare(debug_sample_rate=0.0)).log_bytes_per_month == 0
    with pytest.raises(cost.InvalidInputs, match="debug_sample_rate is a fraction"):
        bare(debug_sample_rate=1.5)


def test_held_metrics_are_two_lines_a_minute_per_execution_environment() -> None:
    quiet: dict[str, Any] = {"debug_sample_rate": 0.0, "metric_line_bytes": 400}
    # 1,000,000 requests of 20 ms a month run 0.0076 at once: one environment, 2 lines a minute
    # for 43,800 minutes = 87,600 lines x 400 B = 35,040,000 B = 0.032633543 GB; x $0.50
    one = estimate(bare(**quiet))
    assert cost.metric_lines(1e6, 20) == 87_600
    assert one.log_bytes_per_month == pytest.approx(35_040_000)
    assert one.usd("logs_ingestion") == pytest.approx(0.0163167715)
    # 10,000 requests/s of 20 ms: 200 at once, 200 x 87,600 lines
    assert cost.metric_lines(10_000 * cost.SECONDS_PER_MONTH, 20) == 17_520_000
    # a request a minute or less: one line each, at most
    assert cost.metric_lines(1_000, 20) == 1_000
    assert cost.metric_lines(0, 20) == 0
    # an idle month writes none
    assert estimate(bare(events_per_month=0.0, **quiet)).log_bytes_per_month == 0


def test_retention_scales_storage_linearly() -> None:
    # 73 days = 2.4 months of events kept -> 2,400,000 items; 0.5234032869 x 2.4 = 1.2561678886
    result = estimate(bare(retention_days=73.0))
    assert result.stored_items == pytest.approx(2_400_000)
    assert result.usd("dynamodb_storage") == pytest.approx(1.2561678886)


def test_fixed_charges_and_an_idle_month() -> None:
    result = estimate(
        bare(events_per_month=0.0, custom_metrics=12, alarms=8, dashboards=1, kms_keys=1, secrets=2)
    )
    # no traffic: no metric series are published, nothing variable is charged
    assert result.variable_usd == 0
    assert result.usd("custom_metrics") == 0
    # 8 x $0.10 + 1 x $3.00 + 1 x $1.00 + 2 x $0.40 = $5.60
    assert result.fixed_usd == pytest.approx(5.60)
    assert result.total_usd == pytest.approx(5.60)
    assert result.usd_per_million_events is None

    busy = estimate(bare(custom_metrics=12))
    # 12 series x $0.30 = $3.60, outside the per-million figure
    assert busy.usd("custom_metrics") == pytest.approx(3.60)
    assert busy.usd_per_million_events == pytest.approx(3.3861340593)


def test_xray_traces() -> None:
    # 1,000,000 requests x 5 % = 50,000 traces x $5.00/M = $0.25
    assert estimate(bare(xray_sample_rate=0.05)).usd("xray_traces") == pytest.approx(0.25)


def test_api_gateway_volume_tier() -> None:
    # 400M requests: 300M x $1.00/M + 100M x $0.90/M = $300 + $90 = $390
    result = estimate(bare(events_per_month=400_000_000.0, event_size_bytes=200))
    assert result.usd("api_requests") == pytest.approx(390.0)


def test_from_rate_uses_a_730_hour_month() -> None:
    # 10/s x 730 h x 3,600 s = 26,280,000 events
    inputs = CostInputs.from_rate(10.0)
    assert inputs.events_per_month == pytest.approx(26_280_000)
    assert inputs.events_per_second == pytest.approx(10.0)


# --------------------------------------------------------------------------------------------------
# Edge cases
# --------------------------------------------------------------------------------------------------


def test_item_of_exactly_1024_bytes_is_one_wru_and_1025_is_two() -> None:
    assert cost.write_units(1) == 1
    assert cost.write_units(1024) == 1
    assert cost.write_units(1025) == 2
    assert cost.write_units(2048) == 2
    assert cost.write_units(2049) == 3
    # through the model, for 1,000,000 events (table + GSI): 2,000,000 vs 4,000,000 WRU
    assert estimate(bare(event_size_bytes=1024)).usd("dynamodb_writes") == pytest.approx(1.25)
    assert estimate(bare(event_size_bytes=1025)).usd("dynamodb_writes") == pytest.approx(2.50)
    # the attributes the service adds count: 924 B + 100 B = 1,024 B; 925 B + 100 B = 1,025 B
    assert estimate(bare(event_size_bytes=924, item_overhead_bytes=100)).wru_per_event == 2
    assert estimate(bare(event_size_bytes=925, item_overhead_bytes=100)).wru_per_event == 4


def test_request_over_512_kb_is_metered_as_two() -> None:
    assert cost.api_metered_requests(0) == 1
    assert cost.api_metered_requests(524_288) == 1
    assert cost.api_metered_requests(524_289) == 2
    assert cost.api_metered_requests(1_048_576) == 2
    # 476 x 1,100 + 477 = 524,077 B -> 1 metered request; 477 x 1,100 + 478 = 525,178 B -> 2
    under = estimate(bare(events_per_month=476_000.0, event_size_bytes=1100, batch_size=476))
    over = estimate(bare(events_per_month=477_000.0, event_size_bytes=1100, batch_size=477))
    assert under.request_body_bytes == 524_077
    assert over.request_body_bytes == 525_178
    # both: 1,000 requests; 1,000 vs 2,000 metered -> $0.001 vs $0.002
    assert under.usd("api_requests") == pytest.approx(0.001)
    assert over.usd("api_requests") == pytest.approx(0.002)


def test_lambda_duration_is_billed_in_whole_milliseconds() -> None:
    assert cost.billed_duration_ms(20.0) == 20
    assert cost.billed_duration_ms(20.01) == 21
    assert cost.billed_duration_ms(0.2) == 1
    assert cost.billed_duration_ms(0.1 + 0.2 + 19.7) == 20  # float noise is not a millisecond
    # 1,000,000 x 0.021 s x 0.5 GB = 10,500 GB-s
    assert estimate(bare(duration_ms=20.3)).gb_seconds == pytest.approx(10_500)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 501}, "batch_size"),
        ({"event_size_bytes": 0}, "event_size_bytes"),
        ({"event_size_bytes": 262_145}, "event_size_bytes"),
        ({"event_size_bytes": 262_144, "batch_size": 5}, "1 MiB"),
        ({"event_size_bytes": 262_144, "item_overhead_bytes": 200_000}, "400 KB"),
        ({"events_per_month": -1.0}, "events_per_month"),
        ({"events_per_month": float("nan")}, "events_per_month"),
        ({"memory_mb": 64}, "memory_mb"),
        ({"xray_sample_rate": 1.5}, "xray_sample_rate"),
    ],
)
def test_inputs_outside_the_service_limits_are_refused(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        bare(**overrides)


def test_max_batch_for_respects_the_1_mib_body() -> None:
    assert cost.max_batch_for(512) == 500
    # 2,100 B events: 499 x 2,101 + 1 = 1,048,400 <= 1,048,576 < 500 x 2,101 + 1 = 1,050,501
    assert cost.max_batch_for(2100) == 499
    assert cost.max_batch_for(262_144) == 3


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("100/s", 100.0), ("100", 100.0), ("6000/min", 100.0), ("360/h", 0.1), ("86400/day", 1.0)],
)
def test_parse_rate(text: str, per_second: float) -> None:
    assert cost.parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["fast", "100/fortnight", "-1/s", "inf/s"])
def test_parse_rate_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        cost.parse_rate(text)


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=MAX_EVENT_BYTES - 1000)
rates = st.floats(min_value=0, max_value=5e10, allow_nan=False)
# Whole milliseconds: Lambda's 1 ms rounding of fractional durations can move the per-event
# duration cost by a fraction of a millisecond's price, which is not what these properties check.
base_ms = st.integers(min_value=1, max_value=2000)


@st.composite
def profiles(draw: st.DrawFn) -> CostInputs:
    size = draw(sizes)
    duration = draw(base_ms)
    log_bytes = draw(st.integers(min_value=0, max_value=10_000))
    return CostInputs(
        events_per_month=draw(st.floats(min_value=1, max_value=1e10)),
        event_size_bytes=size,
        batch_size=draw(st.integers(min_value=1, max_value=cost.max_batch_for(size))),
        retention_days=draw(st.floats(min_value=0, max_value=3650)),
        duration_ms=float(duration),
        duration_per_extra_event_ms=float(draw(st.integers(min_value=0, max_value=duration))),
        memory_mb=draw(st.integers(min_value=128, max_value=10_240)),
        item_overhead_bytes=draw(st.integers(min_value=0, max_value=1000)),
        log_bytes_per_request=log_bytes,
        # a batch's extra log bytes per event stay below half a single request's log line, the
        # condition under which logging a batch costs less per event than logging single events
        log_bytes_per_batched_event=draw(st.integers(min_value=0, max_value=log_bytes // 2)),
        debug_sample_rate=draw(st.floats(min_value=0, max_value=1)),
        metric_line_bytes=draw(st.integers(min_value=0, max_value=1000)),
        platform_log_bytes_per_request=draw(st.integers(min_value=0, max_value=1000)),
        access_log_bytes_per_request=draw(st.integers(min_value=0, max_value=10_000)),
        log_retention_days=draw(st.floats(min_value=0, max_value=3650)),
        pitr=draw(st.booleans()),
        xray_sample_rate=draw(st.floats(min_value=0, max_value=1)),
        custom_metrics=draw(st.integers(min_value=0, max_value=50)),
        alarms=draw(st.integers(min_value=0, max_value=20)),
    )


def leq(a: float, b: float) -> bool:
    return a <= b * (1 + 1e-12) + 1e-12


@given(profiles(), rates, rates)
def test_cost_is_monotone_in_rate(inputs: CostInputs, first: float, second: float) -> None:
    low, high = sorted((first, second))
    cheap = estimate(dataclasses.replace(inputs, events_per_month=low))
    dear = estimate(dataclasses.replace(inputs, events_per_month=high))
    assert leq(cheap.total_usd, dear.total_usd)
    for small, large in zip(cheap.lines, dear.lines, strict=True):
        assert leq(small.usd, large.usd), small.key


@given(profiles())
def test_batching_never_costs_more_per_event_than_single_events(inputs: CostInputs) -> None:
    batched = estimate(inputs).usd_per_million_events
    single = estimate(dataclasses.replace(inputs, batch_size=1)).usd_per_million_events
    assert batched is not None
    assert single is not None
    assert leq(batched, single)


@given(profiles(), st.integers(min_value=1, max_value=MAX_BATCH_EVENTS))
def test_bigger_batches_never_cost_more_per_event_within_a_metering_step(
    inputs: CostInputs, other: int
) -> None:
    other = min(other, cost.max_batch_for(inputs.event_size_bytes))
    small, large = sorted((inputs.batch_size, other))
    smaller = estimate(dataclasses.replace(inputs, batch_size=small))
    larger = estimate(dataclasses.replace(inputs, batch_size=large))
    # Crossing a 512 KB boundary doubles the metered API requests (see the edge case above).
    assume(smaller.api_metered_per_request == larger.api_metered_per_request)
    assert smaller.usd_per_million_events is not None
    assert larger.usd_per_million_events is not None
    # A batch's head lists the others' ids (16 B each): it takes one more write unit every 64
    # events, and keeps up to 16 B more per event stored. At most that much more per event.
    step = cost.DYNAMODB_PRICE_PER_MILLION_WRU / large
    gb_months = 16 * 1e6 / cost.BYTES_PER_GB * inputs.retention_days / cost.DAYS_PER_MONTH
    step += gb_months * (
        cost.DYNAMODB_STORAGE_PRICE_PER_GB_MONTH + cost.DYNAMODB_PITR_PRICE_PER_GB_MONTH
    )
    assert leq(larger.usd_per_million_events, smaller.usd_per_million_events + step)


@given(profiles())
def test_breakdown_adds_up(inputs: CostInputs) -> None:
    result = estimate(inputs)
    assert result.total_usd == pytest.approx(result.variable_usd + result.fixed_usd)
    assert all(line.usd >= 0 for line in result.lines)
    assert len({line.key for line in result.lines}) == len(result.lines)


# --------------------------------------------------------------------------------------------------
# Rendering and the `ingest cost` subcommand
# --------------------------------------------------------------------------------------------------


def test_render_table_names_prices_components_and_totals() -> None:
    text = cost.render_table(estimate(CostInputs(events_per_month=1_000_000.0, alarms=8)))
    assert "us-east-1" in text
    assert "2026-11" in text
    for label in ("API Gateway", "Lambda invocations", "DynamoDB writes", "CloudWatch Logs"):
        assert label in text
    assert "CloudWatch alarm metrics" in text
    assert "Total USD/month" in text
    assert "Per million events" in text
    assert "by events per request: 1: $" in text


def test_a_batch_size_capped_by_the_1_mib_request_says_so() -> None:
    text = cost.render_table(estimate(CostInputs(events_per_month=1e6, event_size_bytes=4096)))
    # 500 events of 4 KiB do not fit one request: the row is the largest batch that does
    assert "255 (the most that fit in 1 MiB): $" in text
    assert ", 500" not in text


def test_by_default_the_fixed_cost_is_what_the_terraform_deploys() -> None:
    idle = estimate(CostInputs(events_per_month=0.0))
    # 12 alarm metrics x $0.10 + 1 dashboard x $3.00 + the alarm topic's KMS key $1.00
    assert idle.fixed_usd == pytest.approx(5.20)
    assert idle.usd("secrets") == 0  # the Terraform creates none; --secrets N for webhook sources
    busy = estimate(CostInputs(events_per_month=1e6))
    assert busy.fixed_usd == pytest.approx(5.20 + 3.60)  # and 12 EMF metric series with traffic


def test_render_table_for_an_idle_month() -> None:
    text = cost.render_table(estimate(CostInputs(events_per_month=0.0, secrets=1)))
    assert "n/a (idle month)" in text
    assert "Secrets Manager" in text


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ingest")
    subparsers = root.add_subparsers(dest="command", required=True)
    cost_cli.register(subparsers)
    return root


def run_cli(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    result = args.func(args)
    assert isinstance(result, int)
    return result


def test_cli_defaults_match_the_model() -> None:
    args = parser().parse_args(["cost", "--per-month", "1"])
    assert args.func is cost_cli.run
    assert args.size == cost.DEFAULT_EVENT_SIZE_BYTES
    assert args.duration_ms == cost.DEFAULT_DURATION_MS
    assert args.per_event_ms == cost.DEFAULT_DURATION_PER_EXTRA_EVENT_MS
    assert args.memory_mb == cost.DEFAULT_MEMORY_MB
    assert args.retention_days == cost.DEFAULT_RETENTION_DAYS


def test_cli_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["cost", "--rate", "10/s", "--batch", "100", "--alarms", "8"]) == 0
    out = capsys.readouterr().out
    assert "26,280,000 events/month" in out
    assert "batch 100" in out
    assert "Total USD/month" in out


def test_cli_json_matches_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["cost", "--per-month", "1_000_000", "--size", "1024", "--batch", "1"]
    argv += ["--retention-days", str(ONE_MONTH_DAYS), "--duration-ms", "20", "--memory-mb", "512"]
    argv += ["--item-overhead", "0", "--log-bytes", "600", "--access-log-bytes", "0"]
    argv += ["--platform-log-bytes", "0", "--batch-log-bytes", "0"]
    argv += ["--debug-sample-rate", "1", "--metric-line-bytes", "0"]
    argv += ["--log-retention-days", "0", "--no-pitr", "--metrics", "0", "--json"]
    argv += ["--alarms", "0", "--dashboards", "0", "--kms-keys", "0"]
    argv += ["--indexes", "legacy", "--compression-ratio", "1"]
    assert run_cli(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["prices_as_of"] == "2026-11"
    assert data["region"] == "us-east-1"
    assert data["total_usd"] == pytest.approx(3.3861340593)
    assert data["usd_per_million_events"] == pytest.approx(3.3861340593)
    assert set(data["usd_per_million_events_by_batch"]) == {"1", "10", "100", "500"}
    lines = {line["key"]: line["usd"] for line in data["lines"]}
    assert lines["api_requests"] == pytest.approx(1.00)
    assert lines["dynamodb_writes"] == pytest.approx(1.25)


def test_cli_json_numbers_are_the_decimals_they_stand_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli(["cost", "--rate", "10/s", "--size", "1024", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    lines = {line["key"]: line["usd"] for line in data["lines"]}
    assert lines["custom_metrics"] == 3.6  # 12 x 0.30, not 3.5999999999999996
    assert data["fixed_usd"] == 8.8
    assert "99999999" not in out
    assert "00000000" not in out

    def floats(value: Any) -> list[float]:
        if isinstance(value, float):
            return [value]
        if isinstance(value, dict):
            value = list(value.values())
        return [f for item in value for f in floats(item)] if isinstance(value, list) else []

    assert all(f == float(f"{f:.12g}") for f in floats(data))  # 12 significant digits at most


def test_cli_names_the_flag_of_an_input_it_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["cost", "--rate", "1/s", "--size", "0", "--memory-mb", "64"]) == 2
    err = capsys.readouterr().err
    assert "--size must be 1..262144" in err
    assert "--memory-mb must be 128..10240, got 64" in err
    assert "event_size_bytes" not in err
    assert "memory_mb" not in err
    assert "\n" not in err.rstrip("\n")  # one line


def test_cli_refuses_a_batch_over_the_limits(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["cost", "--per-month", "1000", "--size", "262144", "--batch", "5"]) == 2
    assert "1 MiB" in capsys.readouterr().err


def test_cli_needs_exactly_one_volume() -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["cost"])
    with pytest.raises(SystemExit):
        parser().parse_args(["cost", "--rate", "1/s", "--per-month", "5"])
    with pytest.raises(SystemExit):
        parser().parse_args(["cost", "--rate", "fast"])


def test_the_pipe_costs_1_40_per_million_forwarded_events() -> None:
    """Pipes $0.40 and EventBridge $1.00 per million, per 64 KB chunk, after the filter only."""
    none = estimate(CostInputs(events_per_month=1_000_000.0))
    assert none.usd("pipes_requests") == 0
    assert none.usd("eventbridge_events") == 0
    every = estimate(CostInputs(events_per_month=1_000_000.0, consumers=1.0))
    assert every.usd("pipes_requests") == pytest.approx(0.40)
    assert every.usd("eventbridge_events") == pytest.approx(1.00)
    half = estimate(CostInputs(events_per_month=1_000_000.0, consumers=0.5))
    assert half.usd("pipes_requests") + half.usd("eventbridge_events") == pytest.approx(0.70)
    large = estimate(  # incompressible: the stream carries the item as it is
        CostInputs(
            events_per_month=1_000_000.0,
            consumers=1.0,
            event_size_bytes=100_000,
            compression_ratio=1.0,
        )
    )
    assert large.line("pipes_requests").quantity == 3_000_000  # ~140 KB shaped: three chunks
    with pytest.raises(ValueError, match="consumers"):
        CostInputs(events_per_month=1.0, consumers=1.5)


# --------------------------------------------------------------------------------------------------
# The item layout (docs/decisions/0026): deflated payloads, a keys-and-type listing index
# --------------------------------------------------------------------------------------------------


def test_item_layout_a_1_kib_event_deflated_with_a_small_index_entry() -> None:
    result = estimate(
        bare(
            indexes="sharded", compression_ratio=0.5, item_overhead_bytes=190, index_entry_bytes=100
        )
    )
    # 1,024 + 190 = 1,214 B > 1 KiB: deflated to 190 + 12 (codec) + 512 = 714 B -> 1 WRU;
    # the index entry, 100 B -> 1 WRU: 2 WRU x 1,000,000 x $0.625/M
    assert (result.item_size_bytes, result.item_compressed) == (714, True)
    assert result.wru_per_event == 2
    assert result.usd("dynamodb_writes") == pytest.approx(1.25)
    # 1,000,000 x ((714 + 100) + (100 + 100)) B = 1,014,000,000 B = 0.9443610907 GB x $0.25
    assert result.table_bytes + result.gsi_bytes == pytest.approx(1_014_000_000)
    assert result.usd("dynamodb_storage") == pytest.approx(0.2360902727)


def test_item_layout_during_the_migration_writes_both_indexes() -> None:
    both = estimate(bare(indexes="both", compression_ratio=0.5, item_overhead_bytes=190))
    # the table (714 B), the listing entry (100 B) and by_source's copy of the item: 3 WRU
    assert both.wru_per_event == 3
    assert both.index_entry_bytes == 100 + 714


def test_item_layout_small_or_incompressible_items_are_stored_as_they_are() -> None:
    small = estimate(bare(indexes="sharded", event_size_bytes=800, item_overhead_bytes=190))
    assert (small.item_size_bytes, small.item_compressed) == (990, False)
    opaque = estimate(bare(indexes="sharded", compression_ratio=1.0, item_overhead_bytes=190))
    assert (opaque.item_size_bytes, opaque.item_compressed) == (1214, False)
    assert opaque.wru_per_event == 3


def test_the_sample_event_is_exactly_its_size_and_compresses_like_business_events() -> None:
    for size in (40, 512, 1024, 4096, MAX_EVENT_BYTES):
        text = cost.sample_event(size)
        assert len(text.encode()) == size
        assert json.loads(text)["type"]
    assert cost.sample_event(1024) == cost.sample_event(1024)
    ratios = [cost.sample_compression_ratio(size) for size in (1024, 4096, 65_536)]
    assert ratios == sorted(ratios, reverse=True)  # larger events repeat more
    assert 0.3 < ratios[0] < 0.5


def test_compression_ratio_and_layout_are_checked() -> None:
    with pytest.raises(ValueError, match="compression_ratio"):
        CostInputs(events_per_month=1.0, compression_ratio=0.0)
    with pytest.raises(ValueError, match="indexes"):
        CostInputs(events_per_month=1.0, indexes="all")
