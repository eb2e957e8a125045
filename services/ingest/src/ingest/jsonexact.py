"""Strict JSON: exact numbers, no NaN/Infinity, bounded nesting, valid UTF-8 only, and I-JSON's
unique member names (RFC 7493): a repeated name is rejected, never resolved last-wins.

Floats are parsed as ``Decimal`` so ``0.1`` stays ``0.1`` all the way to storage; integers are
Python ints and already exact. Serialisation falls back to a small writer only when a Decimal is
present, so integer-only payloads keep the speed of the C encoder.
"""

from __future__ import annotations

import json
from decimal import Decimal, DecimalException
from typing import Any

MAX_DEPTH = 64
#: The exponent range of Python's default decimal context: a number outside it cannot be held
#: (or computed with) as an exact decimal, so it is refused rather than stored.
MAX_EXPONENT = 999_999

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class JsonError(ValueError):
    """The text is not JSON we accept; the message is safe to show to the client.

    ``code`` is the stable error code a client sees (``invalid_json``, ``invalid_encoding``,
    ``invalid_number``, ``duplicate_member``).
    """

    def __init__(self, message: str, code: str = "invalid_json") -> None:
        super().__init__(message)
        self.code = code


def _reject_constant(name: str) -> Any:
    raise JsonError(f"{name} is not valid JSON")


def _exact_number(text: str) -> Decimal:
    """A JSON number with a fraction or exponent, exactly; refused when no decimal can hold it."""
    try:
        value = Decimal(text)
    except (DecimalException, ValueError):
        value = None
    if value is None or not value.is_finite() or abs(value.adjusted()) > MAX_EXPONENT:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise JsonError(
            f"the number {shown} is out of range: exponents are limited to ±{MAX_EXPONENT}",
            code="invalid_number",
        )
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise JsonError(
                f"the member name {name[:64]!r} appears more than once in one object",
                code="duplicate_member",
            )
        seen.add(name)
    raise AssertionError("unreachable: a shorter dict means a repeated name")


def _nesting_depth_exceeds(text: str, limit: int) -> bool:
    """Cheap pre-scan so hostile nesting never reaches the recursive parser."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def decode_utf8(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonError(f"body is not valid UTF-8 (byte {exc.start})", "invalid_encoding") from None
    return text[1:] if text.startswith("\ufeff") else text


def loads(text: str) -> Any:
    """Parse JSON text exactly, or raise :class:`JsonError`."""
    if _nesting_depth_exceeds(text, MAX_DEPTH):
        raise JsonError(f"JSON is nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(
            text,
            parse_float=_exact_number,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_members,
        )
    except JsonError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonError(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (
        ValueError,
        ArithmeticError,
        RecursionError,
    ) as exc:  # e.g. integers beyond the digit limit
        raise JsonError(f"malformed JSON: {exc}") from None


def _contains_decimal(value: Any) -> bool:
    if isinstance(value, Decimal):
        return True
    if isinstance(value, dict):
        return any(_contains_decimal(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_decimal(v) for v in value)
    return False


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, Decimal):
        out.append(str(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(_dumps(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        out.append(_dumps(value))


def dumps(value: Any) -> str:
    """Compact JSON with numbers exactly as they were parsed."""
    if _contains_decimal(value):
        out: list[str] = []
        _write(value, out)
        return "".join(out)
    return _dumps(value)


def dumps_sized(value: Any) -> tuple[str, int]:
    """:func:`dumps` plus the UTF-8 size; rejects strings that are not valid Unicode."""
    text = dumps(value)
    try:
        return text, len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise JsonError(
            "JSON contains a string that is not valid Unicode", "invalid_encoding"
        ) from None
