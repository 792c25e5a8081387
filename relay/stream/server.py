"""The WebSocket server at ``/v1/stream``: admission, handshake checks, then a :class:`Session`.

Admission comes first, when the TCP connection is made: past ``max_connections`` in all,
``max_connections_per_address`` from one client address, or ``max_unauthenticated``
connections not yet authenticated, a new connection is closed at once. The handshake
must complete within ``handshake_timeout``. A ``Authorization: Bearer`` header is checked
during it; a bad token gets HTTP 401 and no upgrade. Without the header the connection is
upgraded and the session expects an ``auth`` frame; until a token is accepted a frame may
be at most ``unauthenticated_frame_bytes``, then ``max_frame_bytes`` (1009 beyond).
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus

import structlog
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from relay.contract.wire import SUBPROTOCOLS, Encoding, choose_encoding
from relay.core.admission import Admission
from relay.stream.guard import GuardedConnection
from relay.stream.session import Session, StreamServices, client_address
from relay.tls import server_tls

__all__ = ["STREAM_PATH", "start_stream_server"]

STREAM_PATH = "/v1/stream"
_log = structlog.get_logger("relay.stream")


def _select_subprotocol(conn: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return None  # the relay then speaks relay.v1.msgpack (protocol.md)


def _plain(status: HTTPStatus, text: str, extra: dict[str, str] | None = None) -> Response:
    headers = Headers({"Content-Type": "text/plain; charset=utf-8", **(extra or {})})
    return Response(status.value, status.phrase, headers, f"{text}\n".encode())


async def start_stream_server(services: StreamServices) -> Server:
    config = services.config
    refused = services.metrics.refused_connections

    class Connection(GuardedConnection):
        admission = Admission(max_total=config.max_connections,
                              max_per_address=config.max_connections_per_address)
        unauthenticated = Admission(max_total=config.max_unauthenticated,
                                    max_per_address=config.max_unauthenticated)
        full_frame_bytes = config.max_frame_bytes

        @staticmethod
        def on_refused(limit: str) -> None:
            refused.labels(server="stream", limit=limit).inc()

    async def process_request(conn: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?", 1)[0] != STREAM_PATH:
            return _plain(HTTPStatus.NOT_FOUND, f"the stream is at {STREAM_PATH}")
        if services.connections.stopping:
            return _plain(HTTPStatus.SERVICE_UNAVAILABLE, "the relay is shutting down")
        header = request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        principal = None
        if scheme.lower() == "bearer" and token.strip():
            try:
                principal = await services.storage.authenticate(token.strip())
            except Exception as exc:  # noqa: BLE001 - the store is down
                _log.warning("auth_lookup_failed", error=type(exc).__name__)
                return _plain(HTTPStatus.SERVICE_UNAVAILABLE, "the store is unavailable; retry")
        if principal is None:
            _log.info("auth_refused", how="header", client=client_address(conn))
            return _plain(HTTPStatus.UNAUTHORIZED, "invalid, revoked or malformed bearer token",
                          {"WWW-Authenticate": 'Bearer realm="relay"'})
        conn.principal = principal  # type: ignore[attr-defined]
        if isinstance(conn, GuardedConnection):
            conn.authenticated()
        return None

    async def handler(conn: ServerConnection) -> None:
        encoding: Encoding = choose_encoding(conn.subprotocol)
        principal = getattr(conn, "principal", None)
        await Session(conn, services, encoding, principal).run()

    ssl_context = server_tls(config.tls_cert, config.tls_key)
    return await serve(
        handler,
        config.host,
        config.port,
        subprotocols=[Subprotocol(name) for name in SUBPROTOCOLS],
        select_subprotocol=_select_subprotocol,
        process_request=process_request,
        max_size=config.unauthenticated_frame_bytes,
        max_queue=16,
        open_timeout=config.handshake_timeout,
        create_connection=Connection,
        compression=None,
        ssl=ssl_context,
        ping_interval=20,
        ping_timeout=20,
        close_timeout=5,
        server_header="relay",
    )
