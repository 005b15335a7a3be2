"""API key and webhook secret material: made, hashed and compared here only."""

import base64
import hashlib
import hmac
import secrets

KEY_PREFIX = "ck"


def key_new() -> tuple[str, str, str]:
    """A new key: (full key shown once, prefix stored, hash stored)."""
    prefix = secrets.token_hex(4)  # 8 characters, finds the row
    secret = secrets.token_urlsafe(32)  # 256 bits
    return f"{KEY_PREFIX}_{prefix}_{secret}", prefix, secret_hash(secret)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_split(raw: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 8 or not parts[2]:
        return None
    return parts[1], parts[2]


def secret_matches(secret: str, stored_hash: str) -> bool:
    # Constant time: how much of a guess matched must not show in the timing.
    return hmac.compare_digest(secret_hash(secret).encode(), stored_hash.encode())


WEBHOOK_SECRET_PREFIX = "whsec_"


def webhook_secret_new() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in standard base64."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def is_standard_secret(secret: str) -> bool:
    """A Standard Webhooks secret (``whsec_`` and padded standard base64). The
    old scheme's secrets (``whsec_`` and 43 URL-safe characters) never are."""
    try:
        return secret.startswith(WEBHOOK_SECRET_PREFIX) and bool(
            base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX), validate=True)
        )
    except ValueError:
        return False


def standard_webhook_signature(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header of the Standard Webhooks specification:
    ``v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`` for each secret
    (the key is the base64 after ``whsec_``), space-separated: during a
    rotation a receiver holding either secret finds its signature."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    out = []
    for secret in secrets_:
        key = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))
        out.append("v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode())
    return " ".join(out)


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The old scheme: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``, as sent in X-Clinic-Signature."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"
