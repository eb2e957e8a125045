"""One delivery per provider scheme, as its provider sends it: the source's configuration, the key
that signs (a shared secret, or a private key for the asymmetric schemes), a typical body and what
verification learns from it. The unit tests of the schemes and the handler's integration tests
share these.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.schemes import (
    VerifiedDelivery,
    request_query,
    sign,
    signed_body,
    verify,
)

NOW = 1_700_000_000.0
PUBLIC_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/provider"


def ed25519_seed(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def ed25519_public_hex(seed: bytes) -> str:
    public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def p256_private(label: str) -> ec.EllipticCurvePrivateKey:
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    scalar = int.from_bytes(hashlib.sha256(label.encode()).digest(), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def p256_private_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def p256_public_base64(key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as SendGrid shows its verification key: base64 DER."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


DISCORD_SEED = ed25519_seed("discord application")
SVIX_SEED = ed25519_seed("standard webhooks sender")
SENDGRID_KEY = p256_private("sendgrid account")


@dataclass(frozen=True)
class Provider:
    """One scheme's delivery: ``signer`` signs, ``keys`` verify (the source's ``secrets``)."""

    scheme: str
    signer: str
    keys: tuple[str, ...]
    body: bytes
    expected: VerifiedDelivery
    #: Where the signature (or credential) travels: a header, or ``None`` when in the body.
    signature_header: str | None
    #: A value of that header the scheme cannot read, and the reason it gives.
    malformed: tuple[str, str] = ("garbage", "malformed_signature")
    options: dict[str, Any] = field(default_factory=dict)
    delivery_id: str | None = "delivery-1"
    event_type: str | None = "push"
    #: The key of another deployment: what signs with it must not verify here.
    other_signer: str = "another secret of the same provider"
    other_keys: tuple[str, ...] = ()
    missing_reason: str = "missing_signature"
    wrong_reason: str = "invalid_signature"

    def config(self, *keys: str) -> SourceConfig:
        return SourceConfig.model_validate(
            {"scheme": self.scheme, "secrets": list(keys or self.keys), **self.options}
        )


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _other_ed25519(label: str, prefix: str = "") -> tuple[str, str]:
    seed = ed25519_seed(label)
    raw = bytes.fromhex(ed25519_public_hex(seed))
    if prefix:
        return prefix + "sk_" + base64.b64encode(seed).decode(), (
            prefix + "pk_" + base64.b64encode(raw).decode()
        )
    return seed.hex(), raw.hex()


ZOOM_BODY = _json({"event": "meeting.started", "event_ts": 1700000000000, "payload": {}})
_WH_SIGNER = "whsk_" + base64.b64encode(SVIX_SEED).decode()
_WH_PUBLIC = "whpk_" + base64.b64encode(bytes.fromhex(ed25519_public_hex(SVIX_SEED))).decode()
_OTHER_WH = _other_ed25519("another standard webhooks sender", "wh")
_OTHER_DISCORD = _other_ed25519("another discord application")
_OTHER_SENDGRID = p256_private("another sendgrid account")

PROVIDERS: dict[str, Provider] = {
    provider.scheme: provider
    for provider in (
        Provider(
            "gitlab",
            "gitlab-secret-token",
            ("gitlab-secret-token",),
            _json({"object_kind": "push", "ref": "refs/heads/main"}),
            VerifiedDelivery("Push Hook", "delivery-1"),
            "x-gitlab-token",
            malformed=("", "missing_credentials"),
            event_type="Push Hook",
            missing_reason="missing_credentials",
            wrong_reason="invalid_credentials",
        ),
        Provider(
            "bitbucket",
            "bitbucket-secret",
            ("bitbucket-secret",),
            _json({"repository": {"full_name": "team/repo"}, "push": {"changes": []}}),
            VerifiedDelivery("repo:push", "delivery-1"),
            "x-hub-signature",
            event_type="repo:push",
        ),
        Provider(
            "twilio",
            "twilio-auth-token",
            ("twilio-auth-token",),
            b"AccountSid=AC123&Body=Hello&From=%2B14155550100&MessageSid=SM1&SmsStatus=received",
            VerifiedDelivery("received", "delivery-1"),
            "x-twilio-signature",
            options={"url": PUBLIC_URL},
        ),
        Provider(
            "zoom",
            "zoom-secret-token",
            ("zoom-secret-token",),
            ZOOM_BODY,
            VerifiedDelivery("meeting.started", "sha256:" + hashlib.sha256(ZOOM_BODY).hexdigest()),
            "x-zm-signature",
        ),
        Provider(
            "twitch",
            "twitch-eventsub-secret",
            ("twitch-eventsub-secret",),
            _json(
                {
                    "subscription": {"id": "f1c2a387", "type": "channel.follow", "version": "2"},
                    "event": {"user_id": "1337", "broadcaster_user_id": "1234"},
                }
            ),
            VerifiedDelivery("channel.follow", "delivery-1"),
            "twitch-eventsub-message-signature",
        ),
        Provider(
            "discord",
            DISCORD_SEED.hex(),
            (ed25519_public_hex(DISCORD_SEED),),
            _json({"id": "1170000000000000001", "type": 2, "data": {"name": "ping"}}),
            VerifiedDelivery("APPLICATION_COMMAND", "1170000000000000001"),
            "x-signature-ed25519",
            other_signer=_OTHER_DISCORD[0],
            other_keys=(_OTHER_DISCORD[1],),
        ),
        Provider(
            "svix",
            _WH_SIGNER,
            (_WH_PUBLIC,),
            _json({"type": "invoice.paid", "data": {"id": "in_1"}}),
            VerifiedDelivery("invoice.paid", "delivery-1"),
            "svix-signature",
            other_signer=_OTHER_WH[0],
            other_keys=(_OTHER_WH[1],),
        ),
        Provider(
            "sendgrid",
            p256_private_pem(SENDGRID_KEY),
            (p256_public_base64(SENDGRID_KEY),),
            _json(
                [
                    {"email": "a@example.com", "event": "delivered", "sg_event_id": "sg-1"},
                ]
            ),
            VerifiedDelivery("delivered", "sg-1"),
            "x-twilio-email-event-webhook-signature",
            other_signer=p256_private_pem(_OTHER_SENDGRID),
            other_keys=(p256_public_base64(_OTHER_SENDGRID),),
        ),
        Provider(
            "paddle",
            "pdl_ntfset_01h0000000000000000000000_secretkey",
            ("pdl_ntfset_01h0000000000000000000000_secretkey",),
            _json({"event_id": "evt_01h1", "event_type": "transaction.completed", "data": {}}),
            VerifiedDelivery("transaction.completed", "evt_01h1"),
            "paddle-signature",
            malformed=("ts=1700000000;h1=zz", "malformed_signature"),
        ),
        Provider(
            "square",
            "square-signature-key",
            ("square-signature-key",),
            _json({"merchant_id": "M1", "type": "payment.updated", "event_id": "e-1", "data": {}}),
            VerifiedDelivery("payment.updated", "e-1"),
            "x-square-hmacsha256-signature",
            options={"url": PUBLIC_URL},
        ),
        Provider(
            "linear",
            "lin_wh_signing_secret",
            ("lin_wh_signing_secret",),
            _json({"action": "create", "type": "Issue", "data": {"id": "i-1"}}),
            VerifiedDelivery("Issue.create", "delivery-1"),
            "linear-signature",
        ),
        Provider(
            "intercom",
            "intercom-client-secret",
            ("intercom-client-secret",),
            _json(
                {
                    "type": "notification_event",
                    "topic": "conversation.user.created",
                    "id": "notif_1",
                }
            ),
            VerifiedDelivery("conversation.user.created", "notif_1"),
            "x-hub-signature",
        ),
        Provider(
            "hubspot",
            "hubspot-client-secret",
            ("hubspot-client-secret",),
            _json([{"eventId": 100, "subscriptionType": "contact.creation", "objectId": 1}]),
            VerifiedDelivery("contact.creation", "100"),
            "x-hubspot-signature-v3",
            options={"url": PUBLIC_URL},
        ),
        Provider(
            "mailgun",
            "key-mailgun-signing-key",
            ("key-mailgun-signing-key",),
            _json({"event-data": {"event": "delivered", "id": "CPgfbmQMTCKtHW6uIWtuVe"}}),
            VerifiedDelivery("delivered", "CPgfbmQMTCKtHW6uIWtuVe"),
            None,
        ),
        Provider(
            "typeform",
            "typeform-secret",
            ("typeform-secret",),
            _json({"event_id": "01H", "event_type": "form_response", "form_response": {}}),
            VerifiedDelivery("form_response", "01H"),
            "typeform-signature",
        ),
        Provider(
            "pagerduty",
            "pagerduty-webhook-secret",
            ("pagerduty-webhook-secret",),
            _json({"event": {"id": "01DEN", "event_type": "incident.triggered", "data": {}}}),
            VerifiedDelivery("incident.triggered", "01DEN"),
            "x-pagerduty-signature",
        ),
        Provider(
            "basic",
            "sender:correct horse battery staple",
            ("sender:correct horse battery staple",),
            _json({"anything": True}),
            VerifiedDelivery("push", "delivery-1"),
            "authorization",
            malformed=("Bearer abc", "missing_credentials"),
            options={"type_header": "X-Event", "id_header": "X-Delivery"},
            other_signer="sender:another password",
            missing_reason="missing_credentials",
            wrong_reason="invalid_credentials",
        ),
        Provider(
            "token",
            "shared-token-value",
            ("shared-token-value",),
            _json({"anything": True}),
            VerifiedDelivery("push", "delivery-1"),
            "x-webhook-token",
            malformed=("Token shared-token-value", "invalid_credentials"),
            options={
                "header": "X-Webhook-Token",
                "type_header": "X-Event",
                "id_header": "X-Delivery",
            },
            missing_reason="missing_credentials",
            wrong_reason="invalid_credentials",
        ),
    )
}


@dataclass(frozen=True)
class Request:
    headers: dict[str, str]
    body: bytes
    query: str = ""


def deliver(
    provider: Provider,
    *,
    signer: str | None = None,
    at: float = NOW,
    body: bytes | None = None,
    config: SourceConfig | None = None,
) -> Request:
    """The request the provider sends at ``at``: signed body, headers (lower-cased), query."""
    config = config or provider.config()
    key = provider.signer if signer is None else signer
    sent = signed_body(config, provider.body if body is None else body, key, at)
    headers = sign(
        config,
        sent,
        key,
        at,
        delivery_id=provider.delivery_id,
        event_type=provider.event_type,
    )
    return Request(
        {name.lower(): value for name, value in headers.items()},
        sent,
        request_query(config, sent),
    )


def check(
    provider: Provider,
    request: Request,
    *,
    keys: tuple[str, ...] | None = None,
    now: float = NOW,
    config: SourceConfig | None = None,
) -> VerifiedDelivery:
    active = list(keys or provider.keys)
    return verify(
        config or provider.config(*active),
        request.headers,
        request.body,
        active,
        now,
        query=request.query,
    )


@dataclass(frozen=True)
class WorkedExample:
    """A provider's own worked example of a signed delivery, byte for byte."""

    secret: str
    body: bytes
    signature: str
    timestamp: str = ""


