"""The provider schemes against their providers' own published examples and libraries, and their
handshakes.

Published examples: Twilio's request-validator examples (form parameters, and a JSON body with
``bodySHA256``), Square's SDK signature example, SendGrid's Event Webhook example (with its failing
key and signature). Cross-checks, both ways: libsodium's Ed25519 (``pynacl``) for Discord and
Standard Webhooks ``v1a``, the pure-Python ECDSA library SendGrid's own verifier uses
(``starkbank-ecdsa``), and the Standard Webhooks reference library for Svix's header spelling.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from ellipticcurve.curve import prime256v1  # type: ignore[import-untyped]
from ellipticcurve.ecdsa import Ecdsa  # type: ignore[import-untyped]
from ellipticcurve.privateKey import PrivateKey  # type: ignore[import-untyped]
from ellipticcurve.publicKey import PublicKey  # type: ignore[import-untyped]
from ellipticcurve.signature import Signature  # type: ignore[import-untyped]
from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.schemes import VerifiedDelivery, WebhookRejected, sign, verify
from nacl.signing import SigningKey, VerifyKey
from pydantic import ValidationError
from standardwebhooks import Webhook

from tests.webhook_providers import NOW, PROVIDERS, check, deliver


def config(scheme: str, *secrets: str, **options: object) -> SourceConfig:
    return SourceConfig.model_validate({"scheme": scheme, "secrets": list(secrets), **options})


def reason(call: object) -> str:
    assert callable(call)
    with pytest.raises(WebhookRejected) as info:
        call()
    return info.value.reason


# --------------------------------------------------------------------------------------------
# Twilio: the examples of its request validator

TWILIO_TOKEN = "12345"
TWILIO_URL = "https://mycompany.com/myapp.php"
TWILIO_QUERY = "foo=1&bar=2"
TWILIO_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
TWILIO_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
TWILIO_JSON = b'{"property": "value", "boolean": true}'
TWILIO_JSON_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
TWILIO_JSON_SIGNATURE = "a9nBmqA0ju/hNViExpshrM61xv4="


def twilio(body: bytes, signature: str, query: str, url: str = TWILIO_URL) -> VerifiedDelivery:
    source = config("twilio", TWILIO_TOKEN, url=url)
    headers = {"x-twilio-signature": signature, "i-twilio-idempotency-token": "idem-1"}
    return verify(source, headers, body, [TWILIO_TOKEN], NOW, query=query)


def test_twilio_accepts_its_published_form_example_in_any_field_order() -> None:
    for pairs in (TWILIO_PARAMS.items(), reversed(TWILIO_PARAMS.items())):
        body = urlencode(list(pairs)).encode()
        assert twilio(body, TWILIO_SIGNATURE, TWILIO_QUERY) == VerifiedDelivery("webhook", "idem-1")


def test_twilio_refuses_its_example_with_a_changed_field_or_url() -> None:
    changed = urlencode({**TWILIO_PARAMS, "Digits": "9999"}).encode()
    assert reason(lambda: twilio(changed, TWILIO_SIGNATURE, TWILIO_QUERY)) == "invalid_signature"
    body = urlencode(TWILIO_PARAMS).encode()
    assert reason(lambda: twilio(body, TWILIO_SIGNATURE, "foo=1&bar=3")) == "invalid_signature"


def test_twilio_accepts_its_published_json_example() -> None:
    query = f"{TWILIO_QUERY}&bodySHA256={TWILIO_JSON_HASH}"
    assert twilio(TWILIO_JSON, TWILIO_JSON_SIGNATURE, query).delivery_id == "idem-1"
    tampered = TWILIO_JSON.replace(b"true", b"false")
    assert reason(lambda: twilio(tampered, TWILIO_JSON_SIGNATURE, query)) == "invalid_signature"


def test_twilio_signs_its_published_examples() -> None:
    source = config("twilio", TWILIO_TOKEN, url=TWILIO_URL)
    # The query string of the example is part of the URL Twilio was given: sign it as such.
    with_query = source.model_copy(update={"url": f"{TWILIO_URL}?{TWILIO_QUERY}"})
    headers = sign(with_query, urlencode(TWILIO_PARAMS).encode(), TWILIO_TOKEN, NOW)
    assert headers["X-Twilio-Signature"] == TWILIO_SIGNATURE


def test_twilio_tries_the_url_with_and_without_its_default_port() -> None:
    body = urlencode(TWILIO_PARAMS).encode()
    ported = "https://mycompany.com:443/myapp.php"
    assert twilio(body, TWILIO_SIGNATURE, TWILIO_QUERY, url=ported).event_type == "webhook"


def test_twilio_takes_the_type_from_the_status_fields() -> None:
    provider = PROVIDERS["twilio"]
    body = b"CallSid=CA1&CallStatus=ringing&From=%2B1"
    assert check(provider, deliver(provider, body=body)).event_type == "ringing"
    events = json.dumps([{"type": "com.twilio.messaging.message.delivered"}]).encode()
    request = deliver(provider, body=events)
    assert request.query.startswith("bodySHA256=")
    assert check(provider, request).event_type == "com.twilio.messaging.message.delivered"


# --------------------------------------------------------------------------------------------
# Square: the example of its SDKs' signature helper

SQUARE_BODY = (
    b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification",'
    b'"event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f",'
    b'"created_at":"2022-07-13T20:30:59.037339943Z",'
    b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
)
SQUARE_KEY = "Ibxx_5AKakO-3qeNVR61Dw"
SQUARE_URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
SQUARE_SIGNATURE = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="


def test_square_accepts_and_signs_its_published_example() -> None:
    source = config("square", SQUARE_KEY, url=SQUARE_URL)
    headers = {"x-square-hmacsha256-signature": SQUARE_SIGNATURE}
    assert verify(source, headers, SQUARE_BODY, [SQUARE_KEY], NOW) == VerifiedDelivery(
        "webhooks.test_notification", "ac3ac95b-f97d-458c-a6e6-18981597e05f"
    )
    assert sign(source, SQUARE_BODY, SQUARE_KEY, NOW) == {
        "x-square-hmacsha256-signature": SQUARE_SIGNATURE
    }
    elsewhere = config("square", SQUARE_KEY, url=SQUARE_URL + "x")
    assert reason(lambda: verify(elsewhere, headers, SQUARE_BODY, [SQUARE_KEY], NOW)) == (
        "invalid_signature"
    )


# --------------------------------------------------------------------------------------------
# SendGrid: the Event Webhook example of its libraries; starkbank-ecdsa both ways

SENDGRID_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQG"
    "hHPTnlvFYPAZFceEu/1FwCM/QmGUhA=="
)
SENDGRID_OTHER_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo"
    "7aNDthvj+y7GjUuFDb/R1NGe1OPzpA=="
)
SENDGRID_SIGNATURE = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0="
SENDGRID_BAD_SIGNATURE = SENDGRID_SIGNATURE.replace("NH2j", "NH3j")
SENDGRID_TIMESTAMP = "1588788367"
SENDGRID_BODY = b'{"category":"example_payload","event":"test_event","message_id":"message_id"}'


def sendgrid(body: bytes, signature: str, key: str = SENDGRID_KEY) -> VerifiedDelivery:
    headers = {
        "x-twilio-email-event-webhook-signature": signature,
        "x-twilio-email-event-webhook-timestamp": SENDGRID_TIMESTAMP,
    }
    return verify(config("sendgrid", key), headers, body, [key], float(SENDGRID_TIMESTAMP))


def test_sendgrid_accepts_its_published_example() -> None:
    assert sendgrid(SENDGRID_BODY, SENDGRID_SIGNATURE).delivery_id is None


@pytest.mark.parametrize(
    ("body", "signature", "key"),
    [
        (SENDGRID_BODY, SENDGRID_SIGNATURE, SENDGRID_OTHER_KEY),
        (b"payload", SENDGRID_SIGNATURE, SENDGRID_KEY),
        (SENDGRID_BODY, SENDGRID_BAD_SIGNATURE, SENDGRID_KEY),
    ],
)
def test_sendgrid_refuses_its_published_failing_examples(
    body: bytes, signature: str, key: str
) -> None:
    assert reason(lambda: sendgrid(body, signature, key)) == "invalid_signature"


def test_sendgrid_and_starkbank_ecdsa_agree_both_ways() -> None:
    private = PrivateKey(curve=prime256v1)
    public = base64.b64encode(private.publicKey().toDer()).decode()
    source = config("sendgrid", public)
    body = b'[{"event":"open","sg_event_id":"a"},{"event":"open","sg_event_id":"b"}]\r\n'
    timestamp = str(int(NOW))
    theirs = Ecdsa.sign(timestamp + body.decode(), private).toBase64()
    headers = {
        "x-twilio-email-event-webhook-signature": theirs,
        "x-twilio-email-event-webhook-timestamp": timestamp,
    }
    delivery = verify(source, headers, body, [public], NOW)
    assert delivery.event_type == "open"
    assert delivery.delivery_id is not None
    assert delivery.delivery_id.startswith("batch-")
    ours = sign(source, body, private.toPem(), NOW)
    assert Ecdsa.verify(
        timestamp + body.decode(),
        Signature.fromBase64(ours["X-Twilio-Email-Event-Webhook-Signature"]),
        PublicKey.fromDer(base64.b64decode(public)),
    )


# --------------------------------------------------------------------------------------------
# Discord: libsodium both ways; the PING handshake

DISCORD_SEED = bytes(range(32))


def discord_source() -> tuple[SourceConfig, SigningKey, str]:
    key = SigningKey(DISCORD_SEED)
    public = key.verify_key.encode().hex()
    return config("discord", public), key, public


def libsodium_signed(key: SigningKey, body: bytes) -> dict[str, str]:
    """Discord's headers for ``body``, signed at NOW by libsodium (PyNaCl)."""
    timestamp = str(int(NOW))
    signature = key.sign(timestamp.encode() + body).signature.hex()
    return {"x-signature-ed25519": signature, "x-signature-timestamp": timestamp}


