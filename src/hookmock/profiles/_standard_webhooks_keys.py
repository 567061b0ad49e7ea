"""Standard Webhooks keys and signatures (the private half of :mod:`.standard_webhooks`, shared
with its audit checks): ``whsec_`` HMAC secrets, ``whsk_``/``whpk_`` ed25519 keys, and the
``v1``/``v1a`` signatures over ``{webhook-id}.{webhook-timestamp}.{raw body}``.

Source: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
("Signature scheme", "Webhook headers").
"""

from __future__ import annotations

import base64
import binascii
import hmac
import random
from typing import Any

from ..errors import UsageError

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
SIGNING_KEY_PREFIX = "whsk_"
PUBLIC_KEY_PREFIX = "whpk_"
SYMMETRIC, ASYMMETRIC = "v1", "v1a"


# -- keys ------------------------------------------------------------------------------------
def _b64(text: str, what: str) -> bytes:
    try:  # as the reference library reads it: padding optional
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(
            f"the {what} is not base64 after its prefix; give the key as the provider shows it "
            f"({SECRET_PREFIX}…, {SIGNING_KEY_PREFIX}… or {PUBLIC_KEY_PREFIX}…)"
        ) from None


def _hmac_key(secret: str) -> bytes:
    return _b64(secret.removeprefix(SECRET_PREFIX), "signing secret") if secret else b""


def check_key(secret: str, *, signing: bool) -> None:
    """Raise :class:`UsageError` unless ``secret`` is a usable key: a ``whsec_`` secret with at least
    one byte, a 32-byte ``whsk_`` signing key, or (to verify only) a 32-byte ``whpk_`` public key."""
    if secret.startswith(PUBLIC_KEY_PREFIX):
        if signing:
            raise UsageError(
                f"a {PUBLIC_KEY_PREFIX} key verifies, it cannot sign; sign with the {SIGNING_KEY_PREFIX} key"
            )
        raw = _b64(secret.removeprefix(PUBLIC_KEY_PREFIX), "public key")
        if len(raw) != 32:
            raise UsageError(f"a {PUBLIC_KEY_PREFIX} key holds 32 bytes, not {len(raw)}")
    elif secret.startswith(SIGNING_KEY_PREFIX):
        _signing_key(secret)
    elif not _hmac_key(secret):
        raise UsageError(
            f"the signing secret holds no bytes after {SECRET_PREFIX!r}; give {SECRET_PREFIX} followed by "
            "the base64 of the secret's bytes (the specification suggests 24 to 64 random bytes)"
        )


def _ed25519() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:  # pragma: no cover - cryptography is a dependency
        raise UsageError(
            "v1a (ed25519) signatures need the 'cryptography' package: pip install cryptography"
        ) from None
    return ed25519


def _signing_key(secret: str) -> Any:
    raw = _b64(secret.removeprefix(SIGNING_KEY_PREFIX), "signing key")
    if len(raw) not in (32, 64):  # the seed, or seed + public key (the libsodium form)
        raise UsageError(f"a {SIGNING_KEY_PREFIX} key holds 32 bytes (or 64), not {len(raw)}")
    return _ed25519().Ed25519PrivateKey.from_private_bytes(raw[:32])


def _public_raw(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def public_key_of(secret: str) -> str:
    """The ``whpk_`` public key of a ``whsk_`` signing key (a ``whpk_`` key is returned as is)."""
    if secret.startswith(PUBLIC_KEY_PREFIX):
        return secret
    if not secret.startswith(SIGNING_KEY_PREFIX):
        raise UsageError(f"only a {SIGNING_KEY_PREFIX} signing key has a public key")
    return PUBLIC_KEY_PREFIX + base64.b64encode(_public_raw(_signing_key(secret).public_key())).decode()


def generate_key_pair(rng: random.Random | None = None) -> tuple[str, str]:
    """A new ed25519 key pair for ``v1a`` signatures: ``(whsk_…, whpk_…)``."""
    seed = rng.randbytes(32) if rng is not None else random.SystemRandom().randbytes(32)
    signing = SIGNING_KEY_PREFIX + base64.b64encode(seed).decode()
    return signing, public_key_of(signing)


def _content(message_id: str, timestamp: str, body: bytes) -> bytes:
    return f"{message_id}.{timestamp}.".encode() + bytes(body)


def signature(body: bytes, secret: str, timestamp: int | str, message_id: str) -> str:
    """One ``v1,<base64>`` (``whsec_`` secret) or ``v1a,<base64>`` (``whsk_`` key) signature."""
    content = _content(message_id, str(timestamp), body)
    if secret.startswith(PUBLIC_KEY_PREFIX):
        raise UsageError(
            f"a {PUBLIC_KEY_PREFIX} key verifies, it cannot sign; sign with the {SIGNING_KEY_PREFIX} key"
        )
    if secret.startswith(SIGNING_KEY_PREFIX):
        return f"{ASYMMETRIC},{base64.b64encode(_signing_key(secret).sign(content)).decode()}"
    return f"{SYMMETRIC},{base64.b64encode(hmac.digest(_hmac_key(secret), content, 'sha256')).decode()}"


def _check_id(message_id: str) -> str:
    if not message_id or "." in message_id or not message_id.isprintable():
        raise UsageError(
            f"webhook-id {message_id!r}: a message id is a non-empty printable string without '.' "
            "(the specification forbids '.', the signed content's delimiter)"
        )
    return message_id
