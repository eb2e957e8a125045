"""``make load``: concurrent producers against a local ``ingest serve``, then a full audit.

Starts ``ingest serve --quiet`` with its embedded DynamoDB emulator on 127.0.0.1 (or uses
``--url``/``--endpoint-url`` of one already running there), runs ``--concurrency`` producer
threads, each on its own keep-alive connection, sending a seeded mix of single events and batches,
with and without producer ids, plus deliberate re-sends of events already acknowledged. The run is
bounded by a request budget and a deadline, whichever comes first.

Then it reads the whole table back and checks, against every answer the producers received:

- lost: an acknowledged ``event_id`` that is not in the table (must be 0);
- duplicated: a producer id stored more than once, or an answer that called a first delivery a
  duplicate, or a re-send that was not recognised as a duplicate (must be 0);
- stored items == acknowledged events: nothing stored that nobody was told about, except what
  attempts without a 2xx may have left (counted and reported; see the ADR).

It prints throughput, request latency percentiles and the audit, and exits 1 when any check
fails. See docs/decisions/0009-load-testing.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from scripts.harness import IngestServe, aws_env, ingest_serve

SOURCES = ("load-a", "load-b", "load-c", None)  # None: no source field, stored as "default"
DEFAULT_SOURCE = "default"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Request mix, as weights. A batch event carries a producer id with probability BATCH_ID_SHARE.
MIX = {
    "single_id": 30,  # one event with `id`
    "single_key": 5,  # one event without `id`, Idempotency-Key header instead
    "single_anon": 15,  # one event without any id
    "batch": 35,  # a batch of --batch-sizes events, ids on about half of them
    "retry": 15,  # a deliberate re-send of events this producer already had acknowledged
}
BATCH_ID_SHARE = 0.5
RETRY_MAX_EVENTS = 25
# A producer retries a 503 or a broken connection with exponential backoff (at least
# Retry-After), and gives up on a request after this long without a 2xx.
GIVE_UP_SECONDS = 60.0
# How an answer about an id'd event came about.
FIRST = "first"  # its first delivery, answered on the first attempt: must be "newly stored"
FIRST_RETRIED = "first-retried"  # first delivery, answered after a 503 or broken connection:
#   an earlier attempt may have stored it already, so either answer is correct
RESEND = "resend"  # a deliberate re-send of an acknowledged event: must be "duplicate"


@dataclass(frozen=True)
class Config:
    concurrency: int = 8  # 16 overloads the emulator on two cores: see the ADR
    requests: int = 3000  # request budget for the whole run
    duration: float = 30.0  # no new request after this many seconds
    batch_sizes: tuple[int, ...] = (25, 100)
    seed: int = 1
    url: str | None = None  # an already running `ingest serve` (127.0.0.1 only)
    endpoint_url: str | None = None  # its DynamoDB endpoint, for the audit
    table: str = "load-events"
    timeout: float = 60.0  # per request


@dataclass
class Sent:
    """What one producer sent and heard back."""

    requests: int = 0
    singles: int = 0
    batches: int = 0
    retries: int = 0  # re-send requests
    events: int = 0  # events in all requests, re-sends included
    accepted: int = 0  # events answered as newly stored
    duplicates: int = 0  # events answered as duplicates
    resent_events: int = 0  # events in re-send requests (each must come back as a duplicate)
    resent_duplicates: int = 0  # ... and how many did
    transport_retries: int = 0  # requests sent again after a 503 or a broken connection
    unanswered_anonymous: int = 0  # id-less events in attempts that got no 2xx
    unacknowledged: set[tuple[str, str]] = field(default_factory=set)  # ids never answered 2xx
    latencies: list[float] = field(default_factory=list)  # seconds, per answered request
    single_latencies: list[float] = field(default_factory=list)  # ... of one event
    batch_latencies: list[float] = field(default_factory=list)  # ... of a batch
    # (source, producer id) -> every (event_id, duplicate, how) answered for it
    answers: dict[tuple[str, str], list[tuple[str, bool, str]]] = field(default_factory=dict)
    anonymous: list[str] = field(default_factory=list)  # event ids of events without an id
    errors: list[str] = field(default_factory=list)


@dataclass
class Audit:
    stored: int = 0
    accepted: int = 0
    lost: int = 0
    duplicated: int = 0
    unrecognised_resends: int = 0
    false_duplicates: int = 0
    mismatched_ids: int = 0
    extra_items: int = 0  # stored, never acknowledged, and not explained by a producer retry
    orphans: int = 0  # copies of id-less events from attempts that got no 2xx (see the ADR)
    unacknowledged_stored: int = 0  # items of ids whose request never got a 2xx (an error)
    producer_ids: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.examples) < 10:
            self.examples.append(text)

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.unrecognised_resends
            or self.false_duplicates
            or self.mismatched_ids
            or self.extra_items
        )


@dataclass
class Result:
    config: dict[str, Any]
    seconds: float
    requests: int
    singles: int
    batches: int
    retries: int
    events: int
    accepted: int
    duplicates: int
    resent_events: int
    resent_duplicates: int
    transport_retries: int
    unanswered_anonymous: int
    errors: list[str]
    events_per_second: float
    requests_per_second: float
    latency_ms: dict[str, float]
    single_latency_ms: dict[str, float]
    batch_latency_ms: dict[str, float]
    audit: Audit
    machine: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.audit.ok and not self.errors and self.resent_duplicates == self.resent_events


class Budget:
    """The shared request budget and deadline."""

    def __init__(self, requests: int, seconds: float) -> None:
        self._left = requests
        self._lock = threading.Lock()
        self.deadline = time.monotonic() + seconds

    def take(self) -> bool:
        if time.monotonic() >= self.deadline:
            return False
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True


class Connection:
    """One producer's keep-alive connection; reconnects after the server closes it."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any, float]:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        started = time.perf_counter()
        try:
            self._conn.request("POST", path, body, headers)
            response = self._conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        elapsed = time.perf_counter() - started
        if response.will_close:
            self.close()
        try:
            document = json.loads(payload)
        except ValueError:
            document = None
        if response.status == 503:
            retry_after = response.getheader("Retry-After") or "1"
            message = (document or {}).get("error", {}).get("message", "")
            seconds = float(retry_after) if retry_after.isdigit() else 1.0
            document = {"retry_after": seconds, "message": message}
        return response.status, document, elapsed

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _event(
    rng: random.Random, kind: str, seq: str, producer_id: str | None
) -> tuple[str, str | None]:
    """One event as JSON text (data with exact decimals), and the source it will be stored under."""
    source = rng.choice(SOURCES)
    envelope: dict[str, Any] = {"type": f"load.{kind}"}
    if source is not None:
        envelope["source"] = source
    if producer_id is not None:
        envelope["id"] = producer_id
    data = f'{{"seq":"{seq}","amount":12.50,"ratio":0.1,"items":[{rng.randint(1, 999)},"x"]}}'
    return json.dumps(envelope, separators=(",", ":"))[:-1] + f',"data":{data}}}', source