def test_discord_and_libsodium_agree_both_ways() -> None:
    source, key, public = discord_source()
    body = b'{"id":"1","type":2,"data":{"name":"deploy"}}'
    headers = libsodium_signed(key, body)
    assert verify(source, headers, body, [public], NOW) == VerifiedDelivery(
        "APPLICATION_COMMAND", "1"
    )
    ours = sign(source, body, DISCORD_SEED.hex(), NOW)
    VerifyKey(bytes.fromhex(public)).verify(
        headers["x-signature-timestamp"].encode() + body, bytes.fromhex(ours["X-Signature-Ed25519"])
    )


def test_discord_ping_is_answered_with_a_pong_after_verification() -> None:
    source, key, public = discord_source()
    body = b'{"id":"2","type":1,"application_id":"3","version":1}'
    headers = libsodium_signed(key, body)
    assert verify(source, headers, body, [public], NOW).reply == {"type": 1}
    forged = {**headers, "x-signature-ed25519": "00" * 64}
    assert reason(lambda: verify(source, forged, body, [public], NOW)) == "invalid_signature"


def test_discord_keys_must_be_public_keys() -> None:
    with pytest.raises(ValidationError, match="Ed25519 public key"):
        config("discord", "not a key")
    source, _, public = discord_source()
    request = deliver(PROVIDERS["discord"])
    assert reason(lambda: verify(source, request.headers, request.body, ["zz"], NOW)) == (
        "unusable_secret"
    )
    assert public


