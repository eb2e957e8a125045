"""Event ids: UUIDv7 strings whose 74 non-time bits double as the table's partition key.

``event_id = <48-bit ms timestamp> | 7 | key bits``. The key bits are random for events without a
producer id, and a hash of (source, producer id, probe) for events with one. So one conditional
PutItem on ``pk = key_of(event_id)`` both stores the event and enforces at-most-once per
(source, id), and ``get by event_id`` is a GetItem: no marker item, no extra index for lookups.
See docs/decisions/0001-key-schema.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

_RAND_A_BITS = 12
_RAND_B_BITS = 62
KEY_BITS = _RAND_A_BITS + _RAND_B_BITS  # 74


def _format(ms: int, key: int) -> str:
    rand_a = (key >> _RAND_B_BITS) & 0xFFF
    rand_b = key & ((1 << _RAND_B_BITS) - 1)
    value = (ms & 0xFFFFFFFFFFFF) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return _dashed(f"{value:032x}")


def _dashed(h: str) -> str:
    """32 hex digits as a UUID's text (8-4-4-4-12)."""
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def to_bytes(event_id: str) -> bytes:
    """An event id's 16 bytes (the UUID's)."""
    return bytes.fromhex(event_id.replace("-", ""))


def from_bytes(raw: bytes) -> str:
    """The event id of 16 bytes (:func:`to_bytes`)."""
    return _dashed(raw.hex())


def random_key() -> int:
    return int.from_bytes(os.urandom(10), "big") >> (80 - KEY_BITS)


#: The key space of ``POST /webhooks/{source}`` deliveries. ``/events`` keeps the original
#: three-member framing, so keys stored before webhooks had a space of their own stay valid.
WEBHOOK_SPACE = "webhook"


def producer_key(source: str, producer_id: str, probe: int = 0, *, space: str | None = None) -> int:
    """Deterministic key bits for (source, id) in a key ``space``.

    ``probe`` > 0 only after a hash collision. ``/events`` (``space`` None) and webhooks
    (:data:`WEBHOOK_SPACE`) never share a key, whatever the source names and ids: the framed
    arrays differ in length.
    """
    # JSON framing keeps every (source, id) pair distinct, whatever characters they contain.
    members: list[object] = [source, producer_id, probe]
    if space is not None:
        members.insert(0, space)
    framed = json.dumps(members, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(framed.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:10], "big") >> (80 - KEY_BITS)


def new_event_id(key: int, now_ms: int | None = None) -> str:
    return _format(time.time_ns() // 1_000_000 if now_ms is None else now_ms, key)


def key_of(event_id: str) -> str:
    """The partition key an event id lives under: everything after the timestamp."""
    return event_id[14:]


def is_event_id(value: str) -> bool:
    if len(value) != 36 or value[14] != "7" or value != value.lower():
        return False
    if [i for i, ch in enumerate(value) if ch == "-"] != [8, 13, 18, 23]:
        return False
    return all(ch in "0123456789abcdef-" for ch in value)


def millis_of(event_id: str) -> int:
    """The millisecond an event id was assigned in (its 48-bit timestamp)."""
    return int(event_id[:8] + event_id[9:13], 16)


def time_bound(ms: int) -> str:
    """The smallest event id of a millisecond: a range bound for time-ordered queries."""
    h = f"{ms & 0xFFFFFFFFFFFF:012x}"
    return f"{h[:8]}-{h[8:12]}-"
