"""`make load` in miniature: the same producers and audit, a few seconds, nothing lost or duplicated.

The audit is also fed made-up tables, to show it does catch what it claims to catch.
"""

from __future__ import annotations

import pytest

from bench.load import FIRST, FIRST_RETRIED, RESEND, Config, Sent, audit, main, run_load, summary
from tests.fault_proxy import serve_behind_faults


@pytest.mark.slow
def test_a_small_load_run_loses_and_duplicates_nothing() -> None:
    config = Config(concurrency=4, requests=40, duration=20, batch_sizes=(5, 20), seed=3)
    result = run_load(config)

    text = summary(result)
    assert result.ok, text
    assert result.requests == 40 or result.seconds >= 20
    assert result.singles, text
    assert result.batches, text
    assert result.retries, text
    assert result.audit.lost == 0
    assert result.audit.duplicated == 0
    assert result.audit.stored == result.audit.accepted + result.audit.orphans
    assert result.resent_events > 0
    assert result.resent_duplicates == result.resent_events
    assert result.events_per_second > 0
    assert 0 < result.latency_ms["p50"] <= result.latency_ms["p99"] <= result.latency_ms["max"]
    assert "PASS" in text
    assert "lost            0" in text


@pytest.mark.slow
def test_load_through_storage_faults_loses_and_duplicates_nothing() -> None:
    """DynamoDB throttles, fails and loses answers to writes: producers see 503s and retry, and
    the audit still finds nothing lost, no id stored twice, every re-send recognised."""
    with serve_behind_faults(
        "load-faults", throttle=0.1, error=0.05, lost=0.05, seed=11
    ) as backend:
        config = Config(
            concurrency=4,
            requests=40,
            duration=30,
            batch_sizes=(5, 10),
            seed=5,
            url=backend.server.url,
            endpoint_url=backend.emulator_url,  # the audit reads around the faults
            table="load-faults",
        )
        result = run_load(config)

    text = summary(result)
    assert result.ok, text
    assert set(backend.proxy.injected) == {"throttle", "error", "lost"}, backend.proxy.injected
    assert (result.audit.lost, result.audit.duplicated, result.audit.extra_items) == (0, 0, 0)
    assert result.resent_duplicates == result.resent_events


def _sent(**answers: list[tuple[str, bool, str]]) -> Sent:
    sent = Sent()
    for pid, replies in answers.items():
        sent.answers[("s", pid)] = replies
        sent.accepted += sum(1 for _, duplicate, _ in replies if not duplicate)
    return sent


def _item(event_id: str, pid: str | None = None) -> dict[str, str]:
    item = {"event_id": event_id, "source": "s"}
    if pid is not None:
        item["id"] = pid
    return item


def test_audit_passes_a_consistent_table() -> None:
    sent = _sent(a=[("e1", False, FIRST), ("e1", True, RESEND)], b=[("e2", False, FIRST)])
    sent.anonymous = ["e3"]
    sent.accepted += 1
    checked = audit(sent, [_item("e1", "a"), _item("e2", "b"), _item("e3")])
    assert checked.ok, checked
    assert (checked.stored, checked.accepted, checked.producer_ids) == (3, 3, 2)


def test_audit_finds_lost_events() -> None:
    sent = _sent(a=[("e1", False, FIRST)])
    sent.anonymous = ["e2"]
    sent.accepted += 1
    checked = audit(sent, [])
    assert checked.lost == 2
    assert not checked.ok


def test_audit_finds_an_id_stored_twice() -> None:
    checked = audit(_sent(a=[("e1", False, FIRST)]), [_item("e1", "a"), _item("e9", "a")])
    assert checked.duplicated == 1
    assert checked.mismatched_ids == 1
    assert not checked.ok


def test_audit_finds_unrecognised_resends_and_false_duplicates() -> None:
    resent = audit(_sent(a=[("e1", False, FIRST), ("e1", False, RESEND)]), [_item("e1", "a")])
    assert resent.unrecognised_resends == 1
    assert not resent.ok
    false_duplicate = audit(_sent(a=[("e1", True, FIRST)]), [_item("e1", "a")])
    assert false_duplicate.false_duplicates == 1
    assert not false_duplicate.ok


def test_audit_accepts_a_duplicate_answer_after_a_producer_retry() -> None:
    # The first attempt was stored but answered 503; the retry is rightly told "duplicate".
    checked = audit(_sent(a=[("e1", True, FIRST_RETRIED)]), [_item("e1", "a")])
    assert checked.ok, checked


def test_audit_tells_orphans_from_unexplained_items() -> None:
    orphan = audit(Sent(unanswered_anonymous=1), [_item("e1")])
    assert (orphan.orphans, orphan.extra_items, orphan.ok) == (1, 0, True)
    too_many = audit(Sent(unanswered_anonymous=1), [_item("e1"), _item("e2")])
    assert (too_many.orphans, too_many.extra_items, too_many.ok) == (1, 1, False)
    unexplained = audit(Sent(), [_item("e1")])
    assert (unexplained.orphans, unexplained.extra_items, unexplained.ok) == (0, 1, False)


def test_audit_explains_ids_of_requests_never_acknowledged() -> None:
    never = Sent(unacknowledged={("s", "a")})
    checked = audit(never, [_item("e1", "a")])
    assert (checked.unacknowledged_stored, checked.extra_items) == (1, 0)
    stray = audit(Sent(), [_item("e1", "a")])
    assert stray.extra_items == 1
    assert not stray.ok


def test_load_refuses_anything_but_loopback() -> None:
    with pytest.raises(SystemExit, match=r"127\.0\.0\.1 only"):
        main(["--url", "http://example.com:3000", "--endpoint-url", "http://127.0.0.1:8000"])


def test_load_rejects_bad_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--batch-sizes", "1000"])
    assert "--batch-sizes" in capsys.readouterr().err