@dataclass
class Remembered:
    """An id'd event already acknowledged: re-sending its exact text must answer a duplicate."""

    text: str
    scope: tuple[str, str]
    key_header: bool = False


class Producer:
    def __init__(self, number: int, run: str, config: Config, url: str, budget: Budget) -> None:
        self.number = number
        self.run = run
        self.config = config
        self.rng = random.Random(config.seed * 1_000_003 + number)  # noqa: S311
        self.connection = Connection(url, config.timeout)
        self.budget = budget
        self.sent = Sent()
        self.remembered: list[Remembered] = []
        self._seq = 0

    def _next_id(self) -> str:
        self._seq += 1
        return f"{self.run}-p{self.number}-{self._seq}"

    def run_until_done(self) -> Sent:
        kinds = list(MIX)
        weights = list(MIX.values())
        try:
            while self.budget.take():
                kind = self.rng.choices(kinds, weights)[0]
                if kind == "retry" and not self.remembered:
                    kind = "single_id"
                getattr(self, f"_{kind}")()
        except Exception as exc:  # a producer must report, never vanish silently
            self.sent.errors.append(f"producer {self.number}: {type(exc).__name__}: {exc}")
        finally:
            self.connection.close()
        return self.sent

    # --- request kinds -------------------------------------------------------------------

    def _single_id(self) -> None:
        pid = self._next_id()
        text, source = _event(self.rng, "single", pid, pid)
        scope = (source or DEFAULT_SOURCE, pid)
        self.sent.singles += 1
        if self._send_single(text, {}, scope, resend=False):
            self.remembered.append(Remembered(text, scope))

    def _single_key(self) -> None:
        key = self._next_id()
        text, source = _event(self.rng, "keyed", key, None)
        scope = (source or DEFAULT_SOURCE, key)
        self.sent.singles += 1
        if self._send_single(text, {"Idempotency-Key": key}, scope, resend=False):
            self.remembered.append(Remembered(text, scope, key_header=True))

    def _single_anon(self) -> None:
        text, _ = _event(self.rng, "single", f"p{self.number}-anon", None)
        self.sent.singles += 1
        self._send_single(text, {}, None, resend=False)

    def _batch(self) -> None:
        size = self.rng.choice(self.config.batch_sizes)
        texts: list[str] = []
        scopes: list[tuple[str, str] | None] = []
        for _ in range(size):
            pid = self._next_id() if self.rng.random() < BATCH_ID_SHARE else None
            text, source = _event(self.rng, "batch", pid or "anon", pid)
            texts.append(text)
            scopes.append((source or DEFAULT_SOURCE, pid) if pid else None)
        self.sent.batches += 1
        if self._send_batch(texts, scopes, resend=False):
            self.remembered.extend(
                Remembered(t, s) for t, s in zip(texts, scopes, strict=True) if s is not None
            )

    def _retry(self) -> None:
        """Re-send acknowledged events: one as a single (keeping its Idempotency-Key), or a
        few together as a batch; every one of them must come back as a duplicate."""
        self.sent.retries += 1
        picked = self.rng.sample(
            self.remembered, min(len(self.remembered), self.rng.randint(1, RETRY_MAX_EVENTS))
        )
        if len(picked) == 1 or picked[0].key_header:
            one = picked[0]
            headers = {"Idempotency-Key": one.scope[1]} if one.key_header else {}
            self._send_single(one.text, headers, one.scope, resend=True)
        else:
            picked = [p for p in picked if not p.key_header]  # a batch event names its id
            self._send_batch([p.text for p in picked], [p.scope for p in picked], resend=True)

    # --- transport and bookkeeping -------------------------------------------------------

    def _post(
        self,
        body: str,
        headers: dict[str, str],
        scopes: Sequence[tuple[str, str] | None],
        *,
        batch: bool,
        resend: bool,
    ) -> tuple[Any, bool]:
        """POST until answered 2xx, retrying 503s and broken connections as a producer should.
        The answer (None when there was none) and whether an attempt had to be repeated."""
        all_headers = {"Content-Type": "application/json", **headers}
        anonymous = sum(1 for scope in scopes if scope is None)
        self.sent.requests += 1
        self.sent.events += len(scopes)
        give_up = time.monotonic() + GIVE_UP_SECONDS
        attempt = 0
        while True:
            retry_after = 0.0
            retryable = True  # a 503, or no answer at all
            try:
                status, document, elapsed = self.connection.post(
                    "/events", body.encode(), all_headers
                )
            except (OSError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:
                if status in (200, 202):
                    self.sent.latencies.append(elapsed)
                    kind = self.sent.batch_latencies if batch else self.sent.single_latencies
                    kind.append(elapsed)
                    return document, attempt > 0
                error = f"HTTP {status}: {document}"
                retryable = status == 503
                if retryable:
                    retry_after = float(document["retry_after"])
            # Whatever this attempt stored of its id-less events, nobody will be told about.
            self.sent.unanswered_anonymous += anonymous
            delay = max(retry_after, min(8.0, 0.25 * 2**attempt)) * self.rng.uniform(1.0, 1.5)
            if not retryable or time.monotonic() + delay > give_up:
                break
            time.sleep(delay)
            attempt += 1
            self.sent.transport_retries += 1
        self.sent.errors.append(f"no 2xx after {attempt + 1} attempt(s): {error}"[:300])
        if not resend:
            self.sent.unacknowledged.update(scope for scope in scopes if scope is not None)
        return None, True

    def _record(
        self, scope: tuple[str, str] | None, event_id: str, duplicate: bool, how: str
    ) -> None:
        if duplicate:
            self.sent.duplicates += 1
        else:
            self.sent.accepted += 1
        if how == RESEND:
            self.sent.resent_events += 1
            self.sent.resent_duplicates += duplicate
        if scope is None:
            self.sent.anonymous.append(event_id)
        else:
            self.sent.answers.setdefault(scope, []).append((event_id, duplicate, how))

    @staticmethod
    def _how(resend: bool, retried: bool) -> str:
        return RESEND if resend else FIRST_RETRIED if retried else FIRST

    def _send_single(
        self, text: str, headers: dict[str, str], scope: tuple[str, str] | None, *, resend: bool
    ) -> bool:
        document, retried = self._post(text, headers, [scope], batch=False, resend=resend)
        if document is None:
            return False
        how = self._how(resend, retried)
        self._record(scope, str(document["event_id"]), bool(document.get("duplicate")), how)
        return True

    def _send_batch(
        self, texts: Sequence[str], scopes: Sequence[tuple[str, str] | None], *, resend: bool
    ) -> bool:
        body = "[" + ",".join(texts) + "]"
        document, retried = self._post(body, {}, scopes, batch=True, resend=resend)
        if document is None:
            return False
        answers = document["events"]
        if len(answers) != len(texts):
            self.sent.errors.append(f"batch of {len(texts)} answered {len(answers)} events")
            return False
        how = self._how(resend, retried)
        for scope, answer in zip(scopes, answers, strict=True):
            self._record(scope, str(answer["event_id"]), bool(answer["duplicate"]), how)
        return True


# --- the server ----------------------------------------------------------------------------


def start_server(table: str) -> IngestServe:
    """``ingest serve --quiet`` with its embedded emulator, on free loopback ports."""
    return ingest_serve(table=table, env=aws_env(credential="local"))


# --- the audit -----------------------------------------------------------------------------


def read_table(endpoint_url: str, table: str) -> list[dict[str, str]]:
    """Every item's event_id, source and id (consistent scan)."""
    import botocore.session
    from botocore.config import Config as BotoConfig

    # Not the service's client: its 2 s read timeout is for the hot path, and an emulator's
    # scan of a large table takes longer than that.
    client: Any = botocore.session.get_session().create_client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 (an emulator: any key works)
        config=BotoConfig(read_timeout=300, retries={"mode": "standard", "max_attempts": 3}),
    )
    pages = client.get_paginator("scan").paginate(
        TableName=table,
        ConsistentRead=True,
        ProjectionExpression="event_id, #s, #i",
        ExpressionAttributeNames={"#s": "source", "#i": "id"},
    )
    items: list[dict[str, str]] = []
    for page in pages:
        for item in page.get("Items", []):
            items.append({name: value["S"] for name, value in item.items() if "S" in value})
    return items