# --------------------------------------------------------------------------------------------
# Standard Webhooks v1a and Svix

SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_BODY = b'{"type":"contact.created","data":{"id":"1f81eb52"}}'


def v1a_keys(seed: bytes) -> tuple[str, str]:
    key = SigningKey(seed)
    private = "whsk_" + base64.b64encode(seed).decode()
    public = "whpk_" + base64.b64encode(key.verify_key.encode()).decode()
    return private, public


def test_v1a_and_libsodium_agree_both_ways() -> None:
    seed = hashlib.sha256(b"sender").digest()
    private, public = v1a_keys(seed)
    source = config("standard-webhooks", public)
    signed = f"msg_1.{int(NOW)}.".encode() + SW_BODY
    theirs = base64.b64encode(SigningKey(seed).sign(signed).signature).decode()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(NOW)),
        "webhook-signature": f"v1a,{theirs}",
    }
    assert verify(source, headers, SW_BODY, [public], NOW) == VerifiedDelivery(
        "contact.created", "msg_1"
    )
    ours = sign(source, SW_BODY, private, NOW, delivery_id="msg_1")
    version, _, encoded = ours["webhook-signature"].partition(",")
    assert version == "v1a"
    public_raw = base64.b64decode(public.removeprefix("whpk_"))
    VerifyKey(public_raw).verify(signed, base64.b64decode(encoded))


