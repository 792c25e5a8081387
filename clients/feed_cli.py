"""``relay-feed``: a partner unit's live feed, and its receipts.

::

    relay-feed [--json] [--ack received] [--since SEQ] [--filter JSON] [--keep-trying]
    relay-feed receipt ALERT_ID STATUS [--note TEXT]

The feed prints one readable line per event (or, with ``--json``, the event frames as
NDJSON for pipes) and keeps its position in ``STATE_DIR/feed.cursor``: a restart resumes
after the last event printed, with nothing missed and nothing repeated. Connection
notices go to standard error, events to standard output.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from typing import Any

import orjson

from clients.client import GaveUp, RelayClient
from clients.connection import AuthenticationFailed, Rejected, RelayUnreachable
from clients.cursor import CursorFile, CursorFileError
from clients.i18n import Translator, register
from clients.options import (
    EXIT_AUTH,
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
from clients.render import render_event
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
    "feed.receipt": ("send one receipt: relay-feed receipt ALERT_ID STATUS [--note TEXT]",
                     "envoyer un accusé : relay-feed receipt ALERT_ID STATUT [--note TEXTE]"),
    "feed.note": ("a note for the alert's origin", "une note pour l'unité d'origine"),
    "feed.connected": ("connected to the relay as {unit}", "connecté au relais en tant que {unit}"),
    "feed.waiting": ("relay unreachable ({detail})", "relais injoignable ({detail})"),
    "feed.lost": ("connection lost ({detail}); reconnecting", "connexion perdue ({detail}) ; reconnexion"),
    "feed.bad_filter": ("--filter is not a JSON object: {reason}",
                        "--filter n'est pas un objet JSON : {reason}"),
    "feed.cursor": ("{reason}; remove the file only if you know where the feed stopped",
                    "{reason} ; ne supprimez le fichier que si vous savez où le flux s'est arrêté"),
    "feed.refused": ("the relay refused the subscription: {reason}",
                     "le relais a refusé l'abonnement : {reason}"),
    "feed.receipt_failed": ("receipt for {alert_id} not sent: {reason}",
                            "accusé pour {alert_id} non envoyé : {reason}"),
    "feed.receipts_pending": ("{count} receipt(s) still unsent at exit",
                              "{count} accusé(s) encore non envoyé(s) à la sortie"),
    "feed.receipt_ok": ("receipt {status} stored: seq {seq} for alert {alert_id}",
                        "accusé {status} enregistré : seq {seq} pour l'alerte {alert_id}"),
    "feed.receipt_rejected": ("the relay refused the receipt: {code}: {message}",
                              "le relais a refusé l'accusé : {code} : {message}"),
})


def _parser(t: Translator) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relay-feed", description=t("feed.description"),
                                     epilog=t("feed.receipt"))
    add_common_options(parser, t)
    parser.add_argument("--json", action="store_true", help=t("feed.json"))
    parser.add_argument("--ack", choices=("received",), help=t("feed.ack"))
    parser.add_argument("--since", type=int, help=t("feed.since"))
    parser.add_argument("--filter", help=t("feed.filter"))
    parser.add_argument("--keep-trying", action="store_true", help=t("feed.keep_trying"))
    return parser


def _receipt_parser(t: Translator) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relay-feed receipt", description=t("feed.receipt"))
    add_common_options(parser, t)
    parser.add_argument("alert_id")
    parser.add_argument("status", choices=RECEIPT_STATUSES)
    parser.add_argument("--note", help=t("feed.note"))
    return parser



def _notices(t: Translator) -> Any:
    def on_state(state: str, detail: str) -> None:
        if state == "connected":
            say(t("feed.connected", unit=detail))
        elif state == "waiting":
            say(t("feed.waiting", detail=detail))
        elif state == "lost":
            say(t("feed.lost", detail=detail))
    return on_state


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
        except (Rejected, AuthenticationFailed, RelayUnreachable) as exc:
            say(self.t("feed.receipt_failed", alert_id=alert_id, reason=exc))

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
    client = RelayClient(common.url, common.token, encoding=common.encoding, on_state=_notices(t))
    async with client:
        try:
            if not args.keep_trying:
                await client.connect()
        except AuthenticationFailed as exc:
            say(t("err.auth", reason=exc))
            return EXIT_AUTH
        except RelayUnreachable as exc:
            say(t("err.unreachable", reason=exc))
            return EXIT_UNREACHABLE
        receipts = _Receipts(client, args.ack, t) if args.ack else None
        try:
            async for frame in client.feed(cursor=cursor, since=args.since, filter=filter,
                                           include_caught_up=not args.json):
                if args.json:
                    sys.stdout.buffer.write(orjson.dumps(frame) + b"\n")
                    sys.stdout.flush()
                else:
                    print(render_event(frame, t), flush=True)
                if receipts is not None and _wants_receipt(frame, client.welcome.get("unit", "")):
                    receipts.send(frame["alert"]["alert_id"])
        except AuthenticationFailed as exc:
            say(t("err.auth", reason=exc))
            return EXIT_AUTH
        except Rejected as exc:
            say(t("feed.refused", reason=exc))
            say_details(t, exc.details)
            # A filter the relay refuses is a bad option (exit 2), not a refused position.
            return EXIT_USAGE if exc.code == "invalid_filter" else EXIT_REJECTED
        except CursorFileError as exc:
            say(t("feed.cursor", reason=exc))
            return EXIT_USAGE
        finally:
            if receipts is not None:
                await receipts.finish()
    return EXIT_OK


async def _run_receipt(common: Common, args: argparse.Namespace) -> int:
    t = common.t
    async with RelayClient(common.url, common.token, encoding=common.encoding) as client:
        try:
            await client.connect()
            ack = await client.receipt(args.alert_id, args.status, note=args.note,
                                       give_up_after=30.0)
        except AuthenticationFailed as exc:
            say(t("err.auth", reason=exc))
            return EXIT_AUTH
        except (GaveUp, RelayUnreachable) as exc:
            say(t("err.unreachable", reason=exc))
            return EXIT_UNREACHABLE
        except Rejected as exc:
            say(t("feed.receipt_rejected", code=exc.code, message=exc.error.get("message", "")))
            say_details(t, exc.details)
            return EXIT_REJECTED
    print(t("feed.receipt_ok", status=args.status, seq=ack.seq, alert_id=ack.alert_id))
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
    t = translator_for(argv)
    if argv[:1] == ["receipt"]:
        args = _receipt_parser(t).parse_args(argv[1:])
        t = Translator(args.lang)
        return asyncio.run(_until_signalled(_run_receipt(common_from(args, t), args)))
    args = _parser(t).parse_args(argv)
    t = Translator(args.lang)
    filter = None
    if args.filter is not None:
        try:
            filter = orjson.loads(args.filter)
        except orjson.JSONDecodeError as exc:
            say(t("feed.bad_filter", reason=exc))
            return EXIT_USAGE
        if not isinstance(filter, dict):
            say(t("feed.bad_filter", reason=type(filter).__name__))
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
