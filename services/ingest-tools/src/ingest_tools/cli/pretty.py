"""Stored records for reading: ``ingest events show`` (one record, in full) and ``ingest events
tail`` (one line per record). The exact JSON of ``ingest events get`` and ``export`` is
``ingest_tools.cli.common.render``; these are for people."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from ingest_tools.cli.common import is_json_text

if TYPE_CHECKING:
    from ingest.adapters.dynamodb import Record

#: Attributes shown in this order at the top of ``show``; the others follow by name.
_FIRST = ("event_id", "kind", "source", "type", "id", "received_at", "time", "size")
#: Attributes shown in sections of their own, or not at all (the table's layout).
_SECTIONS = frozenset({"data", "body", "headers", "extensions", "pk", "lsk"})
_INDENT = "  "
_EMPTY = re.compile(r"([\[{])\n *\n *([\]}])")
#: How each structural token is laid out (a line break is followed by the indentation).
_LAYOUT = {"{": "{\n", "[": "[\n", "}": "\n}", "]": "\n]", ",": ",\n", ":": ": "}
#: JSON's tokens: a string (escapes and all), a structural character, or a bare value.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^"{}\[\],:\s]+')


def indent_json(text: str, indent: str = _INDENT) -> str:
    """JSON text laid out one member per line, its numbers and strings exactly as written (it is
    re-indented, never parsed into floats)."""
    out: list[str] = []
    depth = 0
    for piece in _TOKENS.findall(text):
        if piece in "{[":
            depth += 1
        elif piece in "}]":
            depth -= 1
        out.append(_LAYOUT.get(piece, piece).replace("\n", "\n" + indent * depth))
    # Raw line breaks are only ever the layout's (JSON strings escape theirs): {} and [] stay.
    return _EMPTY.sub(r"\1\2", "".join(out))


def _block(text: str) -> list[str]:
    return [_INDENT + line for line in text.splitlines()] or [_INDENT]


def _body_lines(record: Record) -> list[str]:
    """A webhook body decoded for reading: JSON laid out, a form one field per line (a field
    holding JSON laid out too), other text as it is, bytes described."""
    body = record.get("body")
    content_type = _text(record.get("content_type") or "")
    if isinstance(body, bytes):
        return [f"{_INDENT}({len(body)} bytes, not text: ingest events get shows them as base64)"]
    text = str(body or "")
    if is_json_text(text):
        return _block(indent_json(text))
    if "x-www-form-urlencoded" in content_type:
        lines = []
        for name, value in parse_qsl(text, keep_blank_values=True):
            if value.strip()[:1] in ("{", "[") and is_json_text(value):
                lines.append(f"{_INDENT}{name} =")
                lines.extend(_INDENT + line for line in _block(indent_json(value)))
            else:
                lines.append(f"{_INDENT}{name} = {value}")
        return lines or [_INDENT]
    return _block(text)


def show(record: Record) -> str:
    """One record in full: its attributes, the request headers a webhook kept, and its data or
    body decoded for reading."""
    lines = []
    names = [n for n in _FIRST if n in record]
    names += sorted(n for n in record if n not in _FIRST and n not in _SECTIONS)
    width = max((len(n) for n in names), default=0)
    for name in names:
        lines.append(f"{name.ljust(width)}  {_printable(_text(record[name]))}")
    extensions = record.get("extensions")
    if isinstance(extensions, str) and is_json_text(extensions):
        lines += ["", "extensions:", *_block(indent_json(extensions))]
    headers = record.get("headers")
    if isinstance(headers, str) and is_json_text(headers):
        kept = json.loads(headers)
        if isinstance(kept, dict) and kept:
            lines += ["", "headers (as the provider sent them, credentials left out):"]
            lines += [f"{_INDENT}{name}: {value}" for name, value in kept.items()]
    if "body" in record or record.get("kind") == "webhook":
        content_type = _text(record.get("content_type") or "no content type")
        lines += ["", f"body ({content_type}):", *_body_lines(record)]
    elif "data" in record:
        data = record["data"]
        shown = indent_json(data) if isinstance(data, str) and is_json_text(data) else _text(data)
        lines += ["", "data:", *_block(shown)]
    return "\n".join(lines)


def line(record: Record) -> str:
    """One record as one line: when it arrived, its source, type and event id, the producer's
    id (or the delivery id) and its size."""
    received = _text(record.get("received_at", ""))
    clock = received[11:23] if len(received) >= 23 else received
    parts = [
        clock,
        _text(record.get("source", "")),
        _text(record.get("type", "")),
        _text(record.get("event_id", "")),
    ]
    if record.get("id"):
        parts.append(f"id={_text(record['id'])}")
    if record.get("kind") == "webhook":
        parts.append("webhook")
    size = record.get("size")
    if isinstance(size, int):
        parts.append(f"{size} B")
    return "  ".join(_printable(p) for p in parts)


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _printable(text: str) -> str:
    """No control characters in a line a terminal shows (an id is the producer's text)."""
    return "".join(c if c.isprintable() else "?" for c in text)