# GitHub's "Validating webhook deliveries" (testing the implementation).
GITHUB_DOC = WorkedExample(
    secret="It's a Secret to Everybody",
    body=b"Hello, World!",
    signature="sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
)
# Slack's "Verifying requests from Slack": a slash command signed in 2018.
SLACK_DOC = WorkedExample(
    secret="8f742231b10e8888abcd99yyyzzz85a5",
    body=(
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
        b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
        b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
        b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    ),
    signature="v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    timestamp="1531420618",
)

# A generic HMAC-SHA256 sender, base64 and prefixed, with type and delivery-id headers: the
# end-to-end tests' source "acme" (with its "secrets").
ACME_HMAC: dict[str, Any] = {
    "scheme": "hmac-sha256",
    "header": "X-Acme-Signature",
    "encoding": "base64",
    "prefix": "sha256=",
    "type_header": "X-Acme-Event",
    "id_header": "X-Acme-Delivery",
}

# Shared secrets for the schemes PROVIDERS leaves to their own worked examples: with
# `provider_source`, one source of every provider scheme (the trigger samples' tests).
SAMPLE_SECRETS: dict[str, str] = {
    "github": "gh-sample-secret",
    "stripe": "whsec_sampleStripeSecret",
    "slack": "slack-sample-signing-secret",
    "shopify": "shpss_sample_secret",
    "standard-webhooks": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}


def provider_source(scheme: str) -> tuple[dict[str, Any], str]:
    """A source of ``scheme`` as the sources document holds it, and the key that signs for it
    (its shared secret, or the private key of the asymmetric schemes)."""
    if scheme in SAMPLE_SECRETS:
        return {"scheme": scheme, "secrets": [SAMPLE_SECRETS[scheme]]}, SAMPLE_SECRETS[scheme]
    provider = PROVIDERS[scheme]
    return {"scheme": scheme, "secrets": list(provider.keys), **provider.options}, provider.signer
