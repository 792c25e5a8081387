"""``relay keys`` and ``relay protection``: the operator's keys, the protection jobs on
demand and holds (protection.md "At rest", "Depersonalisation and deletion").

- ``keys list``: the keys of the key file, how many data keys each still wraps, and which
  the database uses that the file does not hold (exit 1: that data cannot be read);
- ``keys rotate``: a new current key, then every data key re-wrapped under it, while
  relays keep running on the same database and key file;
- ``keys retire KEY_ID``: an unused, not current key dropped from the file;
- ``protection run [--now DATE]``: masking and reduction as of ``DATE``;
- ``protection hold`` / ``protection holds``: place and list holds, each placed hold
  recorded in the access log with its reason.

Exit status as for every command (:mod:`relay.cli.main`): 1 refused, 2 bad usage. Never
a key, never a personal field, is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import time
import unicodedata
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import orjson

from relay import protection
from relay.app import job_settings
from relay.cli.commands import cli_actor, connected, minute, os_user, table
from relay.cli.say import Say
from relay.config import Config
from relay.contract.ids import is_alert_id
from relay.contract.times import moment, rfc3339
from relay.protection.envelope import SealBroken
from relay.protection.keyring import KeyFileError, Keyring
from relay.store import admin
from relay.store import protection as protection_store
from relay.store.pool import close_pool, create_pool

__all__ = ["MAX_REASON", "parse_date", "run_keys", "run_protection"]

MAX_REASON = 2000  # relay_holds.reason (sql/migrations/010_protection.sql)
# A running relay looks at the key file at most once a second (Keyring.current): after
# this long every relay process on this key file wraps under its newest key.
_KEY_FILE_SETTLES = 2.0
_CATCH_UP = 1.0  # then once more, for the alerts sealed while the first pass ran
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str) -> datetime:
    """``YYYY-MM-DD`` (00:00 UTC that day) or an RFC 3339 timestamp, from 1970 to 9000
    (the periods of the jobs are counted back from it); ValueError else."""
    if _DAY.fullmatch(text):
        when = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    else:
        when = moment(text)
    if not 1970 <= when.year <= 9000:
        raise ValueError(f"{text} is out of the range 1970-9000")
    return when


@contextlib.asynccontextmanager
async def _pool(dsn: str, config: Config) -> AsyncIterator[asyncpg.Pool]:
    """A small pool as the relay's role, for the store functions that work in batches."""
    pool = await create_pool(dsn, config.database, min_size=1, max_size=2, name="relay-cli")
    try:
        yield pool
    finally:
        await close_pool(pool)


# -- keys -------------------------------------------------------------------------------


async def run_keys(args: argparse.Namespace, config: Config, say: Say) -> int:
    async with connected(config, say) as (conn, dsn):
        keyring = protection.active().keyring
        try:
            match args.keys_command:
                case "list":
                    return await _list_keys(conn, keyring, say)
                case "rotate":
                    return await _rotate(conn, dsn, config, keyring, say, cli_actor(args))
                case _:
                    return await _retire(conn, keyring, args.key_id, say, cli_actor(args))
        except KeyFileError as exc:  # the file became unreadable or unwritable meanwhile
            say.error("relay.key_file_error", error=str(exc))
            return 1


def _missing(keyring: Keyring, usage: dict[str, int], say: Say) -> bool:
    """Say, loudly, which keys the database uses that the key file does not hold."""
    held = {key.key_id for key in keyring.keys}
    missing = {key_id: n for key_id, n in sorted(usage.items()) if key_id not in held}
    for key_id, count in missing.items():
        say.error("relay.key_missing", key=key_id, count=count, file=keyring.path)
    return bool(missing)


async def _list_keys(conn: asyncpg.Connection, keyring: Keyring, say: Say) -> int:
    usage = await protection_store.key_usage(conn)
    keys = keyring.keys
    rows = []
    for key in keys:
        count = usage.get(key.key_id, 0)
        state = ("relay.key_state.current" if key is keys[-1] else
                 "relay.key_state.in_use" if count else "relay.key_state.unused")
        rows.append([key.key_id, key.created, str(count), say.t(state)])
    held = {key.key_id for key in keys}
    rows += [[key_id, "-", str(count), say.t("relay.key_state.missing")]
             for key_id, count in sorted(usage.items()) if key_id not in held]
    say.out("relay.key_file", file=keyring.path)
    table(say, "relay.keys_header", rows)
    return 1 if _missing(keyring, usage, say) else 0


async def _rotate(conn: asyncpg.Connection, dsn: str, config: Config, keyring: Keyring,
                  say: Say, actor: admin.Actor) -> int:
    """The new key first, then, once every relay wraps under it, the earlier data keys
    re-wrapped; a second pass catches those sealed under the old key meanwhile."""
    if _missing(keyring, await protection_store.key_usage(conn), say):
        say.error("relay.rotate_refused_missing")
        return 1
    key = keyring.add_key()
    say.out("relay.key_added", key=key.key_id, file=keyring.path)
    await asyncio.sleep(_KEY_FILE_SETTLES)
    try:
        async with _pool(dsn, config) as pool:
            count = await protection_store.rewrap_keys(pool)
            await asyncio.sleep(_CATCH_UP)
            count += await protection_store.rewrap_keys(pool)
    except (KeyFileError, SealBroken) as exc:
        say.error("relay.rewrap_failed", key=key.key_id, error=str(exc) or type(exc).__name__)
        return 1
    await admin.record_action(conn, actor, "key.rotate", key.key_id, {"rewrapped": count})
    say.out("relay.rewrapped", key=key.key_id, count=count)
    return 0


