"""The TLS context of a listener (the stream's and the HTTP port's), from a PEM
certificate chain and its key; None when no certificate is configured."""

from __future__ import annotations

import ssl

__all__ = ["server_tls"]


def server_tls(cert: str, key: str) -> ssl.SSLContext | None:
    if not cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context
