"""Asymmetric signatures (Ed25519, ECDSA P-256) for the schemes whose providers sign with a private
key and publish the public key: Discord, Standard Webhooks' ``v1a`` (and Svix), SendGrid.

``cryptography`` is imported inside the functions, so only a delivery to such a source pays for it
(docs/decisions/0011-cold-start-budget.md): neither ``/events`` nor an HMAC scheme loads it.

Keys are given as text, in the provider's own format or as PEM:

- Ed25519 public keys: 32 bytes as hex (Discord), ``whpk_`` + base64 (Standard Webhooks), base64,
  or a PEM ``PUBLIC KEY``; private keys (for signing): 32-byte seeds (or libsodium's 64-byte
  seed and public key) as hex, ``whsk_`` + base64 or base64, or a PEM ``PRIVATE KEY``.
- ECDSA P-256 public keys: base64 DER ``SubjectPublicKeyInfo`` (SendGrid's verification key) or
  PEM; private keys: base64 DER PKCS #8 or PEM.

Errors never repeat a key: a key that cannot be read raises ``ValueError`` naming its kind.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Final

ED25519_PUBLIC_PREFIX: Final = "whpk_"
ED25519_PRIVATE_PREFIX: Final = "whsk_"
_ED25519_KEY_BYTES: Final = 32
_PEM_MARK: Final = "-----BEGIN "


def _bytes(text: str) -> bytes | None:
    """Hex or base64 text as bytes (``None`` when it is neither)."""
    text = "".join(text.split())
    if len(text) % 2 == 0 and all(char in "0123456789abcdefABCDEF" for char in text):
        return bytes.fromhex(text)
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(padded)
        except (binascii.Error, ValueError):
            return None


def is_pem(text: str) -> bool:
    return text.lstrip().startswith(_PEM_MARK)


def ed25519_public_bytes(text: str) -> bytes:
    """The 32 bytes of an Ed25519 public key given as hex, ``whpk_``/base64 or PEM."""
    if is_pem(text):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519

        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ValueError("not a PEM public key") from None
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw = _bytes(text.strip().removeprefix(ED25519_PUBLIC_PREFIX))
    if raw is None or len(raw) != _ED25519_KEY_BYTES:
        raise ValueError("an Ed25519 public key is 32 bytes, as hex, base64 (whpk_...) or PEM")
    return raw


def ed25519_seed(text: str) -> bytes:
    """The 32-byte seed of an Ed25519 private key given as hex, ``whsk_``/base64 or PEM."""
    if is_pem(text):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519

        try:
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError):
            raise ValueError("not an unencrypted PEM private key") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    raw = _bytes(text.strip().removeprefix(ED25519_PRIVATE_PREFIX))
    if raw is None or len(raw) not in (_ED25519_KEY_BYTES, 2 * _ED25519_KEY_BYTES):
        raise ValueError(
            "an Ed25519 private key is a 32-byte seed, as hex, base64 (whsk_...) or PEM"
        )
    return raw[:_ED25519_KEY_BYTES]


def ed25519_verifies(
    public_keys: Sequence[bytes], message: bytes, signatures: Sequence[bytes]
) -> bool:
    """Whether one of ``signatures`` is a valid Ed25519 signature of ``message`` by one key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ed25519

    for raw in public_keys:
        key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        for signature in signatures:
            try:
                key.verify(signature, message)
            except InvalidSignature:
                continue
            return True
    return False


def ed25519_sign(seed: bytes, message: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def ed25519_public_of(seed: bytes) -> bytes:
    """The public key of a private key's seed."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def p256_public_der(text: str) -> bytes:
    """The DER ``SubjectPublicKeyInfo`` of an ECDSA P-256 public key (base64 DER or PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        if is_pem(text):
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            raw = _bytes(text)
            if raw is None:
                raise ValueError
            key = serialization.load_der_public_key(raw)
    except (ValueError, UnicodeEncodeError):
        raise ValueError("an ECDSA public key is base64 DER or PEM") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not an ECDSA P-256 public key")
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def p256_verifies(public_keys: Sequence[bytes], message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (DER) is a valid ECDSA P-256/SHA-256 signature by one key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    for der in public_keys:
        key = serialization.load_der_public_key(der)
        assert isinstance(key, ec.EllipticCurvePublicKey)  # p256_public_der checked it
        try:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            continue
        return True
    return False


def p256_sign(private_text: str, message: bytes) -> bytes:
    """A DER ECDSA P-256/SHA-256 signature of ``message`` (the key as PEM or base64 DER PKCS #8)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        if is_pem(private_text):
            key = serialization.load_pem_private_key(private_text.encode("ascii"), password=None)
        else:
            raw = _bytes(private_text)
            if raw is None:
                raise ValueError
            key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise ValueError("an ECDSA private key is unencrypted PEM or base64 DER") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not an ECDSA P-256 private key")
    return key.sign(message, ec.ECDSA(hashes.SHA256()))
