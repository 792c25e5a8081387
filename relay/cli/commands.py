"""The one-shot commands of ``relay``: migrations, configuration check, units, tokens,
audit. Each runs against the database ``relay serve`` would use (the embedded one of the
data directory, or the configured URL), so it works beside running relays; each opens it
through :func:`connected`, which says when that opening created the protection key file.
(``keys`` and ``protection`` are in :mod:`relay.cli.protection_commands`.)"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import sys
import unicodedata
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import asyncpg

from relay.cli.say import Say
from relay.cli.unit_import import MAX_FILE_CHARACTERS, parse_units_csv
from relay.config import Config, ConfigError
from relay.contract.errors import BadFrame
from relay.contract.federation import RemoteUnit
from relay.protection.keyring import KeyFileError, Keyring
from relay.store import admin, federation
from relay.store.chain import verify_chain
from relay.store.chain_export import verify_export

__all__ = ["cli_actor", "connected", "minute", "os_user", "run_command", "table"]

_SUBCOMMANDS = ("units_command", "tokens_command", "peers_command", "keys_command",
                "protection_command")


def os_user() -> str:
    """The system user running the command."""
    try:  # the effective user, not $USER or $LOGNAME, which anyone can set
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def cli_actor(args: argparse.Namespace) -> admin.Actor:
    """The system user running the command: the access log's "who" for it."""
    words = ["relay", args.command] + [value for value in (
        getattr(args, name, None) for name in _SUBCOMMANDS) if value]
    return admin.Actor(f"cli:{os_user()}", "CLI", " ".join(words))


@contextlib.asynccontextmanager
async def connected(config: Config, say: Say) -> AsyncIterator[tuple[asyncpg.Connection, str]]:
    """A connection to the relay's database, and its URL (for a command that needs a small
    pool of its own). When opening it created the protection key file, the operator is
    told on stderr, whatever the command (protection.md "At rest")."""
    from relay.store.database import DatabaseHandle, connect_once

    dsn: list[str] = []

    def opened(handle: DatabaseHandle) -> None:
        dsn.append(handle.dsn)
        if handle.key_created is not None:
            say.error("relay.key_file_created", file=handle.key_created)

    async with connect_once(config, on_open=opened) as conn:
        yield conn, dsn[0]


def _roles(text: str) -> list[str]:
    return [role.strip() for role in text.split(",") if role.strip()]


async def run_command(args: argparse.Namespace, config: Config, config_path: Path | None,
                      say: Say) -> int:
    if args.command == "check-config":
        _check_key_file(config)
        _summary(config, config_path, say)
        return 0
    if args.command == "units" and args.units_command == "import":
        return await _import(args, config, say)
    if args.command == "audit" and (args.export is not None or args.filtered):
        return _verify_export(args, say)
    async with connected(config, say) as (conn, _):
        if args.command == "migrate":
            say.out("relay.migrated")
        elif args.command == "units":
            await _units(conn, args, say)
        elif args.command == "tokens":
            await _tokens(conn, args, say)
        elif args.command == "peers":
            await _peers(conn, args, say)
        elif args.command == "audit":
            return await _verify(conn, say)
    return 0


def _printable(cell: str) -> str:
    return "".join(f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c for c in cell)


def _check_key_file(config: Config) -> None:
    """The protection key file a relay would open: configured, it must be there and
    sound; in the data directory, sound if it is there (else the relay creates it)."""
    if config.protection.key_file or config.key_path.exists():
        try:
            Keyring.open(config.key_path)
        except KeyFileError as exc:
            raise ConfigError(f"bad value for 'protection.key_file': {exc}") from None


async def _units(conn: asyncpg.Connection, args: argparse.Namespace, say: Say) -> None:
    actor = cli_actor(args)
    match args.units_command:
        case "add":
            roles = _roles(args.roles)
            info, issued = await admin.add_unit(conn, actor, args.unit_id, country=args.country,
                                                airport=args.airport, name=args.name, roles=roles,
                                                label=args.label)
            say.out("relay.unit_added", unit=args.unit_id, roles=",".join(sorted(info.unit.roles)))
            _print_token(say, "relay.token_once", issued)
        case "list":
            _print_units(say, await admin.list_units(conn), await federation.remote_units(conn))
        case "set":
            change = admin.UnitChange(roles=None if args.roles is None else _roles(args.roles),
                                      name=args.name, airport=args.airport)
            info = await admin.change_unit(conn, actor, args.unit_id, change)
            say.out("relay.unit_changed", unit=info.unit.unit_id, roles=",".join(sorted(info.unit.roles)),
                    airport=info.unit.airport or "-", name=info.unit.name or "-")
        case "revoke":
            count = await admin.suspend_unit(conn, actor, args.unit_id)
            say.out("relay.unit_suspended", unit=args.unit_id, count=count)
        case "reinstate":
            await admin.reinstate_unit(conn, actor, args.unit_id)
            say.out("relay.unit_reinstated", unit=args.unit_id)