async def _retire(conn: asyncpg.Connection, keyring: Keyring, key_id: str, say: Say,
                  actor: admin.Actor) -> int:
    keyring.reload()  # the file as it is now, not as this command opened it
    keys = keyring.keys
    if key_id not in {key.key_id for key in keys}:
        say.error("relay.retire_unknown", key=key_id, file=keyring.path)
        return 1
    if key_id == keys[-1].key_id:
        say.error("relay.retire_current", key=key_id)
        return 1
    # A relay that has not looked at the key file since the last rotation would still
    # wrap under this key: count its data keys only once every relay has.
    with contextlib.suppress(OSError):
        settled = keyring.path.stat().st_mtime + _KEY_FILE_SETTLES - time.time()
        if settled > 0:
            await asyncio.sleep(settled)
    count = (await protection_store.key_usage(conn)).get(key_id, 0)
    if count:
        say.error("relay.retire_in_use", key=key_id, count=count)
        return 1
    try:
        keyring.remove_key(key_id)
    except KeyFileError as exc:  # rotated or retired by another operator meanwhile
        say.error("relay.retire_failed", key=key_id, error=str(exc))
        return 1
    after = (await protection_store.key_usage(conn)).get(key_id, 0)
    if after:  # wrapped under it between the count and the removal: say so, loudly
        say.error("relay.key_missing", key=key_id, count=after, file=keyring.path)
        return 1
    await admin.record_action(conn, actor, "key.retire", key_id)
    say.out("relay.key_retired", key=key_id, file=keyring.path)
    return 0


# -- protection -------------------------------------------------------------------------


def _bad_date(say: Say, option: str, text: str) -> int:
    say.error("relay.bad_date", option=option, value=text)
    return 2


def _reason_problem(reason: str, say: Say) -> bool:
    """A hold's reason: said, storable, and harmless on the terminal that lists it."""
    if not reason.strip():
        say.error("relay.hold_no_reason")
    elif len(reason) > MAX_REASON:
        say.error("relay.hold_reason_too_long", limit=MAX_REASON, length=len(reason))
    elif bad := next((c for c in reason if unicodedata.category(c) == "Cc"), None):
        say.error("relay.hold_reason_control", character=f"U+{ord(bad):04X}")
    else:
        return False
    return True


async def run_protection(args: argparse.Namespace, config: Config, say: Say) -> int:
    match args.protection_command:
        case "run":
            return await _run(args, config, say)
        case "hold":
            return await _hold(args, config, say)
        case _:
            return await _holds(args, config, say)


async def _run(args: argparse.Namespace, config: Config, say: Say) -> int:
    now = datetime.now(UTC)
    if args.now is not None:
        try:
            now = parse_date(args.now)
        except ValueError:
            return _bad_date(say, "--now", args.now)
    async with connected(config, say) as (_, dsn), _pool(dsn, config) as pool:
        done = await protection_store.run_jobs(pool, job_settings(config), now=now,
                                               run_by=f"relay protection run ({os_user()})")
    say.out("relay.protection_ran", now=rfc3339(now), masked=done.masked, reduced=done.reduced,
            shredded=done.shredded)
    return 0


async def _hold(args: argparse.Namespace, config: Config, say: Say) -> int:
    try:
        until = parse_date(args.until)
    except ValueError:
        return _bad_date(say, "--until", args.until)
    if until <= datetime.now(UTC):
        say.error("relay.hold_until_past", value=args.until)
        return 2
    if _reason_problem(args.reason, say):
        return 2
    reason = args.reason.strip()
    if not is_alert_id(args.alert_id):
        say.error("relay.no_such_alert", alert=args.alert_id[:40])
        return 1
    async with connected(config, say) as (conn, _), conn.transaction():
        hold = await protection_store.place_hold(conn, alert_id=args.alert_id, reason=reason,
                                                 until=until, placed_by=f"operator:{os_user()}")
        if hold is None:
            say.error("relay.no_such_alert", alert=args.alert_id)
            return 1
        await _record_hold(conn, cli_actor(args), hold)
        stored = await protection_store.personal_of(conn, args.alert_id)
    say.out("relay.hold_placed", hold=hold.hold_id, alert=hold.alert_id, until=rfc3339(hold.until))
    if stored is not None and (stored["masked_at"] is not None or stored["reduced_at"] is not None):
        say.error("relay.hold_already_masked", alert=hold.alert_id)
    return 0


async def _record_hold(conn: asyncpg.Connection, actor: admin.Actor,
                       hold: protection_store.Hold) -> None:
    """The access log line of a hold (protection.md "Hold"): who, which alert, until when,
    and why, in the transaction that places it. (admin.record_action has no reason.)"""
    await conn.execute(
        "INSERT INTO relay_access_log (unit_id, method, path, query, rows, status, action,"
        " target, reason) VALUES ($1, $2, $3, $4::jsonb, NULL, 201, 'protection.hold', $5, $6)",
        actor.name, actor.method, actor.path,
        orjson.dumps({"hold_id": hold.hold_id, "until": rfc3339(hold.until),
                      "placed_by": hold.placed_by}).decode(),
        hold.alert_id, hold.reason)


async def _holds(args: argparse.Namespace, config: Config, say: Say) -> int:
    if args.alert is not None and not is_alert_id(args.alert):
        say.error("relay.bad_alert_id", value=args.alert[:40])
        return 2
    async with connected(config, say) as (conn, _):
        holds = await protection_store.list_holds(conn, alert_id=args.alert)
    now = datetime.now(UTC)
    table(say, "relay.holds_header", [
        [str(hold.hold_id), hold.alert_id, minute(hold.until, say),
         say.t("relay.hold_state.active" if hold.until > now else "relay.hold_state.expired"),
         hold.placed_by,
         minute(hold.placed_at, say), hold.reason] for hold in holds])
    return 0
