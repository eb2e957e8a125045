"""A payload the reader cannot decode (corrupt, or a codec it does not know) is reported by every
reader, never shown as its raw bytes, and never stops a listing, an export or a replay."""

from __future__ import annotations

import pytest
from ingest.adapters.dynamodb import _unmarshal
from ingest_tools.cli.common import render
from ingest_tools.cli.replay import BadRecord, from_record

ITEM = {
    "pk": {"S": "7abc-8def-0123456789ab"},
    "event_id": {"S": "0193a1b2-c3d4-7abc-8def-0123456789ab"},
    "source": {"S": "s"},
    "type": {"S": "t"},
    "lsk": {"S": "s#3"},
}


@pytest.mark.parametrize(
    "payload",
    [
        {"data": {"B": b"not deflate"}, "codec": {"S": "deflate"}},
        {"data": {"B": b"x"}, "codec": {"S": "zstd"}},
        {"body": {"S": "s3://bucket/key"}, "codec": {"S": "s3"}},  # no fetcher in this reader
    ],
    ids=["corrupt", "unknown-codec", "unresolved-reference"],
)
def test_an_undecodable_payload_is_reported_not_shown(
    payload: dict[str, dict[str, object]],
) -> None:
    record = _unmarshal({**ITEM, **payload})
    assert "codec" in record  # left as stored, so that readers can tell
    with pytest.raises(ValueError, match="could not be decoded"):
        render(record)
    with pytest.raises(BadRecord, match="could not be decoded"):
        from_record(record)


def test_a_decoded_record_shows_its_exact_data_and_not_the_layout() -> None:
    import zlib

    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = '{"total":12.50,"items":[' + ",".join(['{"sku":"a"}'] * 50) + "]}"
    packed = packer.compress(data.encode()) + packer.flush()
    record = _unmarshal({**ITEM, "data": {"B": packed}, "codec": {"S": "deflate"}})
    assert record["data"] == data
    line = render(record)
    assert line.endswith(f',"data":{data}}}')  # exact: 12.50 stays 12.50
    assert '"lsk"' not in line
    assert '"codec"' not in line
    assert from_record(record).data == data