def test_a_source_may_hold_secrets_and_public_keys_while_it_moves_to_v1a() -> None:
    private, public = v1a_keys(hashlib.sha256(b"next").digest())
    source = config("standard-webhooks", SW_SECRET, public)
    for signer in (SW_SECRET, private):
        headers = sign(source, SW_BODY, signer, NOW, delivery_id="m")
        assert verify(source, headers, SW_BODY, [SW_SECRET, public], NOW).delivery_id == "m"
    both = sign(source, SW_BODY, SW_SECRET, NOW, delivery_id="m")["webhook-signature"]
    both += " " + sign(source, SW_BODY, private, NOW, delivery_id="m")["webhook-signature"]
    headers = {**sign(source, SW_BODY, SW_SECRET, NOW, delivery_id="m"), "webhook-signature": both}
    assert verify(config("standard-webhooks", public), headers, SW_BODY, [public], NOW).event_type


def test_v1a_signatures_do_not_verify_with_secrets_nor_v1_with_public_keys() -> None:
    private, public = v1a_keys(hashlib.sha256(b"x").digest())
    headers = sign(config("standard-webhooks", public), SW_BODY, private, NOW, delivery_id="m")
    assert reason(lambda: verify(config("svix", SW_SECRET), {}, SW_BODY, [SW_SECRET], NOW)) == (
        "missing_signature"
    )
    hmac_only = config("standard-webhooks", SW_SECRET)
    assert reason(lambda: verify(hmac_only, headers, SW_BODY, [SW_SECRET], NOW)) == (
        "malformed_signature"
    )
    with pytest.raises(ValueError, match="private key"):
        sign(config("standard-webhooks", public), SW_BODY, public, NOW)


def test_svix_headers_and_the_reference_library_agree() -> None:
    stamp = datetime.fromtimestamp(int(NOW), tz=UTC)
    signature = Webhook(SW_SECRET).sign(msg_id="msg_9", timestamp=stamp, data=SW_BODY.decode())
    headers = {"svix-id": "msg_9", "svix-timestamp": str(int(NOW)), "svix-signature": signature}
    source = config("svix", SW_SECRET)
    assert verify(source, headers, SW_BODY, [SW_SECRET], NOW) == VerifiedDelivery(
        "contact.created", "msg_9"
    )
    ours = sign(source, SW_BODY, SW_SECRET, NOW, delivery_id="msg_9")
    assert set(ours) == {"svix-id", "svix-timestamp", "svix-signature"}
    renamed = {name.replace("svix-", "webhook-"): value for name, value in ours.items()}
    assert ours["svix-signature"] == signature
    assert renamed["webhook-id"] == "msg_9"
    # The Standard Webhooks header names are not Svix's: a svix source does not read them.
    assert reason(lambda: verify(source, renamed, SW_BODY, [SW_SECRET], NOW)) == (
        "missing_signature"
    )


# --------------------------------------------------------------------------------------------
# Handshakes: Zoom, Twitch; body-carried timestamps: Linear, Mailgun; HubSpot's URI


def test_zoom_url_validation_is_answered_with_the_matching_secret() -> None:
    provider = PROVIDERS["zoom"]
    body = b'{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}'
    for secret in ("old-zoom-token", provider.signer):
        request = deliver(provider, body=body, signer=secret)
        delivery = check(provider, request, keys=("old-zoom-token", provider.signer))
        expected = hmac.new(secret.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256)
        assert delivery.reply == {
            "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
            "encryptedToken": expected.hexdigest(),
        }
    forged = deliver(provider, body=body, signer="not-the-token")
    assert reason(lambda: check(provider, forged)) == "invalid_signature"


