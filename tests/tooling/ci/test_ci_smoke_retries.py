"""The smoke test waits for a fresh stage: 404 and 5xx are retried with a doubling delay, for a
bounded number of tries and a bounded time (scripts/ci/smoke.py, SmokeTest._retrying)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.ci import smoke
from scripts.ci.smoke import Response, SmokeError, SmokeTest


class Clock:
    """A clock that only moves when the smoke test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def answers(*statuses: int) -> Iterator[Response]:
    for status in statuses:
        yield Response(status=status, body={"status": "ok"} if status == 200 else None)


def smoke_test(clock: Clock, **settings: float) -> SmokeTest:
    def unused(path: str, event: object) -> Response:
        raise AssertionError("not sent")

    return SmokeTest(
        base_url="https://abc.execute-api.eu-west-1.amazonaws.com",
        sender=unused,
        sleep=clock.sleep,
        clock=clock.time,
        **settings,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("transient", [404, 500, 502, 503])
def test_a_fresh_stage_is_waited_for(transient: int) -> None:
    clock = Clock()
    replies = answers(transient, transient, transient, 200)
    test = smoke_test(clock, attempts=10, delay=3.0, max_delay=20.0, max_wait=180.0)
    response = test._retrying("GET /health", lambda: next(replies))
    assert response.status == 200
    assert clock.sleeps == [3.0, 6.0, 12.0]  # doubling
    assert f"HTTP {transient}" in test.log[0]


def test_the_delay_is_capped() -> None:
    clock = Clock()
    replies = answers(*[404] * 6, 200)
    test = smoke_test(clock, attempts=10, delay=3.0, max_delay=10.0, max_wait=600.0)
    assert test._retrying("GET /health", lambda: next(replies)).status == 200
    assert clock.sleeps == [3.0, 6.0, 10.0, 10.0, 10.0, 10.0]


def test_retrying_stops_at_the_time_bound() -> None:
    clock = Clock()
    test = smoke_test(clock, attempts=100, delay=3.0, max_delay=20.0, max_wait=60.0)
    with pytest.raises(SmokeError, match=r"gave up after \d+ attempts \(HTTP 404"):
        test._retrying("GET /health", lambda: Response(status=404, body=None))
    assert clock.now <= 60.0
    assert sum(clock.sleeps) == clock.now


def test_retrying_stops_at_the_attempts() -> None:
    clock = Clock()
    test = smoke_test(clock, attempts=3, delay=1.0, max_delay=20.0, max_wait=600.0)
    calls: list[int] = []

    def call() -> Response:
        calls.append(1)
        return Response(status=503, body=None)

    with pytest.raises(SmokeError, match="gave up after 3 attempts"):
        test._retrying("GET /health", call)
    assert len(calls) == 3


@pytest.mark.parametrize("final", [200, 202, 400, 401, 403, 422])
def test_other_answers_are_not_retried(final: int) -> None:
    clock = Clock()
    test = smoke_test(clock)
    assert test._retrying("POST /events", lambda: Response(status=final, body=None)).status == final
    assert clock.sleeps == []


def test_the_health_check_waits_through_404s(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    replies = answers(404, 404, 200)
    monkeypatch.setattr(smoke, "http_request", lambda *_, **__: next(replies))
    test = smoke_test(clock, attempts=10, delay=1.0, max_delay=20.0, max_wait=60.0)
    test.check_health()
    assert clock.sleeps == [1.0, 2.0]


def test_the_bounds_are_command_line_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, float] = {}

    def run(self: SmokeTest) -> bool:
        seen.update(max_wait=self.max_wait, max_delay=self.max_delay, delay=self.delay)
        return True

    monkeypatch.setattr(SmokeTest, "run", run)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    url = "https://abc.execute-api.eu-west-1.amazonaws.com"
    args = ["--url", url, "--max-wait", "90", "--max-delay", "5", "--delay", "1"]
    assert smoke.main(args) == 0
    assert seen == {"max_wait": 90.0, "max_delay": 5.0, "delay": 1.0}