def audit(sent: Sent, items: list[dict[str, str]]) -> Audit:
    """Every answer the producers got, checked against the table's items."""
    # Distinct events acknowledged: each producer id once (however often it was answered), and
    # each id-less event. Normally the count of "newly stored" answers; it differs only when a
    # stored first attempt was answered 503 and its retry was then told "duplicate".
    acknowledged = len(sent.answers) + len(sent.anonymous)
    result = Audit(stored=len(items), accepted=acknowledged, producer_ids=len(sent.answers))
    by_scope: dict[tuple[str, str], list[str]] = {}
    for item in items:
        if "id" in item:
            by_scope.setdefault((item["source"], item["id"]), []).append(item["event_id"])
    stored_ids = {item.get("event_id", "") for item in items}
    for event_id in sent.anonymous:
        if event_id not in stored_ids:
            result.lost += 1
            result.note(f"lost: event {event_id} (no producer id)")
    if len(set(sent.anonymous)) != len(sent.anonymous):
        result.duplicated += len(sent.anonymous) - len(set(sent.anonymous))
        result.note("the same event_id was acknowledged for two events without id")
    for scope, answers in sent.answers.items():
        _check_answers(result, scope, answers, by_scope.get(scope, []))
    _check_untold(result, sent, items, by_scope)
    return result


