"""The capacity model (ingest cost --capacity): which limit binds first, with the numbers."""

from __future__ import annotations

import json

import pytest
from ingest_tools import capacity
from ingest_tools.cli.main import main as run_cli
from ingest_tools.cost import CostInputs


def rate(events_per_second: float, **kwargs: object) -> CostInputs:
    return CostInputs.from_rate(events_per_second, **kwargs)


def test_single_events_meet_the_api_gateway_rate_first() -> None:
    result = capacity.capacity(rate(5000, event_size_bytes=1024))
    assert result.binding.key == "api_rate"
    assert result.binding.utilisation == pytest.approx(0.5)
    limits = {limit.key: limit for limit in result.limits}
    # 5,000 requests/s x 10 ms (the default duration) = 50 concurrent executions (Little's law)
    assert limits["lambda_concurrency"].needed == pytest.approx(50)
    # a 1 KiB event is a 1-unit item and a 1-unit index entry; 16 shards share one source
    assert limits["table_writes"].needed == pytest.approx(5000)
    assert limits["index_shard_writes"].needed == pytest.approx(5000 / 16)


def test_one_hot_source_in_pairs_meets_its_index_partition_first() -> None:
    """Two events a request: an index entry each (a batch's head lists others from three of a source)."""
    result = capacity.capacity(rate(20_000, event_size_bytes=1024, batch_size=2))
    assert result.binding.key == "index_shard_writes"
    assert result.binding.utilisation == pytest.approx(1.25)
    assert "listing_shards" in result.binding.raise_by
    more = capacity.capacity(rate(20_000, event_size_bytes=1024, batch_size=2), shards=64)
    assert more.binding.key == "api_rate"  # 10,000 requests/s: the account's rate


def test_a_batch_head_takes_the_index_off_the_hot_source() -> None:
    result = capacity.capacity(rate(20_000, event_size_bytes=1024, batch_size=100))
    limits = {limit.key: limit.needed for limit in result.limits}
    assert limits["index_shard_writes"] == pytest.approx(20_000 / 100 / 16)  # one entry a batch
    assert limits["table_writes"] == pytest.approx(
        20_000 * 1.02
    )  # 99 items of 1 unit, the head of 3
    assert result.binding.key == "table_writes"


def test_before_sharding_one_source_stopped_at_one_partition() -> None:
    legacy = rate(1500, event_size_bytes=1024, indexes="legacy", compression_ratio=1.0)
    result = capacity.capacity(legacy)
    assert result.binding.key == "index_shard_writes"
    assert result.binding.needed == pytest.approx(3000)  # 2 units an entry, all on one key


def test_spread_sources_and_peaks() -> None:
    spread = capacity.capacity(rate(3000, batch_size=10), hot_source_share=0.1, shards=1)
    index = {limit.key: limit.needed for limit in spread.limits}["index_shard_writes"]
    assert index == pytest.approx(30)  # 300 events/s, one listing entry per batch of 10
    peak = capacity.capacity(rate(6000), peak_factor=2.5)
    assert peak.binding.key == "api_rate"
    assert peak.binding.utilisation == pytest.approx(1.5)
    burst = {limit.key: limit.needed for limit in peak.limits}["api_burst"]
    assert burst == pytest.approx(5000)  # 15,000 in the peak second: 5,000 beyond the rate


def test_lambda_concurrency_and_its_ramp() -> None:
    result = capacity.capacity(rate(9000, duration_ms=250), concurrency_limit=3000)
    limits = {limit.key: limit for limit in result.limits}
    assert limits["lambda_concurrency"].needed == pytest.approx(2250)
    assert result.ramp_seconds == pytest.approx(12.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hot_source_share": 0}, "hot_source_share"),
        ({"shards": 65}, "shards"),
        ({"peak_factor": 0.5}, "peak"),
        ({"api_rate_limit": -1.0}, "api_rate_limit must be a finite number > 0"),
        ({"concurrency_limit": float("nan")}, "concurrency_limit"),
    ],
)
def test_nonsense_is_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        capacity.capacity(rate(1), **kwargs)  # type: ignore[arg-type]


def test_the_cli_names_the_capacity_flag_it_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["cost", "--rate", "1/s", "--capacity", "--hot-source-share", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ingest cost: --hot-source-share is a fraction of the events")
    assert "hot_source_share" not in err


def test_the_cli_prints_what_binds_and_what_to_raise(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run_cli(["cost", "--rate", "20000/s", "--batch", "100", "--size", "1024", "--capacity"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Binds first: DynamoDB table write units/s" in out
    assert "Table-level write throughput limit" in out
    assert "pre-warm" in out
    assert run_cli(["cost", "--rate", "100/s", "--capacity", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["binding"] == "api_rate"
    assert {limit["key"] for limit in data["limits"]} == {
        "api_rate",
        "api_burst",
        "lambda_concurrency",
        "table_writes",
        "index_shard_writes",
    }
    assert run_cli(["cost", "--rate", "1/s", "--capacity", "--shards", "0"]) == 2
