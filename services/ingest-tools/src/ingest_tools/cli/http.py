"""A small HTTP client for the CLI: POST with retries that honour ``Retry-After``."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RETRYABLE = {429, 502, 503, 504}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    retries: int = 0,
    timeout: float = 30.0,
    on_retry: Callable[[int, float, str], None] | None = None,
) -> Answer:
    """POST ``body``; retry the same bytes on 429/5xx and connection errors (safe when the
    events carry ids: the service stores each (source, id) once). ``on_retry(attempt, delay,
    why)`` is told before each retry."""
    attempt = 0
    while True:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return Answer(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as exc:
            answer = Answer(exc.code, dict(exc.headers.items()), exc.read())
            if exc.code not in RETRYABLE or attempt >= retries:
                return answer
            delay = _retry_after(answer.headers) or min(8.0, 0.2 * 2**attempt)
            why = f"HTTP {exc.code}"
        except (
            urllib.error.URLError,
            ConnectionError,
            TimeoutError,
            http.client.HTTPException,
        ) as exc:
            if attempt >= retries:
                raise
            delay = min(8.0, 0.2 * 2**attempt)
            why = str(getattr(exc, "reason", exc))
        attempt += 1
        if on_retry is not None:
            on_retry(attempt, delay, why)
        time.sleep(delay)


def _retry_after(headers: dict[str, str]) -> float:
    """``Retry-After`` in seconds (at most 60); 0 when absent or not a number of seconds."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "")
    try:
        return min(60.0, max(0.0, float(value)))
    except ValueError:
        return 0.0
