"""``relay-feed``: a partner unit's live feed, and its receipts.

::

    relay-feed [--json] [--ack received] [--since SEQ] [--filter JSON] [--keep-trying]
    relay-feed receipt ALERT STATUS [--note TEXT]

The feed prints one readable line per event (or, with ``--json``, the event frames as
NDJSON for pipes) and keeps its position in ``STATE_DIR/feed.cursor``: a restart resumes
after the last event printed, with nothing missed and nothing repeated. Connection
notices go to standard error, events to standard output. Each alert it shows is recorded
in ``STATE_DIR/feed-shown.sqlite3`` (:mod:`clients.shown`), so that ``receipt`` takes the
alert's whole id, the short form shown on its line, or ``#SEQ``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import orjson

from clients.client import GaveUp, Notice, RelayClient
from clients.connection import (
    AuthenticationFailed,
    CertificateRejected,
    Rejected,
    RelayUnreachable,
)
from clients.cursor import CursorFile, CursorFileError
from clients.errors import refusal_text
from clients.i18n import Translator, register
from clients.options import (
    EXIT_AUTH,
    EXIT_CERTIFICATE,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Common,
    add_version,
    common_from,
    common_parent,
    parsing,
    say,
    say_details,
    translator_for,
)
from clients.render import render_event
from clients.shown import (
    MIN_SUFFIX,
    AmbiguousAlert,
    BadAlertRef,
    ShownAlerts,
    UnknownAlert,
    short_id,
)
from relay.contract.ids import is_alert_id
from relay.contract.model import RECEIPT_STATUSES

__all__ = ["main"]

register({
    "feed.description": ("Live feed of the alerts your unit may see.",
                         "Flux en direct des alertes que votre unité peut voir."),
    "feed.json": ("print the events as NDJSON, one per line", "afficher les événements en NDJSON, un par ligne"),
    "feed.ack": ("send this receipt for every alert received", "envoyer cet accusé pour chaque alerte reçue"),
    "feed.since": ("start after this seq when no cursor is saved",
                   "commencer après ce seq si aucun curseur n'est enregistré"),
    "feed.filter": ("subscribe filter as JSON, e.g. '{\"kinds\":[\"seizure\"]}'",
                    "filtre d'abonnement en JSON, p. ex. '{\"kinds\":[\"seizure\"]}'"),
    "feed.keep_trying": ("keep trying when the relay cannot be reached at start",
                         "réessayer tant que le relais est injoignable au démarrage"),
    "feed.receipt": ("send one receipt: relay-feed receipt ALERT STATUS [--note TEXT]",
                     "envoyer un accusé : relay-feed receipt ALERTE STATUT [--note TEXTE]"),
    "feed.receipt_alert": ("the alert: its alert_id, the short form its feed line shows, or #SEQ",
                           "l'alerte : son alert_id, la forme courte qu'affiche sa ligne du flux, ou #SEQ"),
    "feed.receipt_status": ("what your unit did about it: {choices}",
                            "ce que votre unité en a fait : {choices}"),
    "feed.note": ("a note for the alert's origin", "une note pour l'unité d'origine"),
    "meta.status": ("STATUS", "STATUT"),
    "meta.seq": ("SEQ", "SEQ"),
    "meta.json": ("JSON", "JSON"),
    "feed.ref_bad": (
        "{ref} names no alert: give its alert_id, the short form its feed line shows (at "
        "least {length} characters), or #SEQ",
        "{ref} ne désigne aucune alerte : donnez son alert_id, la forme courte qu'affiche sa "
        "ligne du flux (au moins {length} caractères), ou #SEQ"),
    "feed.ref_unknown": (
        "the feed of {directory} has shown no alert {ref}; give the whole alert_id, or the "
        "--state-dir of the feed that showed it",
        "le flux de {directory} n'a affiché aucune alerte {ref} ; donnez l'alert_id entier, ou "
        "le --state-dir du flux qui l'a affichée"),
    "feed.ref_ambiguous": (
        "{ref} ends several alerts the feed showed: {candidates}; give #SEQ or more characters",
        "{ref} termine plusieurs alertes affichées par le flux : {candidates} ; donnez #SEQ ou "
        "plus de caractères"),
    "feed.candidate": ("#{seq} ({short}, from {unit})", "#{seq} ({short}, de {unit})"),
    "feed.bad_filter": ("--filter is not JSON (the error is at character {position})",
                        "--filter n'est pas du JSON (l'erreur est au caractère {position})"),
    # No placeholders: the braces are shown as they are.
    "feed.filter_not_object": ("--filter must be a JSON object, e.g. '{\"kinds\":[\"seizure\"]}'",
                               "--filter doit être un objet JSON, p. ex. '{\"kinds\":[\"seizure\"]}'"),
    "feed.cursor.unreadable": (
        "{path} cannot be read ({found}); remove the file only if you know where the feed stopped",
        "{path} est illisible ({found}) ; ne supprimez le fichier que si vous savez où le flux "
        "s'est arrêté"),
    "feed.cursor.not_a_seq": (
        "{path} does not hold a seq (found {found}); remove the file only if you know where "
        "the feed stopped",
        "{path} ne contient pas de seq (trouvé {found}) ; ne supprimez le fichier que si vous "
        "savez où le flux s'est arrêté"),
    "feed.refused": ("the relay refused the subscription: {reason}",
                     "le relais a refusé l'abonnement : {reason}"),
    "feed.receipt_failed": ("receipt for {alert_id} not sent: {reason}",
                            "accusé pour {alert_id} non envoyé : {reason}"),
    "feed.receipts_pending": ("{count} receipt(s) still unsent at exit",
                              "{count} accusé(s) encore non envoyé(s) à la sortie"),
    "feed.receipt_ok": ("receipt {status} stored: seq {seq} for alert {alert_id}",
                        "accusé {status} enregistré : seq {seq} pour l'alerte {alert_id}"),
    "feed.receipt_rejected": ("the relay refused the receipt: {reason}",
                              "le relais a refusé l'accusé : {reason}"),
})


def _parser(t: Translator) -> argparse.ArgumentParser:
    """The feed's options, and the ``receipt`` subcommand; the common options are taken
    before and after ``receipt``."""
    parser = argparse.ArgumentParser(prog="relay-feed", description=t("feed.description"),
                                     epilog=t("feed.receipt"), parents=[common_parent(t)])
    add_version(parser, "relay-feed", t)
    parser.add_argument("--json", action="store_true", help=t("feed.json"))
    parser.add_argument("--ack", choices=("received",), help=t("feed.ack"))
    parser.add_argument("--since", type=int, metavar=t("meta.seq"), help=t("feed.since"))
    parser.add_argument("--filter", metavar=t("meta.json"), help=t("feed.filter"))
    parser.add_argument("--keep-trying", action="store_true", help=t("feed.keep_trying"))
    commands = parser.add_subparsers(dest="command", metavar="receipt")
    receipt = commands.add_parser("receipt", parents=[common_parent(t, below=True)],
                                  help=t("feed.receipt"), description=t("feed.receipt"))
    receipt.add_argument("alert", metavar=t("meta.alert"), help=t("feed.receipt_alert"))
    receipt.add_argument("status", choices=RECEIPT_STATUSES, metavar=t("meta.status"),
                         help=t("feed.receipt_status", choices=", ".join(RECEIPT_STATUSES)))
    receipt.add_argument("--note", metavar=t("meta.text"), help=t("feed.note"))
    return parser


def _notices(t: Translator) -> Any:
    def on_state(notice: Notice) -> None:
        say(notice.describe(t))
    return on_state


def _shown_path(common: Common) -> Path:
    return common.state_dir / "feed-shown.sqlite3"


def _alert_id(ref: str, common: Common) -> str | None:
    """The alert ``ref`` names (clients.shown); None after saying why it names none."""
    t = common.t
    if is_alert_id(ref.strip().lower()):
        return ref.strip().lower()
    path = _shown_path(common)
    try:
        with ShownAlerts(path) as shown:
            return shown.resolve(ref)
    except BadAlertRef:
        say(t("feed.ref_bad", ref=ref, length=MIN_SUFFIX))
    except UnknownAlert:
        say(t("feed.ref_unknown", ref=ref, directory=common.state_dir))
    except AmbiguousAlert as exc:
        candidates = ", ".join(t("feed.candidate", seq=line.seq, short=short_id(line.alert_id),
                                 unit=line.origin_unit or "?") for line in exc.candidates)
        say(t("feed.ref_ambiguous", ref=ref, candidates=candidates))
    return None


class _Receipts:
    """Receipts sent in the background, so the feed never waits on a reply."""

    def __init__(self, client: RelayClient, status: str, t: Translator) -> None:
        self.client, self.status, self.t = client, status, t
        self.tasks: set[asyncio.Task[None]] = set()

    def send(self, alert_id: str) -> None:
        task = asyncio.create_task(self._send(alert_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, alert_id: str) -> None:
        # The default key is one per (alert, status, note): a restarted feed never sends the
        # same receipt twice.
        try:
            await self.client.receipt(alert_id, self.status)
        except (Rejected, AuthenticationFailed, RelayUnreachable, CertificateRejected) as exc:
            say(self.t("feed.receipt_failed", alert_id=alert_id, reason=exc.describe(self.t)))

    async def finish(self, timeout: float = 5.0) -> None:
        if not self.tasks:
            return
        _done, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            say(self.t("feed.receipts_pending", count=len(pending)))


def _wants_receipt(frame: dict[str, Any], own_unit: str) -> bool:
    alert = frame.get("alert") or {}
    return (frame.get("type") == "alert" and alert.get("origin_unit") != own_unit
            and alert.get("msg_type", "alert") != "cancel")


async def _run_feed(common: Common, args: argparse.Namespace, filter: dict[str, Any] | None) -> int:
    t = common.t
    cursor = CursorFile(common.state_dir / "feed.cursor")
    client = RelayClient(common.url, common.token, encoding=common.encoding, tls=common.tls,
                         on_state=_notices(t))
    async with client:
        try:
            if not args.keep_trying:
                await client.connect()
        except AuthenticationFailed as exc:
            say(t("err.auth", reason=exc.describe(t)))
            return EXIT_AUTH
        except CertificateRejected as exc:
            say(t("err.certificate", reason=exc.describe(t)))
            return EXIT_CERTIFICATE
        except RelayUnreachable as exc:
            say(t("err.unreachable", reason=exc.describe(t)))
            return EXIT_UNREACHABLE
        receipts = _Receipts(client, args.ack, t) if args.ack else None
        shown = ShownAlerts(_shown_path(common))
        try:
            async for frame in client.feed(cursor=cursor, since=args.since, filter=filter,
                                           include_caught_up=not args.json):
                own_unit = str(client.welcome.get("unit", ""))
                if frame.get("type") == "alert" and isinstance(frame.get("alert"), dict):
                    shown.record(int(frame["seq"]), frame["alert"], own_unit=own_unit)
                if args.json:
                    sys.stdout.buffer.write(orjson.dumps(frame) + b"\n")
                    sys.stdout.flush()
                else:
                    print(render_event(frame, t), flush=True)
                if receipts is not None and _wants_receipt(frame, own_unit):
                    receipts.send(frame["alert"]["alert_id"])
        except AuthenticationFailed as exc:
            say(t("err.auth", reason=exc.describe(t)))
            return EXIT_AUTH
        except CertificateRejected as exc:
            say(t("err.certificate", reason=exc.describe(t)))
            return EXIT_CERTIFICATE
        except Rejected as exc:
            say(t("feed.refused", reason=exc.describe(t)))
            say_details(t, exc.details)
            # A filter the relay refuses is a bad option (exit 2), not a refused position.
            return EXIT_USAGE if exc.code == "invalid_filter" else EXIT_REJECTED
        except CursorFileError as exc:
            say(t(f"feed.cursor.{exc.problem}", path=exc.path, found=exc.found))
            return EXIT_USAGE
        finally:
            shown.close()
            if receipts is not None:
                await receipts.finish()
    return EXIT_OK


async def _run_receipt(common: Common, args: argparse.Namespace, alert_id: str) -> int:
    t = common.t
    async with RelayClient(common.url, common.token, encoding=common.encoding,
                           tls=common.tls) as client:
        try:
            await client.connect()
            ack = await client.receipt(alert_id, args.status, note=args.note,
                                       give_up_after=30.0)
        except AuthenticationFailed as exc:
            say(t("err.auth", reason=exc.describe(t)))
            return EXIT_AUTH
        except CertificateRejected as exc:
            say(t("err.certificate", reason=exc.describe(t)))
            return EXIT_CERTIFICATE
        except (GaveUp, RelayUnreachable) as exc:
            say(t("err.unreachable", reason=exc.describe(t)))
            return EXIT_UNREACHABLE
        except Rejected as exc:
            say(t("feed.receipt_rejected", reason=refusal_text(exc.error, t)))
            say_details(t, exc.details)
            return EXIT_REJECTED
    print(t("feed.receipt_ok", status=t(f"receipt.{args.status}"), seq=ack.seq,
            alert_id=ack.alert_id))
    return EXIT_OK


async def _until_signalled(run: Any) -> int:
    """Run ``run``; SIGINT or SIGTERM cancel it cleanly (the cursor is saved)."""
    task = asyncio.ensure_future(run)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        return int(await task)
    except asyncio.CancelledError:
        return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = translator_for(argv)
    with parsing(first):
        args = _parser(first).parse_args(argv)
    t = Translator(args.lang)
    if args.command == "receipt":
        common = common_from(args, t)
        alert_id = _alert_id(args.alert, common)
        if alert_id is None:
            return EXIT_USAGE
        return asyncio.run(_until_signalled(_run_receipt(common, args, alert_id)))
    filter = None
    if args.filter is not None:
        try:
            filter = orjson.loads(args.filter)
        except orjson.JSONDecodeError as exc:
            say(t("feed.bad_filter", position=exc.pos + 1))
            return EXIT_USAGE
        if not isinstance(filter, dict):
            say(t("feed.filter_not_object"))
            return EXIT_USAGE
    common = common_from(args, t)
    try:
        return asyncio.run(_until_signalled(_run_feed(common, args, filter)))
    except BrokenPipeError:
        # The reader of our output went away (`relay-feed --json | head`): a normal end.
        # The cursor holds the last event handed over; silence the interpreter's own flush.
        with contextlib.suppress(OSError):  # as the Python docs advise for SIGPIPE
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
