"""A reader for the literal subset of HCL that variable defaults and tfvars files use.

Strings (with their escapes), numbers, true/false/null, tuples ``[...]`` and objects ``{ k = v }``
(keys as names or strings, ``=`` or ``:``, entries separated by commas or newlines), and comments.
Anything else (references, function calls, templates with ``${...}``, heredocs) is a ValueError:
the callers only need what terraform-docs and a tfvars file hold, and must not guess at the rest.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r]+)
  | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<newline>\n)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<punct>[\[\]{},=:])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"not a literal at {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        if kind not in ("space", "comment"):
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens


def _string(token: str) -> str:
    body = token[1:-1]
    if "${" in body or "%{" in body:
        raise ValueError(f"a template, not a literal: {token}")

    def unescape(match: re.Match[str]) -> str:
        code = match.group(1)
        if code in _ESCAPES:
            return _ESCAPES[code]
        if code.startswith("u"):
            return chr(int(code[1:], 16))
        raise ValueError(f"unknown escape \\{code} in {token}")

    return re.sub(r"\\(u[0-9A-Fa-f]{4}|.)", unescape, body)


class _Reader:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.index += 1
        return token

    def skip_newlines(self) -> None:
        while self.peek()[0] == "newline":
            self.index += 1

    def expect(self, value: str) -> None:
        self.skip_newlines()
        kind, text = self.take()
        if text != value:
            raise ValueError(f"expected {value!r}, found {text!r} ({kind})")

    def value(self) -> Any:
        self.skip_newlines()
        kind, text = self.take()
        if kind == "string":
            return _string(text)
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "name" and text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if text == "[":
            return self.items()
        if text == "{":
            return self.entries("}")
        raise ValueError(f"not a literal: {text!r} ({kind})")

    def items(self) -> list[Any]:
        found: list[Any] = []
        while True:
            self.skip_newlines()
            if self.peek()[1] == "]":
                self.take()
                return found
            found.append(self.value())
            self.skip_newlines()
            if self.peek()[1] == ",":
                self.take()
            elif self.peek()[1] != "]":
                raise ValueError(f"expected ',' or ']', found {self.peek()[1]!r}")

    def entries(self, closing: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        while True:
            self.skip_newlines()
            if self.peek()[1] == closing or (closing == "" and self.peek()[0] == "end"):
                self.take()
                return found
            kind, key = self.take()
            if kind == "string":
                key = _string(key)
            elif kind != "name":
                raise ValueError(f"not an attribute name: {key!r}")
            if self.peek()[1] not in ("=", ":"):
                raise ValueError(f"expected '=' after {key}")
            self.take()
            found[key] = self.value()
            if self.peek()[1] == ",":
                self.take()
            elif self.peek()[0] not in ("newline", "end") and self.peek()[1] != closing:
                raise ValueError(f"expected a new line after {key}, found {self.peek()[1]!r}")


def value(text: str) -> Any:
    """The value of one literal expression, such as a variable's default."""
    reader = _Reader(text)
    found = reader.value()
    reader.skip_newlines()
    if reader.peek()[0] != "end":
        raise ValueError(f"more than one expression in {text!r}")
    return found


def tfvars(text: str) -> dict[str, Any]:
    """The assignments of a .tfvars (or .tfbackend) file."""
    return _Reader(text).entries("")
