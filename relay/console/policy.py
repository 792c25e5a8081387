"""Where the console finds the stream, which of its paths need a token, and the security
headers of every console response (console.md "Serving"). Pure functions.

The stream's URL for a browser is ``[stream] public_url`` when set (a relay behind a
proxy), else ``ws://`` (``wss://`` with ``stream.tls_cert``) + ``stream.host`` and
``stream.port``. A wildcard listener (``0.0.0.0``, ``::``) is no address a browser can
use, so the host the browser itself used to reach the HTTP port stands in for it.

The Content-Security-Policy allows scripts, styles, images and workers from the relay
only (no ``unsafe-inline``, no ``unsafe-eval``), connections to the relay itself and to
exactly the stream's URL, and no framing.
"""

from __future__ import annotations

import re
from typing import Final

from relay.config import StreamConfig

__all__ = [
    "CONSOLE_PREFIX",
    "DIRECTORY_PATH",
    "STREAM_PATH",
    "content_security_policy",
    "is_console_path",
    "is_public_path",
    "security_headers",
    "stream_url",
]

CONSOLE_PREFIX: Final = "/console/"
DIRECTORY_PATH: Final = "/console/directory.json"  # the relay's units: needs a token
STREAM_PATH: Final = "/v1/stream"
_WILDCARDS: Final = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind
# A host name or an IPv4 address, or an IPv6 address in brackets; then an optional port.
_HOST_HEADER: Final = re.compile(
    r"(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def is_console_path(path: str) -> bool:
    """The console's own paths: ``/`` and everything under ``/console/``."""
    return path == "/" or path.startswith(CONSOLE_PREFIX)


def is_public_path(path: str) -> bool:
    """The console's paths that need no token: all of them but the unit directory."""
    return is_console_path(path) and path != DIRECTORY_PATH


def stream_url(stream: StreamConfig, request_host: str | None) -> str:
    """The stream's URL as a browser that reached the relay at ``request_host`` (the
    HTTP ``Host`` header, possibly with a port) must open it."""
    if stream.public_url:
        return stream.public_url
    host = stream.host
    if host in _WILDCARDS:
        match = _HOST_HEADER.fullmatch(request_host or "")
        host = match["host"] if match else "localhost"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    scheme = "wss" if stream.tls_cert else "ws"
    return f"{scheme}://{host}:{stream.port}{STREAM_PATH}"


def content_security_policy(stream: str) -> str:
    """The console's CSP: everything from the relay alone, connections to it and to
    ``stream`` (exactly that URL: a source with a path matches that path only)."""
    return "; ".join((
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        f"connect-src 'self' {stream}",
        "worker-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def security_headers(stream: str) -> dict[str, str]:
    """The headers of every console response (console.md "Serving")."""
    return {
        "Content-Security-Policy": content_security_policy(stream),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
