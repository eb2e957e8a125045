"""The table `ingest serve` creates (EventStore.ensure_table) is the table modules/event-store
declares: the same key, attributes, indexes, projections and TTL attribute, with and without the
legacy index of the migration (docs/storage-format.md)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ingest.adapters.dynamodb import EventStore

from tests.support import ROOT

MAIN_TF = (ROOT / "modules" / "event-store" / "main.tf").read_text("utf-8")


def _blocks(text: str, header: str) -> list[str]:
    """The bodies of every ``header {`` block (braces balanced)."""
    bodies = []
    for match in re.finditer(re.escape(header) + r"\s*\{", text):
        depth, start = 1, match.end()
        end = start
        while depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        bodies.append(text[start : end - 1])
    return bodies


def _string(body: str, name: str) -> str | None:
    found = re.search(rf'^\s*{name}\s*=\s*"([^"]*)"', body, re.M)
    return found.group(1) if found else None


def _strings(body: str, name: str) -> list[str]:
    found = re.search(rf"^\s*{name}\s*=\s*\[([^\]]*)\]", body, re.M)
    return re.findall(r'"([^"]*)"', found.group(1)) if found else []


def _for_each(body: str) -> list[str]:
    """The names a ``dynamic`` block's ``for_each = var.x ? ["a"] : []`` yields when on."""
    found = re.search(r"for_each\s*=\s*\S+\s*\?\s*\[([^\]]*)\]", body)
    assert found is not None, body
    return re.findall(r'"([^"]+)"', found.group(1))


def _index(body: str, name: str | None = None) -> dict[str, Any]:
    keys = [{"AttributeName": _string(body, "hash_key"), "KeyType": "HASH"}]
    if _string(body, "range_key"):
        keys.append({"AttributeName": _string(body, "range_key"), "KeyType": "RANGE"})
    projection: dict[str, Any] = {"ProjectionType": _string(body, "projection_type")}
    if _strings(body, "non_key_attributes"):
        projection["NonKeyAttributes"] = _strings(body, "non_key_attributes")
    return {"IndexName": name or _string(body, "name"), "KeySchema": keys, "Projection": projection}


def module_table(*, legacy: bool) -> dict[str, Any]:
    """What modules/event-store/main.tf creates, in CreateTable's terms."""
    (table,) = _blocks(MAIN_TF, 'resource "aws_dynamodb_table" "this"')
    top_level = re.sub(r"\n  [a-z_\" ]+\{.*?\n  \}", "", table, flags=re.S)  # nested blocks out
    attributes = {_string(b, "name"): _string(b, "type") for b in _blocks(table, "\n  attribute")}
    indexes = [_index(b) for b in _blocks(table, "\n  global_secondary_index")]
    if legacy:
        (dynamic_attribute,) = _blocks(table, 'dynamic "attribute"')
        for name in _for_each(dynamic_attribute):
            attributes[name] = _string(dynamic_attribute, "type")
        (dynamic_index,) = _blocks(table, 'dynamic "global_secondary_index"')
        (index_name,) = _for_each(dynamic_index)
        indexes.append(_index(dynamic_index, index_name))
    (ttl,) = _blocks(table, "\n  ttl")
    return {
        "AttributeDefinitions": sorted(
            ({"AttributeName": n, "AttributeType": t} for n, t in attributes.items()),
            key=lambda a: str(a["AttributeName"]),
        ),
        "KeySchema": [{"AttributeName": _string(top_level, "hash_key"), "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": sorted(indexes, key=lambda i: i["IndexName"]),
        "BillingMode": _string(top_level, "billing_mode"),
        "TTL": _string(ttl, "attribute_name"),
    }


class Recorder:
    """A DynamoDB client that has no table yet and records the one it is asked to create."""

    def __init__(self) -> None:
        self.created: dict[str, Any] = {}
        self.ttl: dict[str, Any] = {}

    def describe_table(self, **_: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "DescribeTable")

    def create_table(self, **kwargs: Any) -> None:
        self.created = kwargs

    def get_waiter(self, _: str) -> Any:
        class Waiter:
            def wait(self, **__: Any) -> None:
                return None

        return Waiter()

    def update_time_to_live(self, **kwargs: Any) -> None:
        self.ttl = kwargs


def ensured_table(*, legacy: bool) -> dict[str, Any]:
    client = Recorder()
    EventStore("t", client=client).ensure_table(legacy_index=legacy)  # type: ignore[arg-type]
    created = client.created
    return {
        "AttributeDefinitions": sorted(
            created["AttributeDefinitions"], key=lambda a: str(a["AttributeName"])
        ),
        "KeySchema": created["KeySchema"],
        "GlobalSecondaryIndexes": sorted(
            created["GlobalSecondaryIndexes"], key=lambda i: i["IndexName"]
        ),
        "BillingMode": created["BillingMode"],
        "TTL": client.ttl["TimeToLiveSpecification"]["AttributeName"],
    }


@pytest.mark.parametrize("legacy", [False, True], ids=["new", "during-migration"])
def test_ensure_table_creates_what_the_module_declares(legacy: bool) -> None:
    assert ensured_table(legacy=legacy) == module_table(legacy=legacy)


def test_the_listing_index_is_keys_and_type_only() -> None:
    (listing,) = module_table(legacy=False)["GlobalSecondaryIndexes"]
    assert listing["IndexName"] == "by_source_shard"
    assert listing["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["type"]}