def _check_answers(
    result: Audit,
    scope: tuple[str, str],
    answers: list[tuple[str, bool, str]],
    stored: list[str],
) -> None:
    """One producer id: stored exactly once, under the event_id every answer gave."""
    if not stored:
        result.lost += 1
        result.note(f"lost: {scope} answered {answers[0][0]}, not in the table")
    elif len(stored) > 1:
        result.duplicated += 1
        result.note(f"duplicated: {scope} stored {len(stored)} times")
    fresh = sum(1 for _, duplicate, _ in answers if not duplicate)
    if fresh > 1 or any(duplicate for _, duplicate, how in answers if how == FIRST):
        result.false_duplicates += 1
        result.note(f"{scope}: answered {answers}: one 'newly stored' expected, first delivery")
    if any(not duplicate for _, duplicate, how in answers if how == RESEND):
        result.unrecognised_resends += 1
        result.note(f"{scope}: a deliberate re-send was answered as newly stored")
    if {event_id for event_id, _, _ in answers} | set(stored) != {answers[0][0]}:
        result.mismatched_ids += 1
        result.note(f"{scope}: answers {answers} but stored {stored}")


def _check_untold(
    result: Audit,
    sent: Sent,
    items: list[dict[str, str]],
    by_scope: dict[tuple[str, str], list[str]],
) -> None:
    """Items nobody was told about. An attempt that got no 2xx may have stored its id-less
    events ("orphans": the retry stores them again under new event ids), and a request that
    never got a 2xx may have stored its id'd events. Anything else is unexplained."""
    acknowledged_anonymous = set(sent.anonymous)
    untold = sum(
        1 for item in items if "id" not in item and item["event_id"] not in acknowledged_anonymous
    )
    result.orphans = min(untold, sent.unanswered_anonymous)
    result.extra_items = untold - result.orphans
    for scope, stored in by_scope.items():
        if scope in sent.answers:
            continue
        if scope in sent.unacknowledged:
            result.unacknowledged_stored += len(stored)
        else:
            result.extra_items += len(stored)
            result.note(f"{scope} stored, but never sent or never acknowledged")
    if result.extra_items:
        result.note(f"{result.extra_items} stored items nobody was told about")


