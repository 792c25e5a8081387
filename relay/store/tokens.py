"""Bearer tokens: 256 random bits, shown once, stored only as a SHA-256 digest.

A token is ``relay_`` followed by 43 URL-safe base64 characters. A fast hash is the
right one here: the secret has 256 bits of entropy, so it cannot be guessed from its
digest, and lookup by digest is one index probe per connection.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["TOKEN_PREFIX", "looks_like_token", "new_token", "token_digest"]

TOKEN_PREFIX = "relay_"  # noqa: S105 - a public prefix, not a secret


def new_token() -> str:
    """A fresh random token (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """What the database stores and looks up."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def looks_like_token(token: str) -> bool:
    """A cheap shape check before any lookup; it rejects obvious garbage and huge input."""
    return token.startswith(TOKEN_PREFIX) and 20 <= len(token) <= 128
