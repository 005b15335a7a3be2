"""API key and webhook secret material: made, hashed and compared here only."""

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


def webhook_secret_new() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``, as sent in X-Clinic-Signature."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"
