"""Properties of the event model, request intake, exact JSON and event ids (Hypothesis, bounded)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest import ids, jsonexact
from ingest.domain import intake
from ingest.errors import ApiError, ValidationFailed
from ingest.limits import MAX_BATCH_EVENTS
from ingest.models import Event

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# The members Event names; everything else is an extension, kept as sent.
KNOWN = frozenset(Event.model_fields)
JSON_HEADERS = {"content-type": "application/json"}

bounded = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------------------------
# Strategies

# Text that survives UTF-8: no lone surrogates (those are a 4xx, checked separately).
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
short_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=256)
exact_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=False, allow_infinity=False),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | exact_numbers | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)


@st.composite
def rfc3339(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes())
    value = f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S")
    digits = draw(st.integers(min_value=0, max_value=9))
    if digits:
        value += "." + "".join(
            draw(st.lists(st.sampled_from("0123456789"), min_size=digits, max_size=digits))
        )
    zone = draw(
        st.one_of(
            st.just("Z"),
            st.builds(
                lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
                st.sampled_from("+-"),
                st.integers(0, 23),
                st.integers(0, 59),
            ),
        )
    )
    return value + zone


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {"type": draw(short_text)}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "id": short_text,
        "source": short_text,
        "time": rfc3339(),
        "subject": st.one_of(st.none(), short_text),
        "specversion": st.sampled_from(["1.0", None]),
        "datacontenttype": short_text,
        "dataschema": short_text,
        "data": json_values,
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            event[name] = draw(strategy)
    extensions = draw(
        st.dictionaries(text.filter(lambda key: key not in KNOWN), json_values, max_size=3)
    )
    return {**extensions, **event}


def body_of(document: Any) -> bytes:
    return jsonexact.dumps(document).encode("utf-8")


# --------------------------------------------------------------------------------------------
# intake.parse


@bounded
@given(events())
def test_a_valid_event_round_trips_with_exact_data(event: dict[str, Any]) -> None:
    parsed = intake.parse(JSON_HEADERS, body_of(event))
    assert not parsed.batch
    [item] = parsed.events
    assert item.event.type == event["type"]
    assert item.event.source == event.get("source", "default")
    for name in ("id", "time", "subject", "specversion", "datacontenttype", "dataschema"):
        assert getattr(item.event, name) == event.get(name)
    if "data" in event:
        assert item.data_json == jsonexact.dumps(event["data"])
        assert jsonexact.dumps(jsonexact.loads(item.data_json)) == item.data_json
    else:
        assert item.data_json is None
    extensions = {k: v for k, v in event.items() if k not in KNOWN}
    if extensions:
        assert item.extensions_json is not None
        assert jsonexact.loads(item.extensions_json) == extensions
    else:
        assert item.extensions_json is None
    assert item.size == len(body_of(event))


@bounded
@given(st.lists(events(), min_size=1, max_size=8), st.sampled_from([intake.JSON, intake.CE_BATCH]))
def test_a_batch_of_n_valid_events_gives_n_parsed_events_in_order(
    batch: list[dict[str, Any]], content_type: str
) -> None:
    parsed = intake.parse({"content-type": content_type}, body_of(batch))
    assert parsed.batch
    assert [item.event.type for item in parsed.events] == [event["type"] for event in batch]
    assert len(parsed.events) == len(batch) <= MAX_BATCH_EVENTS


invalid_types = st.one_of(
    st.none(),
    st.booleans(),
    exact_numbers,
    st.lists(text, max_size=2),
    st.dictionaries(text, text, max_size=2),
    st.just(""),
    st.text(st.characters(exclude_categories=["Cs"]), min_size=257, max_size=300),
)


@bounded
@given(events(), st.one_of(st.just(None), invalid_types), st.booleans())
def test_an_invalid_type_is_always_422(event: dict[str, Any], bad: Any, missing: bool) -> None:
    if missing:
        del event["type"]
    else:
        event["type"] = bad
    with pytest.raises(ValidationFailed) as caught:
        intake.parse(JSON_HEADERS, body_of(event))
    assert caught.value.status == 422
    assert any(detail["field"] == "type" for detail in caught.value.details)


@bounded
@given(
    st.lists(events(), min_size=2, max_size=6),
    st.data(),
)
def test_one_invalid_event_fails_the_whole_batch_naming_its_index(
    batch: list[dict[str, Any]], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(batch) - 1))
    batch[index]["type"] = data.draw(invalid_types)
    with pytest.raises(ValidationFailed) as caught:
        intake.parse(JSON_HEADERS, body_of(batch))
    assert {detail["index"] for detail in caught.value.details} == {index}


header_values = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",
            intake.CE_SINGLE,
            intake.CE_BATCH,
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/vnd.example+json",
            "",
        ]
    ),
    header_values,
)
request_headers = st.fixed_dictionaries(
    {},
    optional={
        "content-type": content_types,
        "ce-specversion": st.one_of(st.just("1.0"), header_values),
        "ce-type": header_values,
        "ce-source": header_values,
        "ce-id": header_values,
        "ce-time": st.one_of(rfc3339(), header_values),
        "ce-subject": header_values,
        "ce-dataschema": header_values,
    },
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(body_of),
    events().map(body_of),
    st.lists(events(), max_size=3).map(body_of),
    st.text(max_size=50).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.just(b'{"type": "t", "data": NaN}'),
    st.just(b"[" * 100 + b"]" * 100),
    st.just(b'{"type": "t", "data": 1' + b"0" * 5000 + b"}"),
)


def parse_or_error(headers: dict[str, str], body: bytes) -> intake.Intake | ApiError:
    try:
        return intake.parse(headers, body)
    except ApiError as exc:
        return exc


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request_headers, bodies)
def test_any_request_is_parsed_or_rejected_with_an_api_error(
    headers: dict[str, str], body: bytes
) -> None:
    outcome = parse_or_error(headers, body)  # anything but an ApiError propagates and fails
    if isinstance(outcome, ApiError):
        assert 400 <= outcome.status < 500
        assert outcome.message
        json.dumps(outcome.body())  # the answer can always be written
    else:
        assert outcome.events
        assert outcome.batch or len(outcome.events) == 1


@bounded
@given(
    st.characters(categories=["Cs"]),
    st.sampled_from(["type", "id", "source", "subject", "data", "extension", "key"]),
)
def test_lone_surrogates_are_a_4xx_not_a_crash(junk: str, where: str) -> None:
    event: dict[str, Any] = {"type": "t", "data": {"n": 1}}
    if where == "key":
        event["data"] = {junk: 1}
    else:
        event[where] = "x" + junk
    body = json.dumps(event).encode("ascii")  # \udxxx escapes: valid JSON text, invalid Unicode
    with pytest.raises(ApiError) as caught:
        intake.parse(JSON_HEADERS, body)
    assert caught.value.status in {400, 422}


# --------------------------------------------------------------------------------------------
# jsonexact


@bounded
@given(json_values)
def test_jsonexact_round_trips_any_json_exactly(value: Any) -> None:
    text_form = jsonexact.dumps(value)
    again = jsonexact.loads(text_form)
    assert again == value
    assert jsonexact.dumps(again) == text_form


@bounded
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_jsonexact_keeps_number_text_as_sent(number: float) -> None:
    sent = json.dumps(number)
    parsed = jsonexact.loads(sent)
    assert isinstance(parsed, Decimal)
    # Digits and exponent exactly as sent: no rounding through binary floats (1e-07 is 1E-7).
    assert parsed.as_tuple() == Decimal(sent).as_tuple()
    assert Decimal(jsonexact.dumps(parsed)).as_tuple() == Decimal(sent).as_tuple()


@bounded
@given(json_values, st.sampled_from(["NaN", "Infinity", "-Infinity"]))
def test_jsonexact_rejects_nan_and_infinity_anywhere(value: Any, token: str) -> None:
    for document in (token, f"[{jsonexact.dumps(value)},{token}]", f'{{"a":{token}}}'):
        with pytest.raises(jsonexact.JsonError):
            jsonexact.loads(document)


@bounded
@given(st.integers(min_value=jsonexact.MAX_DEPTH + 1, max_value=5000), st.sampled_from("[{"))
def test_jsonexact_rejects_deep_nesting(depth: int, opener: str) -> None:
    document = (
        ("[" * depth + "]" * depth) if opener == "[" else ('{"a":' * depth + "1" + "}" * depth)
    )
    with pytest.raises(jsonexact.JsonError, match="nested deeper"):
        jsonexact.loads(document)


# --------------------------------------------------------------------------------------------
# ids

keys = st.integers(min_value=0, max_value=(1 << ids.KEY_BITS) - 1)
millis = st.integers(min_value=0, max_value=(1 << 48) - 1)


@bounded
@given(keys, millis)
def test_event_ids_are_uuid7_shaped_and_carry_their_millisecond(key: int, ms: int) -> None:
    event_id = ids.new_event_id(key, ms)
    assert UUID7.match(event_id)
    assert ids.is_event_id(event_id)
    assert int(event_id[:8] + event_id[9:13], 16) == ms
    assert ids.time_bound(ms) <= event_id
    if ms + 1 < 1 << 48:
        assert event_id < ids.time_bound(ms + 1)


@bounded
@given(keys, keys, millis, millis)
def test_event_ids_sort_by_time_across_milliseconds(a: int, b: int, t1: int, t2: int) -> None:
    if t1 == t2:
        return
    early, late = sorted((t1, t2))
    assert ids.new_event_id(a, early) < ids.new_event_id(b, late)


@bounded
@given(keys, keys, millis, millis)
def test_key_of_is_the_key_and_independent_of_time(a: int, b: int, t1: int, t2: int) -> None:
    assert ids.key_of(ids.new_event_id(a, t1)) == ids.key_of(ids.new_event_id(a, t2))
    assert (ids.key_of(ids.new_event_id(a, t1)) == ids.key_of(ids.new_event_id(b, t2))) == (a == b)


# Producer ids and sources as producers send them; NUL is the hash's separator (see below).
no_nul_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=64
)


@bounded
@given(no_nul_text, no_nul_text, no_nul_text, st.integers(0, 3))
def test_producer_key_is_deterministic_and_separates_ids(
    source: str, first: str, second: str, probe: int
) -> None:
    key = ids.producer_key(source, first, probe)
    assert key == ids.producer_key(source, first, probe)
    assert 0 <= key < 1 << ids.KEY_BITS
    if first != second:
        assert key != ids.producer_key(source, second, probe)
    assert key != ids.producer_key(source, first, probe + 1)
    assert key != ids.producer_key(source + "x", first, probe)


def test_random_keys_fit_the_key_bits_and_differ() -> None:
    drawn = [ids.random_key() for _ in range(1000)]
    assert all(0 <= key < 1 << ids.KEY_BITS for key in drawn)
    assert len(set(drawn)) == len(drawn)


@bounded
@given(no_nul_text, no_nul_text, no_nul_text)
def test_producer_key_separates_every_source_id_pair(a: str, b: str, c: str) -> None:
    assert ids.producer_key(f"{a}\x00{b}", c) != ids.producer_key(a, f"{b}\x00{c}")