# --- the run -------------------------------------------------------------------------------


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _latency(seconds: Sequence[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50": _percentile(ordered, 50) * 1000,
        "p90": _percentile(ordered, 90) * 1000,
        "p99": _percentile(ordered, 99) * 1000,
        "max": (ordered[-1] if ordered else math.nan) * 1000,
    }


def _merge(parts: Sequence[Sent]) -> Sent:
    total = Sent()
    for part in parts:
        for name in (
            "requests",
            "singles",
            "batches",
            "retries",
            "events",
            "accepted",
            "duplicates",
            "resent_events",
            "resent_duplicates",
            "transport_retries",
            "unanswered_anonymous",
        ):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.latencies += part.latencies
        total.single_latencies += part.single_latencies
        total.batch_latencies += part.batch_latencies
        total.anonymous += part.anonymous
        total.errors += part.errors
        total.unacknowledged |= part.unacknowledged
        for scope, answers in part.answers.items():
            total.answers.setdefault(scope, []).extend(answers)
    return total


def _check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"load tests run against 127.0.0.1 only, not {host!r}")


def run_load(config: Config, log: Any = None) -> Result:
    """Start (or use) the server, run the producers, audit the table."""
    say = log or (lambda _text: None)
    server: IngestServe | None = None
    if config.url:
        _check_loopback(config.url)
        if not config.endpoint_url:
            raise SystemExit("--url needs --endpoint-url (the DynamoDB endpoint, for the audit)")
        _check_loopback(config.endpoint_url)
        url, endpoint_url = config.url, config.endpoint_url
    else:
        say("starting ingest serve (embedded DynamoDB emulator) ...")
        server = start_server(config.table)
        url, endpoint_url = server.url, server.endpoint
    try:
        run = f"load{random.getrandbits(32):08x}"
        budget = Budget(config.requests, config.duration)
        producers = [Producer(n, run, config, url, budget) for n in range(config.concurrency)]
        parts: list[Sent] = [Sent()] * len(producers)

        def work(index: int) -> None:
            parts[index] = producers[index].run_until_done()

        say(
            f"{config.concurrency} producers, at most {config.requests} requests "
            f"or {config.duration:g} s, against {url} ..."
        )
        threads = [
            threading.Thread(target=work, args=(n,), name=f"producer-{n}")
            for n in range(len(producers))
        ]
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()[0]
        sent = _merge(parts)
        say(f"auditing the table ({sent.accepted} accepted events) ...")
        checked = audit(sent, read_table(endpoint_url, config.table))
    finally:
        if server is not None:
            server.stop()
    return Result(
        config={
            **asdict(config),
            "batch_sizes": list(config.batch_sizes),
            "url": config.url,
        },
        seconds=seconds,
        requests=sent.requests,
        singles=sent.singles,
        batches=sent.batches,
        retries=sent.retries,
        events=sent.events,
        accepted=sent.accepted,
        duplicates=sent.duplicates,
        resent_events=sent.resent_events,
        resent_duplicates=sent.resent_duplicates,
        transport_retries=sent.transport_retries,
        unanswered_anonymous=sent.unanswered_anonymous,
        errors=sent.errors,
        events_per_second=sent.events / seconds if seconds else 0.0,
        requests_per_second=sent.requests / seconds if seconds else 0.0,
        latency_ms=_latency(sent.latencies),
        single_latency_ms=_latency(sent.single_latencies),
        batch_latency_ms=_latency(sent.batch_latencies),
        audit=checked,
        machine={
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
    )


def summary(result: Result) -> str:
    a = result.audit
    lat = result.latency_ms
    one = result.single_latency_ms
    many = result.batch_latency_ms
    c = result.config
    lines = [
        f"load: {c['concurrency']} concurrent producers, {result.requests} requests "
        f"({result.singles} singles, {result.batches} batches of {c['batch_sizes']}, "
        f"{result.retries} deliberate re-sends) in {result.seconds:.1f} s",
        f"  events sent     {result.events}: {result.accepted} answered newly stored, "
        f"{result.duplicates} duplicate ({result.resent_duplicates} deliberate re-sends, "
        f"{result.duplicates - result.resent_duplicates} first deliveries whose earlier "
        "attempt had been stored)",
        f"  throughput      {result.events_per_second:.0f} events/s, "
        f"{result.requests_per_second:.1f} requests/s "
        f"({result.accepted / result.seconds if result.seconds else 0:.0f} new events/s stored)",
        f"  latency         p50 {lat['p50']:.1f} ms, p90 {lat['p90']:.1f} ms, "
        f"p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms (per request)",
        f"                  single events p50 {one['p50']:.1f} ms, p99 {one['p99']:.1f} ms; "
        f"batches p50 {many['p50']:.1f} ms, p99 {many['p99']:.1f} ms",
        f"  stored items    {a.stored} for {a.accepted} acknowledged events: "
        + (
            "equal"
            if a.stored == a.accepted
            else f"{a.orphans} orphan copies of id-less events from attempts without a 2xx, "
            f"{a.unacknowledged_stored} events of requests never acknowledged, "
            f"{a.extra_items} unexplained"
        ),
        f"  lost            {a.lost}",
        f"  duplicated      {a.duplicated} ({a.producer_ids} producer ids, each stored "
        f"{'exactly once' if not a.duplicated else 'NOT exactly once'})",
        f"  re-sends        {result.resent_duplicates} of {result.resent_events} re-sent events "
        f"answered as duplicates of the original event_id; {a.unrecognised_resends} unrecognised,"
        f" {a.false_duplicates} false duplicates, {a.mismatched_ids} event_id mismatches",
        f"  errors          {len(result.errors)} (requests repeated after a 503 or a broken "
        f"connection: {result.transport_retries})",
    ]
    m = result.machine
    lines.append(
        f"  machine         {m.get('cpus')} CPUs, python {m.get('python')}, 1-min load average "
        f"{m.get('load_average_before', 0):.2f} before, {m.get('load_average_after', 0):.2f} after"
    )
    lines += [f"    {text}" for text in result.errors[:10]]
    lines += [f"    {text}" for text in a.examples]
    lines.append("PASS" if result.ok else "FAIL")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> tuple[Config, bool]:
    """The run's configuration, and whether to print the result as JSON too."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n\n")[0]
    )
    # Each knob also reads LOAD_<NAME> from the environment (the Makefile passes them that way).
    knobs: tuple[tuple[str, Callable[[str], Any], str], ...] = (
        ("concurrency", int, "producer threads"),
        ("requests", int, "request budget for the run"),
        ("duration", float, "stop sending after this many seconds"),
        ("batch_sizes", str, "comma-separated batch sizes"),
        ("seed", int, "workload seed"),
    )
    for name, kind, text in knobs:
        env = "LOAD_" + name.upper()
        default = getattr(Config, name)
        default = ",".join(map(str, default)) if isinstance(default, tuple) else default
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=kind,
            default=kind(os.environ.get(env, default)),
            help=f"{text} (env {env}; default %(default)s)",
        )
    parser.add_argument("--url", default=None, help="use this running `ingest serve` (loopback)")
    parser.add_argument("--endpoint-url", default=None, help="its DynamoDB endpoint")
    parser.add_argument("--table", default=Config.table, help="table name (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.batch_sizes.split(",") if s.strip())
    if not sizes or not all(2 <= s <= 500 for s in sizes):
        parser.error("--batch-sizes: sizes from 2 to 500")
    if args.concurrency < 1 or args.requests < 1 or args.duration <= 0:
        parser.error("--concurrency, --requests and --duration must be positive")
    config = Config(
        concurrency=args.concurrency,
        requests=args.requests,
        duration=args.duration,
        batch_sizes=sizes,
        seed=args.seed,
        url=args.url,
        endpoint_url=args.endpoint_url,
        table=args.table,
    )
    return config, bool(args.json)


def main(argv: Sequence[str] | None = None) -> int:
    config, as_json = parse_args(argv)
    result = run_load(config, log=lambda text: print(text, file=sys.stderr, flush=True))
    print(summary(result), flush=True)
    if as_json:
        document = asdict(result)
        document["ok"] = result.ok
        print(json.dumps(document, default=str))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
