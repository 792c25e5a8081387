"""``relay-post``: post an alert from a terminal, through the durable outbox.

::

    relay-post ALERT.json|ALERT.toml          check, fill in, queue, send, print the ack
    relay-post                                build the alert with questions, then the same
    relay-post --update ALERT CHANGES.toml    an update: the alert with the fields changed
    relay-post --cancel ALERT [--reason TEXT] the cancel of an alert
    relay-post --status                       list the outbox and what happened to each entry
    relay-post --flush [--wait SECONDS]       send what is queued (0: keep trying until done)

Every alert is filled in (:mod:`clients.fill_in`: ``sent_at``, relative times), checked
with the relay's own rules (:mod:`clients.local_check`), then written to
``STATE_DIR/outbox.sqlite3`` with its idempotency key and the digest of the token that
queued it, then sent with any older entries of the same unit still queued, oldest
first. Offline, it stays queued and the command says so (exit 4); ``relay-post
--flush`` later sends it under the same key, so the relay stores it once however many
attempts it takes. An alert identical to one still queued or already acknowledged is not
queued again unless ``--again`` is given. ``ALERT`` (for ``--update`` and ``--cancel``)
is an alert id, the short form the feed shows, or ``#N``, an entry of this outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from clients.alert_file import AlertFileError, LoadedAlert, describe_problems, load_alert_file
from clients.amend import cancel_of, update_of
from clients.client import RelayClient, token_digest
from clients.connection import (
    AuthenticationFailed,
    CertificateRejected,
    ClientError,
    Rejected,
    RelayUnreachable,
)
from clients.errors import error_text, refusal_text
from clients.fill_in import RelativeTimeError, expired, fill_in, fingerprint, names_no_unit
from clients.i18n import Translator, register
from clients.local_check import check_alert
from clients.options import (
    EXIT_AUTH,
    EXIT_CERTIFICATE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Common,
    add_version,
    common_from,
    common_parent,
    fail,
    parsing,
    say,
    say_details,
    translator_for,
)
from clients.outbox import Entry, Outbox
from clients.prompts import build_alert_interactively
from clients.render import utc_day
from clients.shown import MIN_SUFFIX, ShownAlerts, short_id
from relay.contract.ids import is_alert_id
from relay.contract.problems import Problem
from relay.contract.problems_fr import problem_text

__all__ = ["Flushed", "flush_outbox", "main"]

register({
    "post.description": ("Post an alert to the relay through the terminal's outbox.",
                         "Publier une alerte sur le relais via la file d'envoi du terminal."),
    "post.file": ("alert file (.json or .toml); without it, questions build the alert; with "
                  "--update, the file of the fields that change",
                  "fichier d'alerte (.json ou .toml) ; sans fichier, des questions construisent "
                  "l'alerte ; avec --update, le fichier des champs qui changent"),
    "post.status": ("list the outbox and what happened to each entry",
                    "afficher la file d'envoi et ce qu'il est advenu de chaque entrée"),
    "post.flush": ("send everything still queued", "envoyer tout ce qui attend"),
    "post.wait": ("seconds to keep retrying an unreachable relay (0: until everything is sent)",
                  "secondes pendant lesquelles réessayer un relais injoignable (0 : jusqu'à ce que tout soit envoyé)"),
    "post.again": ("queue the alert even if an identical one is already queued or acknowledged",
                   "mettre l'alerte en file même si une alerte identique est déjà en file ou accusée"),
    "post.cancel": ("cancel this alert: its alert_id, the short form the feed shows, or #N of "
                    "this outbox",
                    "annuler cette alerte : son alert_id, la forme courte qu'affiche le flux, ou "
                    "le n° N de cette file"),
    "post.update": ("update this alert (same forms as --cancel) with the fields of FILE",
                    "mettre à jour cette alerte (mêmes formes que --cancel) avec les champs de FICHIER"),
    "post.reason": ("with --cancel: why, in a sentence (the cancel's summary)",
                    "avec --cancel : pourquoi, en une phrase (le résumé de l'annulation)"),
    "post.invalid": ("{count} problem(s); nothing was queued:", "{count} problème(s) ; rien n'a été mis en file :"),
    "post.problem": ("{field}: {problem}", "{field} : {problem}"),
    "post.bad_relative": ("{field}: {value} is more than ten years away; nothing was queued",
                          "{field} : {value} est à plus de dix ans ; rien n'a été mis en file"),
    "post.queued": ("alert queued as #{number} (key {key})", "alerte mise en file sous le n° {number} (clé {key})"),
    "post.acknowledged": ("#{number} acknowledged by the relay: seq {seq}, alert_id {alert_id}",
                          "n° {number} accusé par le relais : seq {seq}, alert_id {alert_id}"),
    "post.duplicate": ("#{number} was already stored by the relay: seq {seq}, alert_id {alert_id}",
                       "n° {number} était déjà enregistrée par le relais : seq {seq}, alert_id {alert_id}"),
    "post.rejected": ("#{number} refused by the relay: {reason}",
                      "n° {number} refusée par le relais : {reason}"),
    "post.rejected_hint": ("fix the alert and post it again; #{number} stays in the outbox as rejected",
                           "corrigez l'alerte et publiez-la à nouveau ; le n° {number} reste dans la file comme refusée"),
    "post.offline": ("relay unreachable ({reason}): {count} alert(s) stay queued and will be sent by relay-post --flush",
                     "relais injoignable ({reason}) : {count} alerte(s) restent en file et seront envoyées par relay-post --flush"),
    "post.certificate_kept": (
        "{count} alert(s) stay queued, and will not be sent until this terminal trusts the "
        "relay's certificate (--ca-file or RELAY_CA_FILE)",
        "{count} alerte(s) restent en file, et ne seront pas envoyées tant que ce terminal ne "
        "reconnaît pas le certificat du relais (--ca-file ou RELAY_CA_FILE)"),
    "post.refused_token": (
        "#{number} will not be sent: the relay refused the token it was queued with, and no "
        "unit is known for that token; post it again with a valid token",
        "le n° {number} ne sera pas envoyé : le relais a refusé le jeton avec lequel il a été "
        "mis en file, et aucune unité n'est connue pour ce jeton ; publiez-le à nouveau avec "
        "un jeton valide"),
    "post.kept_for_unit": (
        "#{number} stays queued for {unit}; send it with relay-post --flush and a valid token of that unit",
        "le n° {number} reste en file pour {unit} ; envoyez-le avec relay-post --flush et un "
        "jeton valide de cette unité"),
    "post.held_unit": ("#{number} is not sent under this token: it is an alert of {unit}",
                       "le n° {number} n'est pas envoyé avec ce jeton : c'est une alerte de {unit}"),
    "post.held_unknown": (
        "#{number} is not sent under this token: it was queued with another token, which "
        "the relay has not accepted here yet; send it with that token",
        "le n° {number} n'est pas envoyé avec ce jeton : il a été mis en file avec un autre "
        "jeton, que le relais n'a pas encore accepté ici ; envoyez-le avec ce jeton"),
    "post.identical_queued": (
        "this alert is identical to #{number}, already queued ({state}); nothing was queued. "
        "Send the queue with relay-post --flush, or add --again to queue it once more",
        "cette alerte est identique au n° {number}, déjà en file ({state}) ; rien n'a été mis "
        "en file. Envoyez la file avec relay-post --flush, ou ajoutez --again pour la mettre "
        "en file une fois de plus"),
    "post.identical_sent": (
        "this alert is identical to #{number}, already sent: ack seq {seq}, alert_id "
        "{alert_id}; nothing was queued. To change it, use --update {short}; to post it "
        "once more, add --again",
        "cette alerte est identique au n° {number}, déjà envoyée : accusé seq {seq}, alert_id "
        "{alert_id} ; rien n'a été mis en file. Pour la modifier, utilisez --update {short} ; "
        "pour la publier une fois de plus, ajoutez --again"),
    "post.expired": (
        "warning: this alert expired at {expires_at}; receivers will see it as expired "
        "(write expires_at as \"now+8h\" to keep a file from going stale)",
        "attention : cette alerte a expiré le {expires_at} ; les destinataires la verront "
        "comme expirée (écrivez expires_at sous la forme \"now+8h\" pour qu'un fichier ne "
        "se périme pas)"),
    "post.no_unit": (
        "warning: the distribution names no unit; the relay accepts countries and regions "
        "where no unit is registered, and then nobody receives the alert. Name the units "
        "(distribution.units) to be sure",
        "attention : la distribution ne nomme aucune unité ; le relais accepte des pays et "
        "des régions où aucune unité n'est enregistrée, et alors personne ne reçoit "
        "l'alerte. Nommez les unités (distribution.units) pour en être sûr"),
    "post.ref_bad": (
        "{ref} names no alert: give its alert_id, the short form the feed shows (at least "
        "{length} characters), or #N, an entry of this outbox",
        "{ref} ne désigne aucune alerte : donnez son alert_id, la forme courte qu'affiche le "
        "flux (au moins {length} caractères), ou n° N, une entrée de cette file"),
    "post.ref_unknown": (
        "no alert posted from this outbox or shown by this terminal's feed ends in {ref}",
        "aucune alerte publiée depuis cette file ou affichée par le flux de ce terminal ne "
        "se termine par {ref}"),
    "post.ref_ambiguous": (
        "{ref} ends several alerts ({candidates}); give more characters or the whole alert_id",
        "{ref} termine plusieurs alertes ({candidates}) ; donnez plus de caractères ou "
        "l'alert_id entier"),
    "post.no_entry": ("the outbox has no #{number}", "la file n'a pas de n° {number}"),
    "post.not_acknowledged": (
        "#{number} has no alert_id yet ({state}): it must be acknowledged first (relay-post --flush)",
        "le n° {number} n'a pas encore d'alert_id ({state}) : il doit d'abord être accusé "
        "(relay-post --flush)"),
    "post.original_unknown": (
        "alert {alert_id} was neither posted from this outbox nor shown by this terminal's "
        "feed, so its content is not known here: post the update or cancel from the "
        "terminal that sent it, or write it whole in a file (msg_type, references)",
        "l'alerte {alert_id} n'a été ni publiée depuis cette file ni affichée par le flux de "
        "ce terminal, son contenu n'est donc pas connu ici : publiez la mise à jour ou "
        "l'annulation depuis le terminal qui l'a envoyée, ou écrivez-la en entier dans un "
        "fichier (msg_type, references)"),
    "post.original_reduced": (
        "alert {alert_id} was reduced to its audit record on {date} (data-protection rules): "
        "its content is gone, so no update or cancel can be built from it; write it whole in "
        "a file (msg_type, references)",
        "l'alerte {alert_id} a été réduite à sa trace d'audit le {date} (règles de protection "
        "des données) : son contenu n'existe plus, aucune mise à jour ni annulation ne peut "
        "donc en être tirée ; écrivez-la en entier dans un fichier (msg_type, references)"),
    "post.update_needs_file": ("--update needs the file of the changes: relay-post --update ALERT FILE",
                               "--update a besoin du fichier des changements : relay-post --update ALERTE FICHIER"),
    "post.no_file_here": ("a file goes with posting or --update, not with --status, --flush or --cancel",
                          "un fichier va avec une publication ou --update, pas avec --status, --flush ou --cancel"),
    "post.reason_alone": ("--reason goes with --cancel", "--reason va avec --cancel"),
    "post.changes_not_map": ("{file}: the changes must be a map of alert fields",
                             "{file} : les changements doivent être une table de champs d'alerte"),
    "post.empty": ("the outbox is empty", "la file d'envoi est vide"),
    "post.nothing": ("nothing to send", "rien à envoyer"),
    "post.col.number": ("#", "n°"),
    "post.col.state": ("state", "état"),
    "post.col.attempts": ("attempts", "essais"),
    "post.col.last_attempt": ("last attempt", "dernier essai"),
    "post.col.unit": ("unit", "unité"),
    "post.col.seq": ("seq", "seq"),
    "post.col.detail": ("alert_id / last error", "alert_id / dernière erreur"),
    "post.of": ("{what} of {alert}", "{what} de {alert}"),
    "post.msg.update": ("update", "mise à jour"),
    "post.msg.cancel": ("cancel", "annulation"),
    "post.state.queued": ("queued", "en file"),
    "post.state.sent": ("sent", "envoyée"),
    "post.state.acknowledged": ("acknowledged", "accusée"),
    "post.state.rejected": ("rejected", "refusée"),
    "post.confirm": ("Queue and send this alert? [y/N] ", "Mettre en file et envoyer cette alerte ? [o/N] "),
    "post.interrupted": ("interrupted: what is queued stays queued; send it with relay-post --flush",
                         "interrompu : ce qui est en file y reste ; envoyez-le avec relay-post --flush"),
    "post.cancelled": ("cancelled; nothing was queued", "annulé ; rien n'a été mis en file"),
})

_ENTRY: Final = re.compile(r"#([0-9]{1,18})")
_ENDING: Final = re.compile(r"[0-9a-f-]+")


def _parser(t: Translator) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relay-post", description=t("post.description"),
                                     parents=[common_parent(t)])
    add_version(parser, "relay-post", t)
    parser.add_argument("file", nargs="?", metavar=t("meta.file"), help=t("post.file"))
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--status", action="store_true", help=t("post.status"))
    action.add_argument("--flush", action="store_true", help=t("post.flush"))
    action.add_argument("--cancel", metavar=t("meta.alert"), help=t("post.cancel"))
    action.add_argument("--update", metavar=t("meta.alert"), help=t("post.update"))
    parser.add_argument("--reason", metavar=t("meta.text"), help=t("post.reason"))
    parser.add_argument("--again", action="store_true", help=t("post.again"))
    parser.add_argument("--wait", type=float, default=15.0, metavar=t("meta.seconds"),
                        help=t("post.wait"))
    return parser


def _report(entry: Entry, t: Translator) -> None:
    """The outcome of one entry, on stdout (acks) or stderr (refusals)."""
    if entry.state == "acknowledged":
        key = "post.duplicate" if entry.duplicate else "post.acknowledged"
        print(t(key, number=entry.number, seq=entry.seq, alert_id=entry.alert_id), flush=True)
    elif entry.state == "rejected" and entry.error is not None:
        say(t("post.rejected", number=entry.number, reason=refusal_text(entry.error, t)))
        say_details(t, entry.error.get("details") or [])
        say(t("post.rejected_hint", number=entry.number))


@dataclass(frozen=True)
class Flushed:
    """What one flush did: entries acknowledged and refused, how many of the token's unit
    still wait, and the pending entries it may not send (another unit's)."""

    done: list[Entry]
    pending: int
    held: list[Entry] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(entry.state == "rejected" for entry in self.done)


async def flush_outbox(outbox: Outbox, client: RelayClient, *, wait: float | None,
                       on_done: Callable[[Entry], None] = lambda entry: None) -> Flushed:
    """Send the pending entries of the client's token's unit, oldest first, each until
    acked or refused (:meth:`Outbox.sendable`: never another unit's).

    Stops at the first one that cannot be sent within ``wait`` seconds in all (None: no
    limit), so later alerts never overtake it; each entry left waiting then counts one
    more attempt, with why. Raises :class:`AuthenticationFailed` and
    :class:`CertificateRejected` as they are (the entries stay queued).
    """
    deadline = None if wait is None else time.monotonic() + wait
    owner = client.token_digest

    def left() -> float | None:
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    def failed(error: ClientError, tried: set[str]) -> None:
        """Every entry of the unit left waiting counts one more attempt, with why."""
        waiting = [entry.key for entry in outbox.sendable(owner) if entry.key not in tried]
        outbox.note_failed_attempt(waiting, error.as_dict())
        if not isinstance(error, RelayUnreachable):
            raise error

    done: list[Entry] = []
    tried: set[str] = set()
    # Read again after each entry: another relay-post may have queued (or sent) more.
    while outbox.has_work_for(owner):
        try:
            # "sent" means the relay may have it: not before a connection is open.
            connection = await client.wait_connected(give_up_after=left())
        except (RelayUnreachable, CertificateRejected, AuthenticationFailed) as exc:
            failed(exc, tried)
            break
        outbox.learn(owner, connection.unit)
        pending = outbox.sendable(owner)  # the unit now known may own more entries
        if not pending:
            break
        entry = pending[0]
        outbox.mark_sent(entry.key, unit=connection.unit)
        tried.add(entry.key)
        try:
            ack = await client.publish(entry.alert, entry.key, give_up_after=left())
        except Rejected as exc:
            outbox.mark_rejected(entry.key, exc.error)
        except (RelayUnreachable, CertificateRejected, AuthenticationFailed) as exc:
            outbox.note_problem(entry.key, exc.as_dict())
            failed(exc, tried)
            break
        else:
            outbox.mark_acknowledged(entry.key, seq=ack.seq, alert_id=ack.alert_id,
                                     duplicate=ack.duplicate)
        done.append(outbox.get(entry.key))
        on_done(done[-1])
    return Flushed(done=done, pending=len(outbox.sendable(owner)), held=outbox.held(owner))


def _report_held(outbox: Outbox, held: Sequence[Entry], t: Translator) -> None:
    for entry in held:
        unit = outbox.unit_of_entry(entry)
        if unit is not None:
            say(t("post.held_unit", number=entry.number, unit=unit))
        else:
            say(t("post.held_unknown", number=entry.number))


async def _send(common: Common, outbox: Outbox, wait: float) -> int:
    t = common.t
    owner = token_digest(common.token)
    if not outbox.has_work_for(owner):
        print(t("post.nothing"))
        _report_held(outbox, outbox.held(owner), t)
        return EXIT_OK
    async with RelayClient(common.url, common.token, encoding=common.encoding,
                           tls=common.tls) as client:
        try:
            flushed = await flush_outbox(outbox, client, wait=None if wait == 0 else wait,
                                         on_done=lambda entry: _report(entry, t))
        except AuthenticationFailed as exc:
            say(t("err.auth", reason=exc.describe(t)))
            refusal = {"code": "unauthorized", "message": "the relay refused the token",
                       "details": [], "reason": exc.as_dict()}
            for entry in outbox.refuse_owner(owner, refusal):
                say(t("post.refused_token", number=entry.number))
            for entry in outbox.sendable(owner):
                say(t("post.kept_for_unit", number=entry.number,
                      unit=outbox.unit_of_entry(entry)))
            return EXIT_AUTH
        except CertificateRejected as exc:
            say(t("err.certificate", reason=exc.describe(t)))
            say(t("post.certificate_kept", count=len(outbox.sendable(owner))))
            return EXIT_CERTIFICATE
    if not flushed.done and not flushed.pending:
        print(t("post.nothing"))
    _report_held(outbox, flushed.held, t)
    if flushed.pending:
        last = outbox.sendable(owner)[0].last_error
        say(t("post.offline", reason=error_text(last, t) if last else "", count=flushed.pending))
        return EXIT_UNREACHABLE
    return EXIT_REJECTED if flushed.rejected else EXIT_OK


def _detail(entry: Entry, t: Translator) -> str:
    """The last column of --status: the alert_id, the refusal, or the last error."""
    if entry.state == "acknowledged":
        detail = str(entry.alert_id)
    elif entry.state == "rejected" and entry.error is not None:
        fields = ", ".join(str(d.get("field")) for d in entry.error.get("details") or [])
        detail = refusal_text(entry.error, t) + (f" ({fields})" if fields else "")
    elif entry.last_error is not None:
        detail = error_text(entry.last_error, t)
    else:
        detail = entry.last_problem or ""  # an earlier version's English note
    msg_type, references = entry.alert.get("msg_type"), entry.alert.get("references")
    if msg_type in ("update", "cancel") and isinstance(references, str):
        what = t(f"post.msg.{msg_type}")
        detail = f"{t('post.of', what=what, alert=short_id(references))} · {detail}"
    return detail


def _status(outbox: Outbox, t: Translator) -> int:
    entries = outbox.entries()
    if not entries:
        print(t("post.empty"))
        return EXIT_OK
    columns = ("number", "state", "attempts", "last_attempt", "unit", "seq")
    widths = {"number": 5, "state": 13, "attempts": 8, "last_attempt": 25, "unit": 16, "seq": 6}
    widths = {name: max(width, len(t(f"post.col.{name}")) + 1) for name, width in widths.items()}
    print("".join(f"{t(f'post.col.{name}'):<{widths[name]}}" for name in columns)
          + t("post.col.detail"))
    for entry in entries:
        cells = {"number": entry.number, "state": t(f"post.state.{entry.state}"),
                 "attempts": entry.attempts, "last_attempt": entry.last_attempt_at or "-",
                 "unit": outbox.unit_of_entry(entry) or "?",
                 "seq": entry.seq if entry.seq is not None else "-"}
        print("".join(f"{cells[name]!s:<{widths[name]}}" for name in columns) + _detail(entry, t))
    return EXIT_OK


def _say_problems(problems: Sequence[Problem], loaded: LoadedAlert | None, t: Translator) -> None:
    say(t("post.invalid", count=len(problems)))
    if loaded is not None:
        for line in describe_problems(loaded, problems, t):
            say(line)
        return
    for problem in problems:
        say(t("post.problem", field=problem.field,
              problem=problem_text(problem.code, problem.params, t.language)))


@dataclass(frozen=True)
class _Prepared:
    """An alert ready to queue, and its content's digest."""

    alert: dict[str, Any]
    fingerprint: str


def _prepare(as_written: object, loaded: LoadedAlert | None, t: Translator) -> _Prepared | None:
    """Fill in, check and warn; None (after saying why) if it cannot be queued."""
    try:
        filled = fill_in(as_written, datetime.now(UTC))
    except RelativeTimeError as exc:
        say(t("post.bad_relative", field=exc.path, value=exc.value))
        return None
    _normalised, problems = check_alert(filled)
    if problems:
        _say_problems(problems, loaded, t)
        return None
    assert isinstance(filled, dict)
    if expired(filled):
        say(t("post.expired", expires_at=filled["expires_at"]))
    if names_no_unit(filled):
        say(t("post.no_unit"))
    return _Prepared(filled, fingerprint(as_written))


def _alert_from_file(path: str, t: Translator) -> _Prepared | None:
    try:
        loaded = load_alert_file(path)
    except AlertFileError as exc:
        say(exc.describe(t))
        return None
    return _prepare(loaded.alert, loaded, t)


def _alert_from_questions(t: Translator) -> _Prepared | None:
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
    return _prepare(alert, None, t)


def _shown(common: Common) -> ShownAlerts | None:
    """What this terminal's feed showed, if it ever ran with this state directory."""
    path = common.state_dir / "feed-shown.sqlite3"
    return ShownAlerts(path) if path.exists() else None


def _referenced(ref: str, outbox: Outbox, t: Translator, common: Common) -> tuple[str, dict[str, Any]]:
    """The alert id ``ref`` names, and that alert's content; exits (2) saying why not."""
    text = ref.strip().lower()
    shown = _shown(common)
    try:
        entry_number = _ENTRY.fullmatch(text)
        if entry_number is not None:
            number = int(entry_number.group(1))
            try:
                entry = outbox.get(number)
            except KeyError:
                fail(t, "post.no_entry", EXIT_USAGE, number=number)
            if entry.alert_id is None:
                fail(t, "post.not_acknowledged", EXIT_USAGE, number=number,
                     state=t(f"post.state.{entry.state}"))
            return entry.alert_id, entry.alert
        if is_alert_id(text):
            alert_id = text
        elif len(text) >= MIN_SUFFIX and _ENDING.fullmatch(text):
            found = set(outbox.alert_ids_ending(text))
            if shown is not None:
                found |= {line.alert_id for line in shown.ending(text)}
            if not found:
                fail(t, "post.ref_unknown", EXIT_USAGE, ref=ref)
            if len(found) > 1:
                fail(t, "post.ref_ambiguous", EXIT_USAGE, ref=ref,
                     candidates=", ".join(sorted(found)))
            [alert_id] = found
        else:
            fail(t, "post.ref_bad", EXIT_USAGE, ref=ref, length=MIN_SUFFIX)
        posted = outbox.find_alert(alert_id)
        if posted is not None:
            return alert_id, posted.alert
        line = shown.by_alert_id(alert_id) if shown is not None else None
        if line is not None and line.alert is not None:
            if line.alert.get("reduced_at"):
                fail(t, "post.original_reduced", EXIT_USAGE, alert_id=alert_id,
                     date=utc_day(line.alert["reduced_at"]))
            return alert_id, line.alert
        fail(t, "post.original_unknown", EXIT_USAGE, alert_id=alert_id)
    finally:
        if shown is not None:
            shown.close()


def _cancel(args: argparse.Namespace, outbox: Outbox, common: Common) -> _Prepared | None:
    t = common.t
    alert_id, original = _referenced(args.cancel, outbox, t, common)
    return _prepare(cancel_of(original, alert_id, reason=args.reason, t=t), None, t)


def _update(args: argparse.Namespace, outbox: Outbox, common: Common) -> _Prepared | None:
    t = common.t
    alert_id, original = _referenced(args.update, outbox, t, common)
    try:
        loaded = load_alert_file(args.file)
    except AlertFileError as exc:
        say(exc.describe(t))
        return None
    if not isinstance(loaded.alert, dict):
        say(t("post.changes_not_map", file=loaded.name))
        return None
    return _prepare(update_of(original, alert_id, loaded.alert), loaded, t)


def _identical(outbox: Outbox, prepared: _Prepared, t: Translator) -> bool:
    """Say so if an identical alert is queued or acknowledged."""
    earlier = outbox.identical(prepared.fingerprint)
    if earlier is None:
        return False
    if earlier.state == "acknowledged" and earlier.alert_id is not None:
        say(t("post.identical_sent", number=earlier.number, seq=earlier.seq,
              alert_id=earlier.alert_id, short=short_id(earlier.alert_id)))
    else:
        say(t("post.identical_queued", number=earlier.number,
              state=t(f"post.state.{earlier.state}")))
    return True


def _check_combination(args: argparse.Namespace, t: Translator) -> None:
    if args.update is not None and not args.file:
        fail(t, "post.update_needs_file", EXIT_USAGE)
    if args.file and (args.status or args.flush or args.cancel is not None):
        fail(t, "post.no_file_here", EXIT_USAGE)
    if args.reason is not None and args.cancel is None:
        fail(t, "post.reason_alone", EXIT_USAGE)


def _new_alert(args: argparse.Namespace, outbox: Outbox, common: Common) -> _Prepared | None:
    t = common.t
    if args.cancel is not None:
        return _cancel(args, outbox, common)
    if args.update is not None:
        return _update(args, outbox, common)
    if args.file:
        return _alert_from_file(args.file, t)
    return _alert_from_questions(t)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = translator_for(argv)
    with parsing(first):
        args = _parser(first).parse_args(argv)
    t = Translator(args.lang)
    _check_combination(args, t)
    common = common_from(args, t, need_connection=not args.status)
    with Outbox(common.state_dir / "outbox.sqlite3") as outbox:
        if args.status:
            return _status(outbox, t)
        if not args.flush:
            prepared = _new_alert(args, outbox, common)
            if prepared is None:
                return EXIT_USAGE
            if not args.again and _identical(outbox, prepared, t):
                return EXIT_USAGE
            entry = outbox.add(prepared.alert, owner=token_digest(common.token),
                               fingerprint=prepared.fingerprint)
            say(t("post.queued", number=entry.number, key=entry.key))
        try:
            return asyncio.run(_send(common, outbox, args.wait))
        except KeyboardInterrupt:
            # Whatever was queued stays queued; a resend later uses the same key.
            say(t("post.interrupted"))
            return EXIT_INTERRUPTED
