"""Every sample `ingest trigger` ships is a delivery its provider's scheme accepts, stored with the
event type its name says, and a new delivery each time it is sent."""

from __future__ import annotations

import pytest
from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.schemes import (
    REGISTRY,
    request_query,
    sign,
    signed_body,
    verify,
)
from ingest_tools.cli.send import carried_in_headers
from ingest_tools.samples import Sample, catalog, default_event

from tests.webhook_providers import provider_source

SAMPLES = catalog()
#: Schemes that are not a provider's (unsigned, or told per source where the type and id are):
#: configured by hand, with nothing to sample. The rest are the providers `serve --dev-sources`
#: configures.
GENERIC = {name for name, scheme in REGISTRY.items() if not scheme.signed or scheme.header_mapped}


def _source(scheme: str) -> tuple[SourceConfig, str, tuple[str, ...]]:
    """(configuration, the key that signs, the keys that verify) of a source of ``scheme``."""
    document, signer = provider_source(scheme)
    config = SourceConfig.model_validate(document)
    return config, signer, tuple(document["secrets"])


def test_every_provider_has_samples() -> None:
    providers = {sample.provider for sample in SAMPLES.values()}
    assert providers == set(REGISTRY) - GENERIC
    assert all(
        sum(s.provider == p for s in SAMPLES.values()) >= 2
        for p in providers - {"typeform"}  # Typeform sends one kind of event
    )


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=lambda s: s.name)
def test_a_sample_verifies_as_its_event(sample: Sample) -> None:
    config, signer, keys = _source(sample.provider)
    now = 1_764_489_600.0
    body = signed_body(config, sample.body(now), signer, now)
    in_header, _ = carried_in_headers(config, signer, body)
    headers = sign(config, body, signer, now, event_type=sample.header_type if in_header else None)
    lowered = {k.lower(): v for k, v in headers.items()}
    lowered["content-type"] = sample.content_type
    verified = verify(config, lowered, body, keys, now, query=request_query(config, body))
    assert verified.reply is None  # a delivery to store, not a handshake
    assert verified.event_type == sample.header_type


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=lambda s: s.name)
def test_a_sample_is_a_new_delivery_each_time(sample: Sample) -> None:
    """Sent twice, a sample is two deliveries: a new delivery id in the provider's header, or
    new ids in the body where the provider carries them there (never a duplicate)."""
    assert b"{{" not in sample.body().replace(b"{{answer_", b"")  # Typeform's own syntax
    config, signer, _ = _source(sample.provider)
    _, id_in_header = carried_in_headers(config, signer, sample.body(1.0))
    assert id_in_header or sample.body(1.0) != sample.body(1.0)


def test_the_default_event_of_a_provider() -> None:
    assert default_event("github") == "push"
    assert default_event("gitlab") == "Push Hook"
    assert default_event("stripe") in {s.event for s in SAMPLES.values() if s.provider == "stripe"}
    assert default_event("none") is None