async def _tokens(conn: asyncpg.Connection, args: argparse.Namespace, say: Say) -> None:
    actor = cli_actor(args)
    match args.tokens_command:
        case "issue":
            issued = await admin.issue_token(conn, actor, args.unit_id, label=args.label,
                                             expires_in_days=args.expires_in)
            _print_token(say, "relay.new_token", issued, unit=args.unit_id)
        case "list":
            _print_tokens(say, await admin.list_tokens(conn, args.unit_id))
        case "revoke":
            info = await admin.revoke_token(conn, actor, args.token_id)
            say.out("relay.token_revoked", token_id=info.token_id, unit=info.unit_id)


async def _peers(conn: asyncpg.Connection, args: argparse.Namespace, say: Say) -> None:
    actor = cli_actor(args)
    match args.peers_command:
        case "add":
            countries = _roles(args.countries)
            issued = await federation.grant_peer(conn, actor, args.peer_id, countries)
            say.out("relay.peer_added", peer=args.peer_id, countries=",".join(sorted(set(countries))))
            _print_token(say, "relay.peer_token", issued, peer=args.peer_id)
        case "list":
            _print_peers(say, await federation.peer_statuses(conn))
        case "revoke":
            await federation.revoke_peer(conn, actor, args.peer_id)
            say.out("relay.peer_revoked", peer=args.peer_id)


def _print_peers(say: Say, peers: list[federation.PeerStatus]) -> None:
    rows = []
    for peer in peers:
        link = peer.link
        grant = "-" if peer.countries is None else say.t(
            "relay.revoked" if peer.revoked_at else "relay.active")
        rows.append([
            peer.peer_id, ",".join(peer.countries or []) or "-", grant,
            "-" if link is None else say.t(f"relay.link.{link.state}"),
            "-" if link is None else minute(link.state_since, say),
            "-" if link is None else str(link.position),
            "-" if link is None or link.applied_at is None
            else f"#{link.applied_origin_seq} {minute(link.applied_at, say)}",
            "-" if link is None or link.behind is None else str(link.behind),
            str(peer.units), "" if link is None or link.last_error is None else link.last_error[:60]])
    table(say, "relay.peers_header", rows)


def _print_token(say: Say, key: str, issued: admin.IssuedToken, **values: object) -> None:
    """The secret alone on the last line of stdout; its public id on stderr."""
    say.out(key, **values)
    print(f"token_id: {issued.info.token_id}", file=sys.stderr)
    say.line(issued.token)


async def _import(args: argparse.Namespace, config: Config, say: Say) -> int:
    try:
        with args.file.open(encoding="utf-8-sig") as source:  # no more than the limit in memory
            text = source.read(MAX_FILE_CHARACTERS + 1)
    except (OSError, UnicodeDecodeError) as exc:
        say.error("relay.cannot_read", file=args.file, reason=getattr(exc, "strerror", None) or exc)
        return 1
    units, problems = parse_units_csv(text)
    if problems:
        say.refusal(BadFrame(say.t("relay.import_refused", count=len(problems), file=args.file),
                             problems))
        return 1
    async with connected(config, say) as (conn, _):
        try:
            issued = await admin.add_units(conn, cli_actor(args), [
                (unit.unit_id, unit.country, unit.airport, unit.name, unit.roles) for unit in units])
        except admin.RowRefused as refused:
            line = units[refused.index].line
            say.refusal(type(refused.error)(
                say.t("relay.import_refused", count=1, file=args.file),
                [type(problem)(f"line {line}.{problem.field}", problem.code, problem.params)
                 for problem in refused.error.details]))
            return 1
    say.line("unit_id,token")
    for unit_id, token in issued:
        say.line(f"{unit_id},{token}")
    print(say.t("relay.imported", count=len(issued)), file=sys.stderr)
    return 0


async def _verify(conn: asyncpg.Connection, say: Say) -> int:
    report = await verify_chain(conn)
    if report.intact:
        say.out("relay.intact", events=report.events, head=report.head, hash=report.head_hash)
        return 0
    params = dict(report.params)
    if "what" in params:
        params["what"] = say.t(f"relay.chain.column.{params['what']}")
    reason = say.t(f"relay.chain.{report.code}", **params) if report.code else report.reason
    say.out("relay.broken", seq=report.first_broken_seq, reason=reason, events=report.events)
    return 1


