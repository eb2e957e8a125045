"""One hot source through the emulator: its index entries spread over the configured shards, and
listing merges them back in time order with nothing missing; tables written before the listing
index are read during the migration and after it (docs/storage-format.md)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
from ingest import ids
from ingest.adapters import codec
from ingest.adapters.dynamodb import LISTING_INDEX, EventStore
from ingest.domain.store import Draft, RequestContext, enrich, store_many
from moto import mock_aws

SHARDS = 16
SINGLES = 3200
BATCHES = 8
BATCH = 100
START_MS = 1_780_000_000_000


@pytest.fixture
def store() -> Iterator[EventStore]:
    with mock_aws():
        table = EventStore("shard-events", region_name="us-east-1", shards=SHARDS)
        table.ensure_table()
        yield table


def drafts(source: str, count: int, now_ms: int, *, with_ids: bool = False) -> list[Draft]:
    ctx = RequestContext(request_id=f"r-{now_ms}", now_ms=now_ms, retention_days=7)
    made = []
    for n in range(count):
        producer_id = f"{now_ms}-{n}" if with_ids and n % 10 == 0 else None
        record = enrich(ctx, source, "even" if n % 2 == 0 else "odd", producer_id)
        record["data"] = f'{{"n":{n},"amount":12.50}}'
        made.append(Draft(source, producer_id, record))
    return made


def index_keys(store: EventStore) -> Counter[str]:
    pages = store.client.get_paginator("scan").paginate(
        TableName=store.table_name, IndexName=LISTING_INDEX
    )
    return Counter(item["lsk"]["S"] for page in pages for item in page["Items"])


def test_a_hot_source_spreads_over_the_shards_and_lists_in_time_order(store: EventStore) -> None:
    """Single events each have an index entry; a batch has one, its head's."""
    started = time.monotonic()
    stored: list[str] = []
    for n in range(SINGLES):
        now_ms = START_MS + n
        (outcome,) = store_many(store, drafts("hot", 1, now_ms, with_ids=n % 4 == 0), now_ms)
        stored.append(outcome.event_id)
    for batch in range(BATCHES):
        now_ms = START_MS + SINGLES + batch * 7
        outcomes = store_many(store, drafts("hot", BATCH, now_ms, with_ids=batch % 2 == 0), now_ms)
        stored += [o.event_id for o in outcomes]
    store_many(store, drafts("calm", 5, START_MS), START_MS)
    assert len(set(stored)) == SINGLES + BATCHES * BATCH

    per_shard = index_keys(store)
    hot = {key: n for key, n in per_shard.items() if key.startswith("hot#")}
    assert sorted(hot) == sorted(f"hot#{shard}" for shard in range(SHARDS))
    mean = (SINGLES + BATCHES) / SHARDS
    assert all(0.7 * mean < n < 1.3 * mean for n in hot.values()), hot
    assert sum(hot.values()) == SINGLES + BATCHES

    listed = [str(r["event_id"]) for r in store.query_source("hot")]
    assert listed == sorted(stored)  # every event, once, in time (event_id) order
    newest = [str(r["event_id"]) for r in store.query_source("hot", newest_first=True)]
    assert newest == sorted(stored, reverse=True)
    lower, upper = ids.time_bound(START_MS + 70), ids.time_bound(START_MS + SINGLES + 21)
    window = [str(r["event_id"]) for r in store.query_source("hot", lower=lower, upper=upper)]
    assert window == [e for e in sorted(stored) if lower <= e < upper]  # a range per shard
    assert len(window) == SINGLES - 70 + 3 * BATCH
    assert time.monotonic() - started < 120


def test_listing_filters_resumes_and_names_the_sources(store: EventStore) -> None:
    stored: list[str] = []
    for batch in range(6):
        now_ms = START_MS + batch * 7
        stored += [o.event_id for o in store_many(store, drafts("s", 20, now_ms), now_ms)]
    store_many(store, drafts("calm", 5, START_MS), START_MS)
    records = list(store.query_source("s", event_type="odd"))
    assert len(records) == 60  # half of the 120, in order
    assert [str(r["event_id"]) for r in records] == sorted(str(r["event_id"]) for r in records)
    assert {r["type"] for r in records} == {"odd"}
    assert all(str(r["data"]).endswith(',"amount":12.50}') for r in records)  # exact
    ordered = sorted(stored)
    resumed = [str(r["event_id"]) for r in store.query_source("s", after=ordered[17])]
    assert resumed == ordered[18:]
    assert store.sources() == ["calm", "s"]


def test_a_retried_write_lands_in_the_same_shard(store: EventStore) -> None:
    (first,) = store_many(store, drafts("s", 1, START_MS, with_ids=True), START_MS)
    (again,) = store_many(store, drafts("s", 1, START_MS, with_ids=True), START_MS + 5)
    assert again.duplicate
    assert again.event_id == first.event_id
    assert index_keys(store) == Counter({f"s#{codec.shard_of(first.event_id, SHARDS)}": 1})


def test_old_tables_are_read_during_and_after_the_migration() -> None:
    with mock_aws():
        store = EventStore("old-events", region_name="us-east-1", shards=4)
        store.ensure_table(legacy_index=True)
        old: list[str] = []
        for n in range(30):  # written by the previous release: no shard key, data as text
            event_id = ids.new_event_id(ids.random_key(), START_MS + n)
            store.client.put_item(
                TableName="old-events",
                Item={
                    "pk": {"S": ids.key_of(event_id)},
                    "event_id": {"S": event_id},
                    "source": {"S": "s"},
                    "type": {"S": "old"},
                    "data": {"S": '{"big":"' + "x" * 2000 + '"}'},
                },
            )
            old.append(event_id)
        new = [o.event_id for o in store_many(store, drafts("s", 30, START_MS + 15), START_MS + 15)]
        everything = sorted(old + new)

        reader = EventStore("old-events", region_name="us-east-1", read_timeout=30)
        assert [str(r["event_id"]) for r in reader.query_source("s")] == everything
        assert len(list(reader.query_source("s", event_type="old"))) == 30
        assert reader.sources() == ["s"]

        assert store.backfill_shards() == 30
        assert store.backfill_shards() == 0  # re-runnable: nothing left to do
        assert sum(index_keys(store).values()) == 31  # the old events, and the batch's listing

        store.client.update_table(
            TableName="old-events",
            GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_source"}}],
        )
        after = EventStore("old-events", region_name="us-east-1", read_timeout=30)
        listed = list(after.query_source("s"))
        assert [str(r["event_id"]) for r in listed] == everything
        assert {str(r["data"]) for r in listed if r["type"] == "old"} == {
            '{"big":"' + "x" * 2000 + '"}'
        }
        assert after.sources() == ["s"]
