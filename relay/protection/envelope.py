"""Envelope encryption of one alert's personal fields (protection.md "At rest").

Each alert gets its own random 256-bit data key. The data key encrypts the fields with
AES-256-GCM (``cryptography``), and the operator's key wraps the data key, also with
AES-256-GCM. Both bind the alert id as associated data, so a sealed box moved to another
alert's row does not open. A sealed value is ``nonce (12 bytes) || ciphertext || tag``.
Destroying the wrapped data key (crypto-shredding) makes the fields unrecoverable.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["DATA_KEY_BYTES", "SealBroken", "new_data_key", "open_box", "seal_box"]

DATA_KEY_BYTES = 32
_NONCE = 12


class SealBroken(Exception):
    """A sealed value does not open: altered, moved to another alert, or the wrong key."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=8 * DATA_KEY_BYTES)


def seal_box(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def open_box(key: bytes, sealed: bytes, context: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], context)
    except (InvalidTag, ValueError):
        raise SealBroken("the sealed value does not open under this key for this alert") from None
