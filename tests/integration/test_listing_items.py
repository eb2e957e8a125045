"""A batch's head (docs/decisions/0039): written before the batch's other events, it lists each of
them exactly once whatever happens to the writes, and every reader expands it in time order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ingest import ids
from ingest.adapters import codec
from ingest.adapters.dynamodb import EventStore, Record, StorageUnavailable
from ingest.domain.store import Draft, RequestContext, enrich, store_many
from ingest.errors import ServiceUnavailable
from moto import mock_aws

START_MS = 1_780_000_000_000


@pytest.fixture
def store() -> Iterator[EventStore]:
    with mock_aws():
        table = EventStore("listing-events", region_name="us-east-1", shards=4)
        table.ensure_table()
        yield table


def batch(now_ms: int, count: int = 10, *, ids_from: int = 0, source: str = "s") -> list[Draft]:
    """``count`` events of ``source``, those from ``ids_from`` on with a producer id."""
    ctx = RequestContext(request_id=f"r-{now_ms}", now_ms=now_ms)
    made = []
    for n in range(count):
        producer_id = f"p-{n}" if n >= ids_from else None
        record = enrich(ctx, source, "even" if n % 2 == 0 else "odd", producer_id)
        record["data"] = f'{{"n":{n}}}'
        made.append(Draft(source, producer_id, record))
    return made


def listed(store: EventStore, source: str = "s", **options: Any) -> list[str]:
    return [str(r["event_id"]) for r in store.query_source(source, **options)]


def heads(store: EventStore) -> list[dict[str, Any]]:
    items = store.client.scan(TableName=store.table_name)["Items"]
    return [item for item in items if "listing" in item]


def test_a_repeated_batch_is_listed_once(store: EventStore) -> None:
    first = store_many(store, batch(START_MS, ids_from=4), START_MS)
    again = store_many(store, batch(START_MS + 9, ids_from=4), START_MS + 9)
    assert [o.duplicate for o in again] == [False] * 4 + [True] * 6
    assert [o.event_id for o in again][4:] == [o.event_id for o in first][4:]
    expected = sorted({o.event_id for o in first + again})
    assert listed(store) == expected  # 10 + 4 new: the repeats keep their first listing
    assert len(heads(store)) == 2  # the second request's head: its first event without an id


class FailingAfter:
    """The real store, whose writes start failing after ``good`` of them succeeded."""

    def __init__(self, inner: EventStore, good: int) -> None:
        self.inner, self.good = inner, good

    def _spend(self) -> None:
        if self.good <= 0:
            raise StorageUnavailable("throttled (after 9 attempts)")
        self.good -= 1

    def put_if_absent(self, record: Record, **options: Any) -> Any:
        self._spend()
        return self.inner.put_if_absent(record, **options)

    def put_many(self, records: Any, **options: Any) -> None:
        self._spend()
        self.inner.put_many(records, **options)


@pytest.mark.parametrize("good", [0, 1, 3])
def test_a_batch_that_fails_part_way_is_listed_once_after_its_retry(
    store: EventStore, good: int
) -> None:
    """The head is written first: an event is never stored unlisted, and the retry lists only
    what its own request stored (its head, a repeat, lists nothing: the others have an entry
    each)."""
    failing: Any = FailingAfter(store, good)
    with pytest.raises(ServiceUnavailable):
        store_many(failing, batch(START_MS, ids_from=0), START_MS)
    stored_before = set(listed(store))
    assert len(stored_before) == good  # the head, then some of the others
    retried = store_many(store, batch(START_MS + 40, ids_from=0), START_MS + 40)
    assert sum(o.duplicate for o in retried) == len(stored_before)
    assert listed(store) == sorted(o.event_id for o in retried)


def test_listing_resumes_inside_a_batch_and_filters_its_events(store: EventStore) -> None:
    outcomes = store_many(store, batch(START_MS, 30, ids_from=10), START_MS)
    ordered = sorted(o.event_id for o in outcomes)
    assert listed(store, after=ordered[11]) == ordered[12:]
    assert listed(store, after=ordered[11], newest_first=True) == ordered[12:][::-1]
    assert listed(store, upper=ordered[7]) == ordered[:7]
    odd = list(store.query_source("s", event_type="odd"))
    assert len(odd) == 15
    assert {r["type"] for r in odd} == {"odd"}
    assert store.sources() == ["s"]


def test_a_head_is_an_event_whose_listing_no_reader_returns(store: EventStore) -> None:
    outcomes = store_many(store, batch(START_MS, 5), START_MS)
    (head,) = heads(store)
    assert "lsk" in head
    assert head["event_id"]["S"] == outcomes[0].event_id  # the first event without an id
    members = codec.unpack_listing(head["listing"]["B"])
    assert members == [o.event_id for o in outcomes[1:]]
    assert all(ids.millis_of(event_id) == START_MS for event_id in members)
    assert len(store.client.scan(TableName=store.table_name)["Items"]) == 5  # one item an event
    shown = store.get(head["pk"]["S"])
    assert shown is not None
    assert "listing" not in shown
    assert not any("listing" in record for record in store.query_source("s"))


def test_an_event_whose_key_collided_is_listed_by_its_own_entry(store: EventStore) -> None:
    """A later probe's id is not the one the head lists: that event carries its own
    shard key."""
    taken = ids.new_event_id(ids.producer_key("s", "p-2", 0), START_MS - 5)
    store.put_if_absent({"pk": ids.key_of(taken), "event_id": taken, "source": "s", "id": "x"})
    outcomes = store_many(store, batch(START_MS, 5, ids_from=2), START_MS)
    moved = outcomes[2].event_id
    assert ids.key_of(moved) != ids.key_of(ids.new_event_id(ids.producer_key("s", "p-2", 0)))
    assert store.get(ids.key_of(moved)) is not None
    assert sorted([taken, *(o.event_id for o in outcomes)]) == listed(store)
