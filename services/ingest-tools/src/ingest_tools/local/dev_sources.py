"""``ingest serve --dev-sources``: one webhook source per supported provider, with generated
secrets, as ``stripe listen`` prints the ``whsec_`` to use.

A source is named after its scheme (``/webhooks/github``, ``/webhooks/stripe``, ...). The secrets
are generated once and kept in the data directory (``dev-secrets.json``), so a provider's
dashboard or a test configured with them keeps working after a restart. Each run writes the
sources document (``dev-sources.json``, for ``ingest send --sources``); providers that sign with
a private key (Discord, SendGrid) get a key pair, the private key in ``keys/NAME.pem`` for
``ingest send --private-key``.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest_tools.local.datadir import write_atomically

#: Providers whose own secrets look like ``whsec_`` + base64.
_WHSEC = frozenset({"stripe", "standard-webhooks", "svix"})
SECRETS_FILE = "dev-secrets.json"
SOURCES_FILE = "dev-sources.json"


def providers() -> list[str]:
    """The scheme of every supported provider, in the docs' order (generic schemes such as
    ``hmac-sha256``, ``token`` or ``none`` are configured per source, not per provider)."""
    from ingest.domain.webhooks.schemes import REGISTRY

    return [name for name, scheme in REGISTRY.items() if scheme.signed and not scheme.header_mapped]


@dataclass(frozen=True)
class DevSource:
    """One generated source: what it verifies with, and what a sender signs with."""

    name: str
    secret: str  # the configured secret, or the public key
    private_key: Path | None = None  # where the private key is, for key-pair providers

    def describe(self) -> str:
        if self.private_key is None:
            return f"secret {self.secret}"
        return f"public key {self.secret}, private key {self.private_key}"


def _shared_secret(name: str) -> str:
    if name in _WHSEC:
        return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")
    return secrets.token_hex(32)


def _ed25519_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return public.hex(), _pem(key)


def _p256_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(public).decode("ascii"), _pem(key)


def _pem(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    pem: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode("ascii")


_KEY_PAIRS: tuple[Callable[[], tuple[str, str]], ...] = (_ed25519_pair, _p256_pair)


def _entry(name: str, secret: str, url: str) -> dict[str, Any]:
    from ingest.domain.webhooks.schemes import REGISTRY

    entry: dict[str, Any] = {"scheme": name, "secrets": [secret]}
    if "url" in REGISTRY[name].options:
        entry["url"] = url
    return entry


def _valid(entry: dict[str, Any]) -> bool:
    from ingest.domain.webhooks.config import SourceConfig
    from pydantic import ValidationError

    try:
        SourceConfig.model_validate(entry)
    except ValidationError:
        return False
    return True


def _generate(name: str, url: str) -> dict[str, str]:
    """A secret for provider ``name`` (or a key pair, when it verifies with a public key)."""
    from ingest.domain.webhooks.schemes import REGISTRY

    shared = _shared_secret(name)
    is_public_key = REGISTRY[name].public_key
    if _valid(_entry(name, shared, url)) and not (is_public_key and is_public_key(shared)):
        return {"secret": shared}
    for pair in _KEY_PAIRS:
        public, private = pair()
        if _valid(_entry(name, public, url)):
            return {"secret": public, "private_key": private}
    raise ValueError(f"no secret could be generated for {name!r}")


def dev_sources(folder: Path, api_url: str) -> tuple[dict[str, Any], list[DevSource]]:
    """The sources document of one source per provider, and what each one was given; the
    secrets are read from ``folder`` (generated and saved there the first time)."""
    stored_path = folder / SECRETS_FILE
    try:
        stored: dict[str, dict[str, str]] = json.loads(stored_path.read_text("utf-8"))
    except (OSError, ValueError):
        stored = {}
    document: dict[str, Any] = {}
    described: list[DevSource] = []
    for name in providers():
        url = f"{api_url}/webhooks/{name}"
        kept = stored.get(name)
        if not isinstance(kept, dict) or not _valid(_entry(name, str(kept.get("secret")), url)):
            kept = stored[name] = _generate(name, url)
        document[name] = _entry(name, kept["secret"], url)
        key_path = None
        if "private_key" in kept:
            key_path = folder / "keys" / f"{name}.pem"
            write_atomically(key_path, kept["private_key"], 0o600)
        described.append(DevSource(name, kept["secret"], key_path))
    write_atomically(stored_path, json.dumps(stored, indent=2) + "\n", 0o600)
    full = {"sources": document}
    write_atomically(folder / SOURCES_FILE, json.dumps(full, indent=2) + "\n", 0o600)
    return full, described
