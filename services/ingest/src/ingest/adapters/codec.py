"""The stored format of a record: its payload codec, its listing shard key, and what an item weighs.

This is the one definition of how a record's payload (``data`` for ``/events``, ``body`` for
webhooks) is written to a DynamoDB item and read back; docs/storage-format.md describes the same
format for stream consumers (contract section 4). Standard library only (and the service's limits
and ids), so the cost model and the CLI can use it without the AWS SDK.

**Payload codec.** An item whose payload is stored as it is has no ``codec`` attribute: ``data``
is JSON text (S), ``body`` the exact bytes (S when they are UTF-8, else B). Otherwise ``codec``
(S) names the steps a reader applies, in order, joined by ``+``:

- ``deflate``: the payload attribute is B holding raw DEFLATE (RFC 1951: no zlib or gzip
  header; ``zlib.decompress(value, -15)``, ``inflateInit2(-15)``) of the payload's UTF-8 text
  (``data``) or exact bytes (``body``). Written at level 6, only when the item would otherwise
  exceed :data:`COMPRESS_ABOVE_BYTES` (one write unit) and the compressed payload is smaller.
- ``s3``: the payload attribute is S holding a reference ``s3://BUCKET/KEY``; the object holds
  the payload (after which any further step applies to the object's bytes: ``s3+deflate``). The
  item's ``payload_size`` (N) is the payload's exact length in bytes and ``sha256`` (S, lower-case
  hex) its digest; a reader checks both. Readers resolve references through a fetch function given
  to :func:`decode`; without one a reference cannot be read and :class:`UnresolvedReference` says
  so. The service writes ``s3`` (the object is the exact payload, under ``payloads/SHA256``) when
  an item would still exceed :data:`CLAIM_CHECK_ABOVE_BYTES` after deflating, and never deflates
  a payload over :data:`DEFLATE_AT_MOST_BYTES` first (docs/decisions/0034).

After decoding, ``data`` is the exact JSON text and ``body`` the exact bytes (as text when they
are UTF-8, the same rule as when it was written), whatever the codec.

**Listing shard key.** ``lsk`` (S) = ``SOURCE#N`` with ``N`` = :func:`shard_of` the event id: a
deterministic function of the event id's key bits (random, or the hash of the producer id), so a
retried write lands in the same shard. The ``by_source_shard`` index (hash ``lsk``, range
``event_id``) spreads one source over ``shards`` index partitions; readers query shards
``0..MAX_SHARDS-1`` and merge them in ``event_id`` (time) order.

**A batch's listing.** A request that stores at least :data:`LISTED_TOGETHER_AT_LEAST` events
of one source writes one of them first, its *head*, with ``listing`` (B): the ids the others are
about to get, 16 bytes each (:func:`pack_listing`). The head's index entry is theirs: they carry
no ``lsk``. A listed id counts only while the item under its key has exactly that ``event_id``: a
repeat of a producer id stored earlier keeps its first listing, and an event never written lists
nothing. An event whose key collided (a later probe) carries its own ``lsk``. Every item is still
one event; readers expand a head's listing and return no ``listing`` attribute.

**Item sizes** follow DynamoDB's rules: each attribute weighs its name's UTF-8 bytes plus its
value (S: UTF-8 bytes; B: bytes; N: one byte per two significant digits, plus one). A write
costs one write unit per started KB of the item, in the table and again in each index the item
is projected into (an index entry: its keys, the table's key and the projected attributes).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ingest import ids
from ingest.limits import (
    DEFAULT_LISTING_SHARDS,
    MAX_BODY_BYTES,
    MAX_LISTING_SHARDS,
    MAX_WEBHOOK_BYTES,
)

Scalar = str | int | bytes

#: The attribute naming the payload's codec; absent when the payload is stored as it is.
CODEC_ATTRIBUTE: Final = "codec"
#: The payload attributes: ``data`` (``/events``) and ``body`` (webhooks); a record has one.
PAYLOAD_ATTRIBUTES: Final = ("data", "body")
DEFLATE: Final = "deflate"
S3: Final = "s3"
#: An item above this many bytes costs more than one write unit: its payload is compressed.
COMPRESS_ABOVE_BYTES: Final = 1024
COMPRESS_LEVEL: Final = 6
#: The most a stored payload may inflate to: the largest payload the service accepts.
MAX_PAYLOAD_BYTES: Final = max(MAX_WEBHOOK_BYTES, MAX_BODY_BYTES)
#: An item still larger than this once deflated keeps its payload in S3 instead (claim check).
CLAIM_CHECK_ABOVE_BYTES: Final = 64 * 1024
#: A payload larger than this goes to S3 as it is: no deflate ratio brings it under the budget.
DEFLATE_AT_MOST_BYTES: Final = 1024 * 1024
#: The attributes of a payload held by reference: its SHA-256 (hex) and its length in bytes.
DIGEST_ATTRIBUTE: Final = "sha256"
PAYLOAD_SIZE_ATTRIBUTE: Final = "payload_size"
#: Where payloads are put in the bucket: ``payloads/`` + the SHA-256 of their bytes.
OBJECT_PREFIX: Final = "payloads/"
#: The listing shard key attribute, the index on it, and the most shards a writer may use.
SHARD_ATTRIBUTE: Final = "lsk"
LISTING_INDEX: Final = "by_source_shard"
#: What the listing index projects beside its keys and the table's key (``--type`` filters on it).
LISTING_PROJECTION: Final = ("type",)
#: The table's key; the listing index's entries carry it.
TABLE_KEY: Final = "pk"
#: A batch's listing (see the module docstring): the head's attribute holding the other events'
#: ids, and the fewest events of one source in one request that get one (below it a listing
#: costs more than an index entry per event).
LISTING_ATTRIBUTE: Final = "listing"
LISTING_BYTES_PER_EVENT: Final = 16
LISTED_TOGETHER_AT_LEAST: Final = 3
MAX_SHARDS: Final = MAX_LISTING_SHARDS
DEFAULT_SHARDS: Final = DEFAULT_LISTING_SHARDS
#: Bytes DynamoDB adds to each item (and each index entry) for storage billing.
STORAGE_OVERHEAD_BYTES: Final = 100
WRITE_UNIT_BYTES: Final = 1024


class CodecError(ValueError):
    """A stored payload that cannot be decoded (an unknown codec, corrupt data)."""


class UnresolvedReference(CodecError):
    """A payload stored by reference, read without a way to fetch it."""


Fetch = Callable[[str], bytes]


# --------------------------------------------------------------------------------------------
# Sizes


def _number_size(value: int | str) -> int:
    digits = str(value).lstrip("-").replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def attribute_size(name: str, value: Scalar) -> int:
    """What one attribute weighs in an item (DynamoDB's rules for S, B and N)."""
    size = len(name.encode("utf-8"))
    if isinstance(value, str):
        return size + len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return size + len(value)
    return size + _number_size(value)


def item_size(record: Mapping[str, Scalar]) -> int:
    """The size of an item holding ``record``'s attributes, as DynamoDB counts it."""
    return sum(attribute_size(name, value) for name, value in record.items())


def marshalled_size(item: Mapping[str, Mapping[str, object]]) -> int:
    """The size of a marshalled item (``{"name": {"S": "..."}}``), as DynamoDB counts it."""
    total = 0
    for name, typed in item.items():
        ((kind, value),) = typed.items()
        if kind == "N":
            total += len(name.encode("utf-8")) + _number_size(str(value))
        elif kind in ("S", "B") and isinstance(value, str | bytes):
            total += attribute_size(name, value)
        else:
            raise ValueError(f"attribute {name!r} of type {kind} is not sized here")
    return total


def index_entry(item: Mapping[str, Scalar]) -> dict[str, Scalar]:
    """What the listing index holds for an item: its keys, the table's key and the projected
    attributes (an item without a shard key is not in the index: an empty entry)."""
    if SHARD_ATTRIBUTE not in item:
        return {}
    names = (TABLE_KEY, SHARD_ATTRIBUTE, "event_id", *LISTING_PROJECTION)
    return {name: item[name] for name in names if name in item}


def write_units(size: int) -> int:
    """Write request units for writing an item (or index entry) of ``size`` bytes."""
    return max(1, -(-size // WRITE_UNIT_BYTES))


# --------------------------------------------------------------------------------------------
# The listing shard key


def shard_of(event_id: str, shards: int) -> int:
    """The listing shard of an event: its id's last 32 key bits modulo ``shards``."""
    return int(event_id[-8:], 16) % shards


def shard_key(source: str, shard: int) -> str:
    return f"{source}#{shard}"


def source_of_shard_key(key: str) -> str:
    """The source a shard key names (a source may itself contain ``#``)."""
    return key.rpartition("#")[0]


def pack_listing(event_ids: Sequence[str]) -> bytes:
    """A batch head's ``listing`` value: each event id's 16 bytes, in order."""
    return b"".join(ids.to_bytes(event_id) for event_id in event_ids)


def unpack_listing(value: bytes) -> list[str]:
    """The event ids a batch head's ``listing`` value holds (:func:`pack_listing`)."""
    size = LISTING_BYTES_PER_EVENT
    return [ids.from_bytes(value[at : at + size]) for at in range(0, len(value) - size + 1, size)]


def take_listing(record: dict[str, Scalar]) -> list[str]:
    """Remove a batch head's ``listing`` from ``record`` and return the ids it held (none for any
    other event): readers expand it and never show it."""
    value = record.pop(LISTING_ATTRIBUTE, None)
    return unpack_listing(value) if isinstance(value, bytes) else []


# --------------------------------------------------------------------------------------------
# The payload codec


@dataclass(frozen=True)
class Claim:
    """A payload to put in S3 (``bucket``, ``key``) before the item that refers to it is written."""

    bucket: str
    key: str
    body: bytes
    sha256: str

    @property
    def reference(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def _raw_payload(record: Mapping[str, Scalar]) -> tuple[str, bytes] | None:
    """The payload attribute of an unencoded record and its exact bytes (None: no payload)."""
    for name in PAYLOAD_ATTRIBUTES:
        value = record.get(name)
        if isinstance(value, bytes):
            return name, value
        if isinstance(value, str):
            return name, value.encode("utf-8", "surrogatepass")
    return None


def _by_reference(
    record: Mapping[str, Scalar], name: str, raw: bytes, bucket: str
) -> tuple[dict[str, Scalar], Claim]:
    import hashlib

    digest = hashlib.sha256(raw).hexdigest()
    claim = Claim(bucket, f"{OBJECT_PREFIX}{digest}", raw, digest)
    item = dict(record)
    item[name] = claim.reference
    item[CODEC_ATTRIBUTE] = S3
    item[DIGEST_ATTRIBUTE] = digest
    item[PAYLOAD_SIZE_ATTRIBUTE] = len(raw)
    return item, claim


def encode_for(
    record: Mapping[str, Scalar], bucket: str | None
) -> tuple[dict[str, Scalar], Claim | None]:
    """The item attributes to write for ``record`` and, when its payload goes to S3 (``bucket``
    given and the item over :data:`CLAIM_CHECK_ABOVE_BYTES` even deflated), the object to put
    first. Without a bucket this is :func:`encode`."""
    payload = _raw_payload(record) if CODEC_ATTRIBUTE not in record else None
    if not bucket or payload is None:
        return encode(record), None
    name, raw = payload
    if len(raw) > DEFLATE_AT_MOST_BYTES:
        return _by_reference(record, name, raw, bucket)
    item = encode(record)
    if item_size(item) > CLAIM_CHECK_ABOVE_BYTES:
        return _by_reference(record, name, raw, bucket)
    return item, None


def _deflate(raw: bytes) -> bytes:
    packer = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    return packer.compress(raw) + packer.flush()


def _inflate(packed: bytes) -> bytes:
    unpacker = zlib.decompressobj(-15)
    try:
        raw = unpacker.decompress(packed, MAX_PAYLOAD_BYTES)
    except zlib.error as exc:
        raise CodecError(f"the stored payload is not raw DEFLATE: {exc}") from None
    if unpacker.unconsumed_tail or not unpacker.eof:
        raise CodecError("the stored payload is truncated or inflates beyond the payload limit")
    return raw


def encode(record: Mapping[str, Scalar]) -> dict[str, Scalar]:
    """The item attributes to write for ``record``: its payload compressed when the item would
    cost more than one write unit and compressing makes it smaller; else the record as it is."""
    item = dict(record)
    if CODEC_ATTRIBUTE in item:  # already encoded (a reference, or written by a caller)
        return item
    for name in PAYLOAD_ATTRIBUTES:
        value = item.get(name)
        if value is None or isinstance(value, int):
            continue
        if item_size(item) <= COMPRESS_ABOVE_BYTES:
            return item
        raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        packed = _deflate(raw)
        if len(packed) + attribute_size(CODEC_ATTRIBUTE, DEFLATE) < len(raw):
            item[name] = packed
            item[CODEC_ATTRIBUTE] = DEFLATE
        return item
    return item


def _payload_value(name: str, raw: bytes) -> Scalar:
    if name == "data":
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CodecError("the stored data is not UTF-8 text") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def decode(record: Mapping[str, Scalar], fetch: Fetch | None = None) -> dict[str, Scalar]:
    """The record an item holds: its payload as written (exact JSON text, exact bytes), the
    codec attribute gone. ``fetch`` reads a reference (``s3://BUCKET/KEY``) to its bytes."""
    codec = record.get(CODEC_ATTRIBUTE)
    decoded = dict(record)
    if codec is None:
        return decoded
    if not isinstance(codec, str):
        raise CodecError(f"the codec attribute is not text: {codec!r}")
    del decoded[CODEC_ATTRIBUTE]
    name = next((n for n in PAYLOAD_ATTRIBUTES if n in record), None)
    if name is None:
        return decoded
    value = record[name]
    raw: bytes | None = None
    for step in codec.split("+"):
        if step == S3:
            if not isinstance(value, str):
                raise CodecError("a payload reference must be text")
            if fetch is None:
                raise UnresolvedReference(f"{name} is stored at {value}: no way to fetch it here")
            raw = fetch(value)
        elif step == DEFLATE:
            packed = raw if raw is not None else value
            if not isinstance(packed, bytes):
                raise CodecError("a deflated payload must be binary")
            raw = _inflate(packed)
        else:
            raise CodecError(f"unknown codec {step!r} in {codec!r}")
    if raw is None:
        return decoded
    if S3 in codec.split("+"):
        _check_claimed(record, raw)
        decoded.pop(DIGEST_ATTRIBUTE, None)
        decoded.pop(PAYLOAD_SIZE_ATTRIBUTE, None)
    decoded[name] = _payload_value(name, raw)
    return decoded


def _check_claimed(record: Mapping[str, Scalar], raw: bytes) -> None:
    """A payload read by reference is the one the item names: its length and SHA-256."""
    import hashlib

    size, digest = record.get(PAYLOAD_SIZE_ATTRIBUTE), record.get(DIGEST_ATTRIBUTE)
    if size is not None and size != len(raw):
        raise CodecError(f"the referenced payload has {len(raw)} bytes, not {size!r}")
    if digest is not None and digest != hashlib.sha256(raw).hexdigest():
        raise CodecError("the referenced payload does not match its SHA-256")
