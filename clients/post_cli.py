"""``relay-post``: post an alert from a terminal, through the durable outbox.

::

    relay-post ALERT.json|ALERT.toml    check, queue, send, print the ack
    relay-post                          build the alert with questions, then the same
    relay-post --status                 list the outbox and each entry's state
    relay-post --flush [--wait SECONDS] send what is queued (0: keep trying until done)

Every alert is checked with the relay's own rules (:mod:`clients.local_check`), then
written to ``STATE_DIR/outbox.sqlite3`` with its idempotency key, then sent with any
older entries still queued, oldest first. Offline, it stays queued and the command says
so (exit 4); ``relay-post --flush`` later sends it under the same key, so the relay
stores it once however many attempts it takes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clients.alert_file import AlertFileError, describe_problems, load_alert_file
from clients.client import GaveUp, RelayClient
from clients.connection import AuthenticationFailed, Rejected, RelayUnreachable
from clients.i18n import Translator, register
from clients.local_check import check_alert
from clients.options import (
    EXIT_AUTH,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Common,
    add_common_options,
    common_from,
    say,
    say_details,
    translator_for,
)
from clients.outbox import Entry, Outbox
from clients.prompts import build_alert_interactively

__all__ = ["Flushed", "flush_outbox", "main"]

register({
    "post.description": ("Post an alert to the relay through the terminal's outbox.",
                         "Publier une alerte sur le relais via la file d'envoi du terminal."),
    "post.file": ("alert file (.json or .toml); without it, questions build the alert",
                  "fichier d'alerte (.json ou .toml) ; sans fichier, des questions construisent l'alerte"),
    "post.status": ("list the outbox", "afficher la file d'envoi"),
    "post.flush": ("send everything still queued", "envoyer tout ce qui attend"),
    "post.wait": ("seconds to keep retrying an unreachable relay (0: until everything is sent)",
                  "secondes pendant lesquelles réessayer un relais injoignable (0 : jusqu'à ce que tout soit envoyé)"),
    "post.invalid": ("{count} problem(s); nothing was queued:", "{count} problème(s) ; rien n'a été mis en file :"),
    "post.queued": ("alert queued as #{number} (key {key})", "alerte mise en file sous le n° {number} (clé {key})"),
    "post.acknowledged": ("#{number} acknowledged by the relay: seq {seq}, alert_id {alert_id}",
                          "n° {number} accusé par le relais : seq {seq}, alert_id {alert_id}"),
    "post.duplicate": ("#{number} was already stored by the relay: seq {seq}, alert_id {alert_id}",
                       "n° {number} était déjà enregistrée par le relais : seq {seq}, alert_id {alert_id}"),
    "post.rejected": ("#{number} refused by the relay: {code}: {message}",
                      "n° {number} refusée par le relais : {code} : {message}"),
    "post.rejected_hint": ("fix the alert and post it again; #{number} stays in the outbox as rejected",
                           "corrigez l'alerte et publiez-la à nouveau ; le n° {number} reste dans la file comme refusée"),
    "post.offline": ("relay unreachable ({reason}): {count} alert(s) stay queued and will be sent by relay-post --flush",
                     "relais injoignable ({reason}) : {count} alerte(s) restent en file et seront envoyées par relay-post --flush"),
    "post.empty": ("the outbox is empty", "la file d'envoi est vide"),
    "post.nothing": ("nothing to send", "rien à envoyer"),
    "post.header": ("#     state         attempts  updated                   seq  alert_id / problem",
                    "n°    état          essais    mis à jour                seq  alert_id / problème"),
    "post.state.queued": ("queued", "en file"),
    "post.state.sent": ("sent", "envoyée"),
    "post.state.acknowledged": ("acknowledged", "accusée"),
    "post.state.rejected": ("rejected", "refusée"),
    "post.confirm": ("Queue and send this alert? [y/N] ", "Mettre en file et envoyer cette alerte ? [o/N] "),
    "post.interrupted": ("interrupted: what is queued stays queued; send it with relay-post --flush",
                         "interrompu : ce qui est en file y reste ; envoyez-le avec relay-post --flush"),
    "post.cancelled": ("cancelled; nothing was queued", "annulé ; rien n'a été mis en file"),
})



def _parser(t: Translator) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relay-post", description=t("post.description"))
    add_common_options(parser, t)
    parser.add_argument("file", nargs="?", help=t("post.file"))
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--status", action="store_true", help=t("post.status"))
    action.add_argument("--flush", action="store_true", help=t("post.flush"))
    parser.add_argument("--wait", type=float, default=15.0, help=t("post.wait"))
    return parser


def _report(entry: Entry, t: Translator) -> None:
    """The outcome of one entry, on stdout (acks) or stderr (refusals)."""
    if entry.state == "acknowledged":
        key = "post.duplicate" if entry.duplicate else "post.acknowledged"
        print(t(key, number=entry.number, seq=entry.seq, alert_id=entry.alert_id), flush=True)
    elif entry.state == "rejected" and entry.error is not None:
        say(t("post.rejected", number=entry.number, code=entry.error.get("code"),
               message=entry.error.get("message", "")))
        say_details(t, entry.error.get("details") or [])
        say(t("post.rejected_hint", number=entry.number))


@dataclass(frozen=True)
class Flushed:
    """What one flush did: entries acknowledged and refused, and how many still wait."""

    done: list[Entry]
    pending: int

    @property
    def rejected(self) -> int:
        return sum(entry.state == "rejected" for entry in self.done)


async def flush_outbox(outbox: Outbox, client: RelayClient, *, wait: float | None,
                       on_done: Callable[[Entry], None] = lambda entry: None) -> Flushed:
    """Send the pending entries oldest first, each until acked or refused.

    Stops at the first one that cannot be sent within ``wait`` seconds in all (None: no
    limit), so later alerts never overtake it. Raises :class:`AuthenticationFailed` as
    is (the entries stay queued).
    """
    deadline = None if wait is None else time.monotonic() + wait

    def left() -> float | None:
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    done: list[Entry] = []
    # Read again after each entry: another relay-post may have queued (or sent) more.
    while pending := outbox.pending():
        entry = pending[0]
        try:
            # "sent" means the relay may have it: not before a connection is open.
            await client.wait_connected(give_up_after=left())
            outbox.mark_sent(entry.key)
            ack = await client.publish(entry.alert, entry.key, give_up_after=left())
        except Rejected as exc:
            outbox.mark_rejected(entry.key, exc.error)
        except (GaveUp, RelayUnreachable) as exc:
            outbox.note_problem(entry.key, str(exc))
            break
        else:
            outbox.mark_acknowledged(entry.key, seq=ack.seq, alert_id=ack.alert_id,
                                     duplicate=ack.duplicate)
        done.append(outbox.get(entry.key))
        on_done(done[-1])
    return Flushed(done=done, pending=len(outbox.pending()))


async def _send(common: Common, outbox: Outbox, wait: float) -> int:
    t = common.t
    if not outbox.pending():
        print(t("post.nothing"))
        return EXIT_OK
    async with RelayClient(common.url, common.token, encoding=common.encoding) as client:
        try:
            flushed = await flush_outbox(outbox, client, wait=None if wait == 0 else wait,
                                         on_done=lambda entry: _report(entry, t))
        except AuthenticationFailed as exc:
            say(t("err.auth", reason=exc))
            return EXIT_AUTH
    if flushed.pending:
        problem = outbox.pending()[0].last_problem or ""
        say(t("post.offline", reason=problem, count=flushed.pending))
        return EXIT_UNREACHABLE
    return EXIT_REJECTED if flushed.rejected else EXIT_OK


def _status(outbox: Outbox, t: Translator) -> int:
    entries = outbox.entries()
    if not entries:
        print(t("post.empty"))
        return EXIT_OK
    print(t("post.header"))
    for entry in entries:
        if entry.state == "acknowledged":
            detail = str(entry.alert_id)
        elif entry.state == "rejected" and entry.error is not None:
            fields = ", ".join(str(d.get("field")) for d in entry.error.get("details") or [])
            detail = f"{entry.error.get('code')}: {entry.error.get('message', '')}" + (
                f" ({fields})" if fields else "")
        else:
            detail = entry.last_problem or ""
        print(f"{entry.number:<5} {t('post.state.' + entry.state):<13} {entry.attempts:<9} "
              f"{entry.updated_at:<25} {entry.seq if entry.seq is not None else '-':<4} {detail}")
    return EXIT_OK


def _alert_from_file(path: str, t: Translator) -> dict[str, Any] | None:
    try:
        loaded = load_alert_file(path)
    except AlertFileError as exc:
        say(exc.describe(t))
        return None
    _normalised, problems = check_alert(loaded.alert)
    if problems:
        say(t("post.invalid", count=len(problems)))
        for line in describe_problems(loaded, problems, t):
            say(line)
        return None
    assert isinstance(loaded.alert, dict)
    return loaded.alert


def _alert_from_questions(t: Translator) -> dict[str, Any] | None:
    try:
        alert = build_alert_interactively(input, print, t)
        answer = input(t("post.confirm")).strip().lower()
    except (EOFError, KeyboardInterrupt):
        print()
        say(t("post.cancelled"))
        return None
    if answer not in ("y", "yes", "o", "oui"):
        say(t("post.cancelled"))
        return None
    return alert


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser(translator_for(argv)).parse_args(argv)
    t = Translator(args.lang)
    common = common_from(args, t, need_connection=not args.status)
    with Outbox(common.state_dir / "outbox.sqlite3") as outbox:
        if args.status:
            return _status(outbox, t)
        if not args.flush:
            alert = _alert_from_file(args.file, t) if args.file else _alert_from_questions(t)
            if alert is None:
                return EXIT_USAGE
            entry = outbox.add(alert)
            say(t("post.queued", number=entry.number, key=entry.key))
        try:
            return asyncio.run(_send(common, outbox, args.wait))
        except KeyboardInterrupt:
            # Whatever was queued stays queued; a resend later uses the same key.
            say(t("post.interrupted"))
            return EXIT_INTERRUPTED
