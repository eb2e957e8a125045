"""The provider schemes of the webhook-breadth issue, each against the same checks: what its
provider sends verifies and gives the provider's type and delivery id; a changed body, another
key, a missing or malformed signature, a stale or future timestamp are refused; any one of several
active keys verifies (rotation). Published examples and handshakes: test_provider_examples.py."""

from __future__ import annotations

import pytest
from ingest.domain.webhooks.schemes import REGISTRY, WebhookRejected, sign

from tests.webhook_providers import NOW, PROVIDERS, Provider, Request, check, deliver

SCHEMES = sorted(PROVIDERS)
TIMESTAMPED = sorted(name for name in PROVIDERS if REGISTRY[name].timestamped)


def rejected(provider: Provider, request: Request, **kwargs: object) -> str:
    with pytest.raises(WebhookRejected) as info:
        check(provider, request, **kwargs)  # type: ignore[arg-type]
    assert info.value.status in (400, 401)
    return info.value.reason


def test_every_new_scheme_is_covered() -> None:
    before = {"github", "stripe", "slack", "shopify", "standard-webhooks", "hmac-sha256", "none"}
    assert set(REGISTRY) - before == set(PROVIDERS)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_what_the_provider_sends_verifies(scheme: str) -> None:
    provider = PROVIDERS[scheme]
    assert check(provider, deliver(provider)) == provider.expected


@pytest.mark.parametrize("scheme", SCHEMES)
def test_redelivery_has_the_same_delivery_id(scheme: str) -> None:
    provider = PROVIDERS[scheme]
    first = check(provider, deliver(provider))
    again = check(provider, deliver(provider, at=NOW + 1), now=NOW + 1)
    assert first.delivery_id is not None
    assert again.delivery_id == first.delivery_id


#: Senders that only authenticate (nothing signs the body), and Mailgun (see below).
UNSIGNED_BODIES = {"basic", "token", "gitlab", "mailgun"}


@pytest.mark.parametrize("scheme", [s for s in SCHEMES if s not in UNSIGNED_BODIES])
@pytest.mark.parametrize("where", [0, -1])
def test_a_changed_body_is_refused(scheme: str, where: int) -> None:
    provider = PROVIDERS[scheme]
    request = deliver(provider)
    body = bytearray(request.body)
    body[where] ^= 0x01
    changed = Request(request.headers, bytes(body), request.query)
    assert rejected(provider, changed) == "invalid_signature"


def test_mailgun_signs_the_timestamp_and_token_not_the_body() -> None:
    provider = PROVIDERS["mailgun"]
    request = deliver(provider)
    changed = Request(request.headers, request.body.replace(b'"token":"', b'"token":"x'))
    assert rejected(provider, changed) == "invalid_signature"
    changed = Request(request.headers, request.body.replace(b'"timestamp":"', b'"timestamp":"1'))
    assert rejected(provider, changed) in {"invalid_signature", "future_timestamp"}


@pytest.mark.parametrize("scheme", SCHEMES)
def test_another_key_is_refused(scheme: str) -> None:
    provider = PROVIDERS[scheme]
    request = deliver(provider, signer=provider.other_signer)
    assert rejected(provider, request) == provider.wrong_reason


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_missing_signature_is_refused(scheme: str) -> None:
    provider = PROVIDERS[scheme]
    request = deliver(provider)
    if provider.signature_header is None:  # Mailgun: the signature is in the body
        body = request.body.replace(b'"signature":{', b'"unsigned":{')
        assert rejected(provider, Request(request.headers, body)) == "missing_signature"
        return
    headers = {k: v for k, v in request.headers.items() if k != provider.signature_header}
    assert rejected(provider, Request(headers, request.body, request.query)) == (
        provider.missing_reason
    )


@pytest.mark.parametrize("scheme", [s for s in SCHEMES if PROVIDERS[s].signature_header])
def test_a_malformed_signature_is_refused(scheme: str) -> None:
    provider = PROVIDERS[scheme]
    request = deliver(provider)
    value, reason = provider.malformed
    assert provider.signature_header is not None
    headers = {**request.headers, provider.signature_header: value}
    assert rejected(provider, Request(headers, request.body, request.query)) == reason


@pytest.mark.parametrize("scheme", TIMESTAMPED)
@pytest.mark.parametrize(
    ("direction", "reason"), [(-1, "stale_timestamp"), (1, "future_timestamp")]
)
def test_timestamps_outside_the_tolerance_are_refused(
    scheme: str, direction: int, reason: str
) -> None:
    provider = PROVIDERS[scheme]
    tolerance = provider.config().tolerance_seconds
    late = deliver(provider, at=NOW + direction * (tolerance + 2))
    assert rejected(provider, late) == reason
    edge = deliver(provider, at=NOW + direction * (tolerance - 1))
    assert check(provider, edge).event_type == provider.expected.event_type


def test_each_provider_has_its_own_tolerance() -> None:
    tolerance = {name: PROVIDERS[name].config().tolerance_seconds for name in TIMESTAMPED}
    assert tolerance == {
        "discord": 300,
        "hubspot": 300,
        "linear": 60,
        "mailgun": 300,
        "paddle": 5,
        "sendgrid": 300,
        "svix": 300,
        "twitch": 600,
        "zoom": 300,
    }
    widened = PROVIDERS["paddle"].config().model_copy(update={"tolerance_seconds": 60})
    late = deliver(PROVIDERS["paddle"], at=NOW - 30)
    assert check(PROVIDERS["paddle"], late, config=widened).event_type


@pytest.mark.parametrize("scheme", [s for s in SCHEMES if not REGISTRY[s].timestamped])
def test_schemes_without_timestamps_accept_old_deliveries(scheme: str) -> None:
    provider = PROVIDERS[scheme]
    assert check(provider, deliver(provider, at=0)) == provider.expected


@pytest.mark.parametrize("scheme", SCHEMES)
def test_rotation_any_active_key_verifies(scheme: str) -> None:
    provider = PROVIDERS[scheme]
    other_keys = provider.other_keys or (provider.other_signer,)
    both = (*other_keys, *provider.keys)
    assert check(provider, deliver(provider), keys=both) == provider.expected
    assert check(provider, deliver(provider, signer=provider.other_signer), keys=both).event_type
    with pytest.raises(WebhookRejected):
        check(provider, deliver(provider), keys=other_keys)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_no_active_key_is_refused(scheme: str) -> None:
    provider = PROVIDERS[scheme]
    request = deliver(provider)
    config = provider.config()
    with pytest.raises(WebhookRejected, match="no_secret"):
        check(provider, request, keys=("",), config=config)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_signing_needs_a_key(scheme: str) -> None:
    provider = PROVIDERS[scheme]
    with pytest.raises(ValueError, match="secret"):
        sign(provider.config(), provider.body, "", NOW)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_rejections_never_contain_keys_or_signatures(scheme: str) -> None:
    provider = PROVIDERS[scheme]
    request = deliver(provider, signer=provider.other_signer)
    with pytest.raises(WebhookRejected) as info:
        check(provider, request)
    rendered = " ".join([str(info.value), repr(info.value), info.value.message])
    for value in [provider.signer, *provider.keys, *request.headers.values()]:
        if len(value) >= 8:
            assert value not in rendered
