"""The ``relay`` command (protocol.md "Command line").

Every subcommand takes ``--config FILE`` (or ``RELAY_CONFIG``) and ``--data-dir DIR``
(or ``RELAY_DATA_DIR``); with no database URL they use the embedded PostgreSQL of the
data directory, so a command run beside ``relay serve`` works on the same database.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from relay.config import Config, ConfigError, load_config
from relay.logs import configure_logging
from relay.store.chain import verify_chain
from relay.store.embedded import EmbeddedPostgresError
from relay.store.units import UnitError, add_unit, issue_token, list_units, revoke_unit

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=None,
                        help="TOML configuration file (default: $RELAY_CONFIG)")
    common.add_argument("--data-dir", type=Path, default=None,
                        help="data directory (default: $RELAY_DATA_DIR or ~/.local/share/relay)")
    parser = argparse.ArgumentParser(prog="relay", description="Real-time alert relay.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", parents=[common], help="run the stream and HTTP servers")
    commands.add_parser("migrate", parents=[common], help="apply pending database migrations")

    units = commands.add_parser("units", help="manage units").add_subparsers(
        dest="units_command", required=True)
    add = units.add_parser("add", parents=[common], help="add a unit; prints its first token")
    add.add_argument("unit_id")
    add.add_argument("--country", required=True)
    add.add_argument("--airport", default=None)
    add.add_argument("--name", default="")
    add.add_argument("--roles", required=True, help="comma-separated: publish,subscribe,audit,admin")
    units.add_parser("list", parents=[common], help="list units")
    revoke = units.add_parser("revoke", parents=[common], help="revoke a unit and all its tokens")
    revoke.add_argument("unit_id")

    audit = commands.add_parser("audit", help="audit the event log").add_subparsers(
        dest="audit_command", required=True)
    audit.add_parser("verify", parents=[common],
                     help="recompute the tamper-evident chain; exit 1 naming the first broken seq")

    tokens = commands.add_parser("tokens", help="manage tokens").add_subparsers(
        dest="tokens_command", required=True)
    issue = tokens.add_parser("issue", parents=[common], help="issue another token to a unit")
    issue.add_argument("unit_id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config_path = args.config or (Path(os.environ["RELAY_CONFIG"])
                                      if os.environ.get("RELAY_CONFIG") else None)
        config = load_config(config_path, data_dir=args.data_dir)
    except ConfigError as exc:
        print(f"relay: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(level=config.log.level, fmt=config.log.format)
    try:
        if args.command == "serve":
            return asyncio.run(_serve(config))
        return asyncio.run(_one_shot(args, config))
    except UnitError as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            print(f"relay: cannot listen on the configured address: {exc}", file=sys.stderr)
        else:
            print(f"relay: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    except EmbeddedPostgresError as exc:
        print(f"relay: cannot run the embedded database: {exc}", file=sys.stderr)
        return 1


async def _serve(config: Config) -> int:
    from relay.app import run_relay
    from relay.lifecycle import ShutdownIncomplete

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await run_relay(config, stop)
    except ShutdownIncomplete as incomplete:
        print(f"relay: stopped, but {incomplete}", file=sys.stderr)
        return 1
    return 0


async def _one_shot(args: argparse.Namespace, config: Config) -> int:
    from relay.store.database import connect_once

    async with connect_once(config) as conn:
        if args.command == "migrate":
            print("migrations applied")
        elif args.command == "units" and args.units_command == "add":
            roles = [role.strip() for role in args.roles.split(",") if role.strip()]
            token = await add_unit(conn, args.unit_id, country=args.country,
                                   airport=args.airport, name=args.name, roles=roles)
            print(f"unit {args.unit_id} added with roles {','.join(sorted(set(roles)))}")
            print("token (shown once; store it now):")
            print(token)
        elif args.command == "units" and args.units_command == "list":
            _print_units(await list_units(conn))
        elif args.command == "units" and args.units_command == "revoke":
            count = await revoke_unit(conn, args.unit_id)
            print(f"unit {args.unit_id} revoked ({count} active token(s) revoked)")
        elif args.command == "audit":
            return await _verify(conn)
        elif args.command == "tokens":
            token = await issue_token(conn, args.unit_id)
            print(f"new token for {args.unit_id} (shown once; store it now):")
            print(token)
    return 0


async def _verify(conn: asyncpg.Connection) -> int:
    report = await verify_chain(conn)
    if report.intact:
        print(f"intact: {report.events} events, head {report.head}, head hash {report.head_hash}")
        return 0
    print(f"broken at seq {report.first_broken_seq}: {report.reason} "
          f"({report.events} events verified before it)")
    return 1


def _print_units(rows: list) -> None:  # type: ignore[type-arg]
    print(f"{'UNIT':<24} {'CC':<3} {'APT':<4} {'ROLES':<28} {'TOKENS':>6}  STATE  NAME")
    for unit, tokens in rows:
        state = "revoked" if unit.revoked_at else "active"
        print(f"{unit.unit_id:<24} {unit.country:<3} {unit.airport or '-':<4} "
              f"{','.join(sorted(unit.roles)):<28} {tokens:>6}  {state:<6} {unit.name}")
