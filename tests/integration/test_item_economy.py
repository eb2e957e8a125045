"""The write units and sizes `ingest cost` charges for are those of the items the service writes.

Events of several sizes go through the real handler (moto behind it); the marshalled items the
adapter sends are captured from the client, sized by DynamoDB's item-size rules (written out here,
independently of the service's own code), and their listing index entries sized from the index's
projection. The cost model must charge the same write units and about the same bytes."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stdout
from typing import Any

import pytest
from ingest import runtime
from ingest.adapters.dynamodb import LISTING_INDEX_DEFINITION, EventStore
from ingest.handler import lambda_handler
from ingest_tools import cost
from moto import mock_aws

from tests.integration.test_handler import api_event

WRITE_UNIT = 1024


def attribute_bytes(name: str, typed: dict[str, Any]) -> int:
    """DynamoDB's rules: the name's UTF-8 bytes, plus S: UTF-8 bytes; B: raw bytes; N: one byte
    per two significant digits, plus one."""
    ((kind, value),) = typed.items()
    size = len(name.encode())
    if kind == "S":
        return size + len(value.encode())
    if kind == "B":
        return size + len(value)
    assert kind == "N"
    digits = value.lstrip("-").replace(".", "").strip("0") or "0"
    return size + (len(digits) + 1) // 2 + 1


def item_bytes(item: dict[str, Any]) -> int:
    return sum(attribute_bytes(name, typed) for name, typed in item.items())


def index_entry(item: dict[str, Any]) -> dict[str, Any]:
    """The listing index's copy of an item: its keys, the table's key, the projected attributes."""
    keys = [k["AttributeName"] for k in LISTING_INDEX_DEFINITION["KeySchema"]]
    projected = LISTING_INDEX_DEFINITION["Projection"]["NonKeyAttributes"]
    return {name: item[name] for name in ["pk", *keys, *projected] if name in item}


def units(size: int) -> int:
    return max(1, -(-size // WRITE_UNIT))


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Every item the adapter sends to DynamoDB (PutItem and BatchWriteItem), as sent."""
    monkeypatch.setenv("EVENTS_TABLE", "economy-events")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    captured: list[dict[str, Any]] = []

    def put(params: dict[str, Any], **_: Any) -> None:
        captured.append(params["Item"])

    def batch(params: dict[str, Any], **_: Any) -> None:
        for requests in params["RequestItems"].values():
            captured.extend(r["PutRequest"]["Item"] for r in requests)

    with mock_aws():
        EventStore("economy-events", region_name="us-east-1").ensure_table()
        runtime.reset()
        events = runtime.current().store.client.meta.events
        events.register("provide-client-params.dynamodb.PutItem", put)
        events.register("provide-client-params.dynamodb.BatchWriteItem", batch)
        yield captured
        runtime.reset()


def send(body: str) -> int:
    event = api_event(body, request_id="Ab1CdEfGhIjKlM=")  # API Gateway's ids are 15 characters
    event["requestContext"]["http"]["userAgent"] = "python-requests/2.31.0"
    with redirect_stdout(io.StringIO()):
        status: int = lambda_handler(event, None)["statusCode"]
    return status


@pytest.mark.parametrize("size", [300, 512, 820, 1024, 2048, 4096, 65_536])
def test_the_model_charges_the_write_units_of_the_items_written(
    written: list[dict[str, Any]], size: int
) -> None:
    body = cost.sample_event(size).replace("ord-000001", f"ord-{size:06d}")
    assert len(body.encode()) == size
    assert send(body) == 202
    (item,) = written
    table, entry = item_bytes(item), item_bytes(index_entry(item))
    measured_units = units(table) + units(entry)

    model = cost.estimate(cost.CostInputs(events_per_month=1e6, event_size_bytes=size))
    print(f"\n{size} B event: item {table} B (model {model.item_size_bytes} B), index {entry} B")
    assert model.wru_per_event == measured_units
    assert model.item_compressed == ("codec" in item)
    assert abs(model.item_size_bytes - table) <= 16  # the model's item is the written item
    assert entry <= cost.DEFAULT_INDEX_ENTRY_BYTES


def test_a_1_kib_event_costs_two_write_units_instead_of_four(written: list[dict[str, Any]]) -> None:
    body = cost.sample_event(1024)
    assert send(body) == 202
    (item,) = written
    assert item["codec"] == {"S": "deflate"}
    assert units(item_bytes(item)) == 1  # the table
    assert units(item_bytes(index_entry(item))) == 1  # the listing index (keys and type)
    as_sent = {name: typed for name, typed in item.items() if name != "codec"}
    as_sent["data"] = {"S": json.dumps(json.loads(body)["data"], separators=(",", ":"))}
    assert units(item_bytes(as_sent)) == 2  # what it would be, stored as it came
    legacy = cost.estimate(
        cost.CostInputs(
            events_per_month=1e6, event_size_bytes=1024, indexes="legacy", compression_ratio=1.0
        )
    )
    assert legacy.wru_per_event == 4  # the layout before: 2 in the table, 2 in by_source (ALL)


def batch_of(n: int, *, with_ids: int, source: str = "shop") -> str:
    """A batch of ``n`` 1 KiB sample events of one source, the first ``with_ids`` with an id."""
    events = [json.loads(cost.sample_event(1024)) for _ in range(n)]
    for index, event in enumerate(events):
        event["source"] = source
        event["id"] = f"ord-{source}-{index:05d}"
    for event in events[with_ids:]:
        del event["id"]
    return json.dumps(events, separators=(",", ":"))


@pytest.mark.parametrize(("n", "with_ids"), [(3, 3), (10, 5), (100, 50), (100, 0)])
def test_a_batch_of_one_source_has_one_index_entry(
    written: list[dict[str, Any]], n: int, with_ids: int
) -> None:
    """Events with ids (conditional puts) and without (BatchWriteItem) are the same items; the
    batch's head, written first, lists the others and its index entry is theirs; the model
    charges what is written, per event."""
    assert send(batch_of(n, with_ids=with_ids)) == 202
    head, *others = written
    assert len(written) == n  # one item per event
    assert "lsk" in head
    assert len(head["listing"]["B"]) == 16 * (n - 1)
    assert not any("lsk" in item or "listing" in item for item in others)
    measured = sum(units(item_bytes(item)) for item in written) + units(
        item_bytes(index_entry(head))
    )
    model = cost.estimate(
        cost.CostInputs(events_per_month=1e6, event_size_bytes=1024, batch_size=n)
    )
    listing = item_bytes(head) - item_bytes({k: v for k, v in head.items() if k != "listing"})
    print(f"\nbatch of {n}: head {item_bytes(head)} B, {measured / n:.3f} WRU/event")
    assert model.wru_per_event == pytest.approx(measured / n)
    assert listing == cost.listing_bytes(n)
    # the model's item has a shard key and an id: a batched event without them weighs less
    assert 0 <= model.item_size_bytes - item_bytes(others[-1]) <= 32


def test_a_batch_of_two_keeps_an_entry_per_event(written: list[dict[str, Any]]) -> None:
    """Below three events of a source a head's listing would cost as much as it saves."""
    assert send(batch_of(2, with_ids=1)) == 202
    assert len(written) == 2
    assert all("lsk" in item for item in written)
    model = cost.estimate(
        cost.CostInputs(events_per_month=1e6, event_size_bytes=1024, batch_size=2)
    )
    measured = sum(units(item_bytes(i)) + units(item_bytes(index_entry(i))) for i in written)
    assert model.wru_per_event == measured / 2
