"""The stored format (ingest.adapters.codec): payload compression is exact and only happens when
it saves a write unit's worth; references need a fetcher; item sizes follow DynamoDB's rules."""

from __future__ import annotations

import json
import os
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ingest.adapters import codec

BASE: dict[str, codec.Scalar] = {
    "pk": "7abc-8def-0123456789ab",
    "event_id": "0193a1b2-c3d4-7abc-8def-0123456789ab",
    "source": "shop",
    "type": "order.created",
    "received_at": "2026-11-30T12:00:00.123Z",
    "request_id": "Ab1CdEfGhIjKlM=",
    "expires_at": 1_798_000_000,
}


def _data(size: int) -> str:
    """JSON text of about ``size`` bytes with the repetition of real events."""
    items = [
        {"sku": f"SKU-{n:05d}", "qty": n % 7 + 1, "price": f"{n % 90 + 9}.99"} for n in range(size)
    ]
    text = json.dumps({"items": items}, separators=(",", ":"))
    return text[: size - 2] + "]}" if len(text) > size else text


def test_small_items_are_stored_as_they_are() -> None:
    record = {**BASE, "data": '{"total":12.50}'}
    assert codec.encode(record) == record
    assert codec.CODEC_ATTRIBUTE not in codec.encode(record)


def test_an_item_over_one_write_unit_gets_a_deflated_payload_that_reads_back_exactly() -> None:
    data = json.dumps({"items": [{"sku": f"SKU-{n}", "price": 1.10} for n in range(40)]})
    record = {**BASE, "data": data}
    assert codec.item_size(record) > codec.COMPRESS_ABOVE_BYTES
    item = codec.encode(record)
    assert item["codec"] == "deflate"
    assert isinstance(item["data"], bytes)
    assert zlib.decompress(item["data"], -15).decode() == data  # the documented format
    assert codec.item_size(item) < codec.item_size(record)
    assert codec.decode(item) == record


def test_incompressible_payloads_stay_as_they_are() -> None:
    body = os.urandom(2000)
    record = {**BASE, "body": body}
    assert codec.encode(record) == record


def test_webhook_bodies_keep_their_type() -> None:
    text = "payload=" + "a" * 3000
    binary = b"\xff\xfe" + b"a" * 3000
    for body in (text, binary):
        item = codec.encode({**BASE, "body": body})
        assert item["codec"] == "deflate"
        assert codec.decode(item)["body"] == body


def test_encoding_an_encoded_item_changes_nothing() -> None:
    item = codec.encode({**BASE, "data": _data(3000)})
    assert codec.encode(item) == item


def test_references_need_a_fetcher() -> None:
    body = b"\xff" * 5000
    item = {**BASE, "body": "s3://bucket/key", "codec": "s3+deflate", "size": len(body)}
    with pytest.raises(codec.UnresolvedReference):
        codec.decode(item)
    packed = zlib.compressobj(6, zlib.DEFLATED, -15)
    stored = packed.compress(body) + packed.flush()
    fetched: list[str] = []

    def fetch(uri: str) -> bytes:
        fetched.append(uri)
        return stored

    assert codec.decode(item, fetch)["body"] == body
    assert fetched == ["s3://bucket/key"]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({**BASE, "data": b"not deflate", "codec": "deflate"}, "not raw DEFLATE"),
        ({**BASE, "data": b"x", "codec": "brotli"}, "unknown codec"),
        ({**BASE, "data": "text", "codec": "deflate"}, "must be binary"),
    ],
)
def test_unreadable_payloads_are_errors_never_raw_values(
    item: dict[str, codec.Scalar], message: str
) -> None:
    with pytest.raises(codec.CodecError, match=message):
        codec.decode(item)


def test_a_payload_that_inflates_beyond_the_limit_is_refused() -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = packer.compress(b"0" * (codec.MAX_PAYLOAD_BYTES + 1)) + packer.flush()
    with pytest.raises(codec.CodecError, match="beyond"):
        codec.decode({**BASE, "data": bomb, "codec": "deflate"})


@given(st.text(max_size=3000), st.binary(max_size=3000))
def test_any_payload_round_trips(text: str, binary: bytes) -> None:
    text = text.encode("utf-8", "ignore").decode("utf-8")
    for record in ({**BASE, "data": text}, {**BASE, "body": binary}, {**BASE, "body": text}):
        item = codec.encode(record)
        decoded = codec.decode(item)
        if "body" in record and isinstance(record["body"], bytes):
            # bytes that happen to be UTF-8 come back as text, as the service stores them
            assert decoded["body"] in (record["body"], record["body"].decode("utf-8", "replace"))
            raw = decoded["body"]
            assert (raw if isinstance(raw, bytes) else raw.encode()) == record["body"]
        else:
            assert decoded == record


def test_sizes_follow_dynamodb_rules() -> None:
    # name bytes + value bytes; numbers: one byte per two significant digits, plus one
    assert codec.attribute_size("pk", "abc") == 5
    assert codec.attribute_size("b", b"\x00\x01") == 3
    assert codec.attribute_size("é", "é") == 4
    assert codec.attribute_size("n", 1_798_000_000) == 1 + 2 + 1  # 1798: 2 bytes, plus 1
    assert codec.attribute_size("n", 123) == 1 + 2 + 1
    assert codec.marshalled_size({"pk": {"S": "abc"}, "n": {"N": "123"}, "b": {"B": b"xy"}}) == (
        5 + 4 + 3
    )
    assert codec.write_units(1024) == 1
    assert codec.write_units(1025) == 2
    assert codec.write_units(0) == 1


def test_shards_are_deterministic_and_spread() -> None:
    from ingest import ids

    counts = [0] * 16
    for _ in range(4000):
        event_id = ids.new_event_id(ids.random_key())
        shard = codec.shard_of(event_id, 16)
        assert shard == codec.shard_of(event_id, 16)
        counts[shard] += 1
    assert min(counts) > 4000 / 16 * 0.7
    assert codec.source_of_shard_key(codec.shard_key("a#b", 3)) == "a#b"