def test_twitch_challenge_is_answered_as_text_and_revocations_are_stored() -> None:
    provider = PROVIDERS["twitch"]
    body = (
        b'{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}'
    )
    request = deliver(provider, body=body)
    assert request.headers["twitch-eventsub-message-type"] == "webhook_callback_verification"
    assert check(provider, request).reply == "pogchamp-kappa-360noscope-vohiyo"
    revoked = deliver(provider)
    headers = {**revoked.headers, "twitch-eventsub-message-type": "revocation"}
    delivery = check(provider, type(revoked)(headers, revoked.body))
    assert delivery.event_type == "channel.follow.revocation"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-11-14T22:13:20.123456789Z", NOW + 0.123456789),
        ("2023-11-14T22:13:20Z", NOW),
        ("2023-11-14T23:13:20+01:00", NOW),
    ],
)
def test_twitch_timestamps_are_rfc3339_to_the_nanosecond(value: str, expected: float) -> None:
    from ingest.domain.webhooks.schemes.twitch import parse_rfc3339

    assert parse_rfc3339(value) == pytest.approx(expected)
    with pytest.raises(WebhookRejected, match="malformed_timestamp"):
        parse_rfc3339("1700000000")


def test_linear_needs_its_signed_timestamp() -> None:
    provider = PROVIDERS["linear"]
    body = b'{"action":"create","type":"Issue"}'
    headers = sign(provider.config(), body, provider.signer, NOW, delivery_id="d")
    lowered = {name.lower(): value for name, value in headers.items()}
    assert reason(lambda: verify(provider.config(), lowered, body, list(provider.keys), NOW)) == (
        "missing_timestamp"
    )


def test_mailgun_form_posts_carry_the_signature_in_fields() -> None:
    provider = PROVIDERS["mailgun"]
    request = deliver(provider, body=b"event=opened&recipient=a%40example.com")
    assert b"signature=" in request.body
    assert check(provider, request) == VerifiedDelivery("opened", None)


def test_hubspot_signs_the_method_and_the_decoded_uri() -> None:
    provider = PROVIDERS["hubspot"]
    request = deliver(provider)
    source = provider.config()
    assert verify(source, request.headers, request.body, list(provider.keys), NOW).event_type
    with pytest.raises(WebhookRejected, match="invalid_signature"):
        verify(source, request.headers, request.body, list(provider.keys), NOW, method="PUT")
    # The query string is part of the URI, with the characters HubSpot decodes decoded.
    timestamp = request.headers["x-hubspot-request-timestamp"]
    url = provider.options["url"] + "?a=b:c"
    digest = hmac.new(
        provider.signer.encode(),
        b"POST" + url.encode() + request.body + timestamp.encode(),
        "sha256",
    ).digest()
    headers = {**request.headers, "x-hubspot-signature-v3": base64.b64encode(digest).decode()}
    assert verify(source, headers, request.body, list(provider.keys), NOW, query="a=b%3Ac")


def test_gitlab_prefers_its_idempotency_key_to_the_event_uuid() -> None:
    provider = PROVIDERS["gitlab"]
    headers = {"x-gitlab-token": provider.signer, "x-gitlab-event-uuid": "event-uuid"}
    source = provider.config()
    assert verify(source, headers, b"{}", list(provider.keys), NOW).delivery_id == "event-uuid"
    headers["idempotency-key"] = "retry-key"
    assert verify(source, headers, b"{}", list(provider.keys), NOW).delivery_id == "retry-key"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"scheme": "twilio", "secrets": ["t"]}, "needs url"),
        ({"scheme": "square", "secrets": ["k"]}, "needs url"),
        ({"scheme": "hubspot", "secrets": ["k"]}, "needs url"),
        ({"scheme": "twilio", "secrets": ["t"], "url": "https://h/p?x=1"}, "pattern"),
        ({"scheme": "github", "secrets": ["t"], "url": "https://h/p"}, "only apply"),
        ({"scheme": "basic", "secrets": ["no-colon"]}, "user:password"),
        ({"scheme": "token", "secrets": ["t"]}, "needs header"),
        ({"scheme": "sendgrid", "secrets": ["not a key"]}, "ECDSA"),
        ({"scheme": "standard-webhooks", "secrets": ["whpk_AAAA"]}, "Ed25519"),
        ({"scheme": "github", "secrets": ["t"], "allowed_origins": ["bad origin"]}, "pattern"),
    ],
)
def test_provider_options_are_checked(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SourceConfig.model_validate(data)