def _verify_export(args: argparse.Namespace, say: Say) -> int:
    """``relay audit verify --export FILE.ndjson [--filtered]``: the chain recomputed from
    the file alone, no database (relay/store/chain_export.py)."""
    if args.export is None:
        say.error("relay.filtered_needs_export")
        return 2
    try:
        with args.export.open("rb") as lines:
            report = verify_export(lines, filtered=args.filtered)
    except OSError as exc:
        say.error("relay.cannot_read", file=args.export, reason=exc.strerror or exc)
        return 1
    problem = report.problem
    if problem is not None:
        reason = say.t(f"relay.export_problem.{problem.code}", **problem.params)
        if problem.seq is not None:
            say.out("relay.export_broken", seq=problem.seq, line=problem.line, reason=reason)
        elif problem.line:
            say.out("relay.export_broken_line", line=problem.line, reason=reason)
        else:
            say.out("relay.export_unverified", reason=reason)
        return 1
    say.out("relay.export_verified", events=report.events, alerts=report.alerts,
            receipts=report.receipts, first=report.first_seq, last=report.last_seq,
            hash=report.last_hash)
    if report.runs > 1:
        say.out("relay.export_runs", runs=report.runs, gap=report.first_gap_after)
    elif report.first_seq == 1:
        say.out("relay.export_complete", last=report.last_seq)
    else:
        say.out("relay.export_one_run", first=report.first_seq)
    if report.content_removed:
        say.out("relay.export_content_removed", count=report.content_removed)
    return 0


# -- tables ---------------------------------------------------------------------------


def table(say: Say, header_key: str, rows: list[list[str]]) -> None:
    """Rows under a header, in columns; a control character in a cell is shown escaped
    (text from the database never drives the operator's terminal)."""
    header = say.t(header_key).split("|")
    rows = [[_printable(cell) for cell in row] for row in rows]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for cells in [header, *rows]:
        say.line("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip())


def _print_units(say: Say, units: list[admin.UnitInfo],
                 remote: list[tuple[str, RemoteUnit]]) -> None:
    table(say, "relay.units_header", [
        *([info.unit.unit_id, info.unit.country, info.unit.airport or "-", ",".join(sorted(info.unit.roles)),
           str(info.active_tokens), say.t("relay.suspended" if info.unit.revoked_at else "relay.active"),
           info.unit.name] for info in units),
        *([unit.unit_id, unit.country, unit.airport or "-", "-", "-",
           say.t("relay.remote", relay=relay_id), unit.name] for relay_id, unit in remote)])


def minute(value: datetime | None, say: Say) -> str:
    return say.t("relay.never") if value is None else value.strftime("%Y-%m-%d %H:%M")


def _print_tokens(say: Say, tokens: list[admin.TokenInfo]) -> None:
    now = datetime.now().astimezone()
    rows = []
    for token in tokens:
        state = ("relay.revoked" if token.revoked_at else
                 "relay.expired" if token.expires_at and token.expires_at <= now else "relay.valid")
        rows.append([token.token_id, token.unit_id, say.t(state), minute(token.created_at, say),
                     "-" if token.expires_at is None else minute(token.expires_at, say),
                     minute(token.last_used_at, say), token.label])
    table(say, "relay.tokens_header", rows)


def _summary(config: Config, config_path: Path | None, say: Say) -> None:
    """What the relay would run with: checked, nothing started."""
    say.out("relay.config_ok")
    if config_path is None:
        say.out("relay.summary_defaults")
    else:
        say.out("relay.summary_file", path=config_path)
    say.out("relay.summary_data_dir", path=config.data_dir)
    where = say.t("relay.summary_embedded") if not config.database.url else _masked(config.database.url)
    say.out("relay.summary_database", where=where)
    stream, http = config.stream, config.http
    say.out("relay.summary_stream", scheme="wss" if stream.tls_cert else "ws", host=stream.host,
            port=stream.port)
    say.out("relay.summary_http", scheme="https" if getattr(http, "tls_cert", "") else "http",
            host=http.host, port=http.port)
    say.out("relay.summary_regions", regions=", ".join(sorted(config.regions)) or say.t("relay.none"))
    say.out("relay.summary_relay", relay=config.relay.id or say.t("relay.none"),
            peers=", ".join(peer.id for peer in config.federation.peers) or say.t("relay.none"))


def _masked(url: str) -> str:
    """A database URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
