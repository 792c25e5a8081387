"""Building an alert by answering questions on a terminal, in English or French.

:func:`build_alert_interactively` asks for the fields of alerts.md one by one, through
an injected ``ask`` (show a prompt, return the answer) and ``say`` (show a line), so a
test drives it with a list of answers and a command drives it with :func:`input` and
:func:`print`.

Every answer is checked at once, in the context of the answers before it, by the
relay's own rules (:func:`clients.local_check.check_alert` on the alert built so far,
keeping only the problems of the field just asked): a refused answer is explained, with
the relay's sentence told from its code in the officer's language, and asked again.
Lists of choices come from :mod:`relay.model` and are shown numbered, with their names
in the officer's language; a number, the code (``body_carry``) or the shown name is
accepted. An empty answer skips an optional question and is asked again for a required
one.

Answers are tidied as an officer would expect: codes (airports, countries, units,
currencies, flight numbers) are put in upper case, a flight number loses its spaces,
and a quantity may use a decimal comma (``2,4``). Lists are separated by spaces or
commas, except region names, which are separated by commas (a name may hold a space).

``sent_at`` is the moment the session starts, from the injected clock. The questions
build a new alert (``msg_type`` alert); ``relay-post --update`` and ``--cancel`` build
updates and cancels (:mod:`clients.amend`). The handling level (TLP) is asked before the
distribution, because a red alert may only name units.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from clients.i18n import Translator, register
from clients.local_check import check_alert
from relay.contract.model import (
    COMMODITIES,
    CONCEALMENTS,
    DETECTIONS,
    DOCUMENT_TYPES,
    KINDS,
    MASS_VOLUME_COUNT_UNITS,
    PRIORITIES,
    REQUESTED_ACTIONS,
    STATUSES,
    SUBJECT_ROLES,
    TLP_LEVELS,
)
from relay.contract.problems import Problem
from relay.contract.problems_fr import problem_text
from relay.contract.times import rfc3339

__all__ = ["CHOICES", "build_alert_interactively"]

Path = tuple[str | int, ...]  # ("subjects", 0, "document", "type")

# The lists of choices, by the name of their labels in the catalog ("value.<name>.<code>").
CHOICES: Final[Mapping[str, tuple[str, ...]]] = {
    "kind": KINDS,
    "status": STATUSES,
    "priority": PRIORITIES,
    "tlp": TLP_LEVELS,
    "role": SUBJECT_ROLES,
    "document_type": DOCUMENT_TYPES,
    "requested_action": REQUESTED_ACTIONS,
    "commodity": COMMODITIES,
    "concealment": CONCEALMENTS,
    "detection": DETECTIONS,
}

register({
    # How a question is put.
    "prompt.ask": ("{question}: ", "{question} : "),
    "prompt.ask_optional": ("{question} (optional): ", "{question} (facultatif) : "),
    "prompt.ask_choice": ("{question} [1-{count}]: ", "{question} [1-{count}] : "),
    "prompt.ask_choice_optional": ("{question} [1-{count}, empty: skip]: ",
                                   "{question} [1-{count}, vide : passer] : "),
    "prompt.ask_yes": ("{question} [Y/n] ", "{question} [O/n] "),
    "prompt.ask_no": ("{question} [y/N] ", "{question} [o/N] "),
    # What is said.
    "prompt.intro": ("New alert. Press Enter to skip an optional question.",
                     "Nouvelle alerte. Appuyez sur Entrée pour passer une question facultative."),
    "prompt.required": ("This answer is required.", "Cette réponse est obligatoire."),
    "prompt.refused": ("Not accepted: {problem}", "Refusé : {problem}"),
    "prompt.not_a_number": ("Not accepted: give a number, e.g. 2.4",
                            "Refusé : indiquez un nombre, par ex. 2,4"),
    "prompt.bad_choice": (
        "Not accepted: answer with a number from 1 to {count} or a name from the list.",
        "Refusé : répondez par un numéro de 1 à {count} ou par un nom de la liste."),
    "prompt.yes_no": ("Please answer yes or no.", "Répondez par oui ou par non."),
    "prompt.subject_heading": ("Person {number}", "Personne {number}"),
    "prompt.seizure_heading": ("Seized item {number}", "Objet saisi {number}"),
    "prompt.nobody": ("Name at least one unit, country or region.",
                      "Indiquez au moins une unité, un pays ou une région."),
    "prompt.done": ("The alert is complete.", "L'alerte est complète."),
    # The questions.
    "prompt.kind": ("Kind of alert", "Type d'alerte"),
    "prompt.status": ("Status (if skipped: actual)", "Statut (si vous passez : réel)"),
    "prompt.flight_for_seizure": ("Was a flight involved? Add its details?",
                                  "Un vol est-il concerné ? Ajouter ses détails ?"),
    "prompt.flight_number": ("Flight number (e.g. AT571)", "Numéro de vol (par ex. AT571)"),
    "prompt.flight_date": ("Local departure date, YYYY-MM-DD",
                           "Date de départ (heure locale), AAAA-MM-JJ"),
    "prompt.flight_origin": ("Departure airport, IATA code (e.g. BKO)",
                             "Aéroport de départ, code IATA (par ex. BKO)"),
    "prompt.flight_destination": ("Destination airport, IATA code (e.g. CDG)",
                                  "Aéroport de destination, code IATA (par ex. CDG)"),
    "prompt.flight_route": (
        "Full routing, IATA codes from departure to destination (e.g. BKO CMN CDG)",
        "Itinéraire complet, codes IATA du départ à la destination (par ex. BKO CMN CDG)"),
    "prompt.scheduled_arrival": ("Scheduled arrival, e.g. 2026-11-23T16:40:00Z",
                                 "Arrivée prévue, par ex. 2026-11-23T16:40:00Z"),
    "prompt.role": ("Role of the person", "Rôle de la personne"),
    "prompt.surname": ("Surname", "Nom de famille"),
    "prompt.given_names": ("Given names", "Prénoms"),
    "prompt.nationality": ("Nationality, ISO country code (e.g. ML)",
                           "Nationalité, code pays ISO (par ex. ML)"),
    "prompt.birth_date": ("Date of birth, YYYY-MM-DD", "Date de naissance, AAAA-MM-JJ"),
    "prompt.document_type": ("Travel or identity document", "Document de voyage ou d'identité"),
    "prompt.document_number": ("Document number", "Numéro du document"),
    "prompt.document_country": ("Country that issued the document, ISO code (e.g. ML)",
                                "Pays de délivrance du document, code ISO (par ex. ML)"),
    "prompt.seat": ("Seat (e.g. 23C)", "Siège (par ex. 23C)"),
    "prompt.pnr": ("Booking reference (PNR)", "Référence de réservation (PNR)"),
    "prompt.bag_tags": ("Bag tag numbers, separated by spaces",
                        "Numéros d'étiquettes de bagages, séparés par des espaces"),
    "prompt.another_subject": ("Add another person?", "Ajouter une autre personne ?"),
    "prompt.subjects_for_seizure": (
        "Add a person involved (courier, sender, recipient…)?",
        "Ajouter une personne impliquée (passeur, expéditeur, destinataire…) ?"),
    "prompt.indicators": (
        "Risk indicators, separated by spaces (e.g. cash_ticket one_way last_minute_booking)",
        "Indicateurs de risque, séparés par des espaces (par ex. cash_ticket one_way "
        "last_minute_booking)"),
    "prompt.requested_action": ("Action requested of the units alerted",
                                "Action demandée aux unités alertées"),
    "prompt.commodity": ("What was seized", "Nature de la saisie"),
    "prompt.quantity": ("Quantity (a number, e.g. 2.4)", "Quantité (un nombre, par ex. 2,4)"),
    "prompt.quantity_unit": (
        "Unit (kg, g, l, pcs for pieces, or for cash a currency code, e.g. EUR, XOF)",
        "Unité (kg, g, l, pcs pour pièces, ou pour des espèces un code de devise, "
        "par ex. EUR, XOF)"),
    "prompt.description": ("Description of the item", "Description de l'objet"),
    "prompt.another_seizure": ("Add another seized item?", "Ajouter un autre objet saisi ?"),
    "prompt.location": ("Airport where the seizure took place, IATA code (e.g. LFW)",
                        "Aéroport où la saisie a eu lieu, code IATA (par ex. LFW)"),
    "prompt.occurred_at": (
        "When it took place, e.g. 2026-11-23T07:55:00Z (empty: now)",
        "Date et heure de la saisie, par ex. 2026-11-23T07:55:00Z (vide : maintenant)"),
    "prompt.concealment": ("Concealment method", "Mode de dissimulation"),
    "prompt.detection": ("How it was detected", "Mode de détection"),
    "prompt.tlp": ("Handling (Traffic Light Protocol)", "Règle de diffusion (protocole TLP)"),
    "prompt.distribution_all": ("Send to every unit?", "Envoyer à toutes les unités ?"),
    "prompt.units": ("Units to alert, ids separated by spaces (e.g. FR-CDG-OFAST)",
                     "Unités à alerter, identifiants séparés par des espaces "
                     "(par ex. FR-CDG-OFAST)"),
    "prompt.units_red": (
        "Units to alert (a red alert reaches only the units named), ids separated by spaces",
        "Unités à alerter (une alerte rouge n'atteint que les unités nommées), "
        "identifiants séparés par des espaces"),
    "prompt.countries": ("Countries to alert, ISO codes separated by spaces (e.g. FR MA)",
                         "Pays à alerter, codes ISO séparés par des espaces (par ex. FR MA)"),
    "prompt.regions": ("Regions to alert, names separated by commas (e.g. G5-SAHEL)",
                       "Régions à alerter, noms séparés par des virgules (par ex. G5-SAHEL)"),
    "prompt.priority": ("Priority", "Priorité"),
    "prompt.summary": ("Summary (what, who, where; up to 2000 characters)",
                       "Résumé (quoi, qui, où ; 2000 caractères au plus)"),
    "prompt.language": ("Language of the summary, e.g. fr, en",
                        "Langue du résumé, par ex. fr, en"),
    "prompt.expires_at": ("No longer actionable after, e.g. 2026-11-23T17:00:00Z",
                          "N'est plus exploitable après, par ex. 2026-11-23T17:00:00Z"),
    "prompt.grading_source": ("Reliability of the source, A (reliable) to F (cannot be judged)",
                              "Fiabilité de la source, de A (fiable) à F (ne peut être évaluée)"),
    "prompt.grading_information": (
        "Credibility of the information, 1 (confirmed) to 6 (cannot be judged)",
        "Crédibilité de l'information, de 1 (confirmée) à 6 (ne peut être évaluée)"),
    # The names of the choices.
    "value.kind.passenger": ("passenger", "passager"),
    "value.kind.seizure": ("seizure", "saisie"),
    "value.status.actual": ("actual", "réel"),
    "value.status.exercise": ("exercise", "exercice"),
    "value.status.test": ("test", "test"),
    "value.priority.routine": ("routine", "routine"),
    "value.priority.urgent": ("urgent", "urgent"),
    "value.priority.flash": ("flash", "flash"),
    "value.tlp.red": ("red: named recipients only", "rouge : destinataires nommés uniquement"),
    "value.tlp.amber+strict": ("amber+strict: recipients' organisations only",
                               "ambre+strict : organisations destinataires uniquement"),
    "value.tlp.amber": ("amber: recipients' organisations and those who need to know",
                        "ambre : organisations destinataires et personnes ayant besoin d'en "
                        "connaître"),
    "value.tlp.green": ("green: the community", "vert : la communauté"),
    "value.tlp.clear": ("clear: no restriction", "clair : sans restriction"),
    "value.role.passenger": ("passenger", "passager"),
    "value.role.courier": ("courier", "passeur"),
    "value.role.victim": ("victim", "victime"),
    "value.role.sender": ("sender", "expéditeur"),
    "value.role.recipient": ("recipient", "destinataire"),
    "value.document_type.passport": ("passport", "passeport"),
    "value.document_type.id_card": ("identity card", "carte d'identité"),
    "value.document_type.residence_permit": ("residence permit", "titre de séjour"),
    "value.document_type.other": ("other", "autre"),
    "value.requested_action.intercept": ("intercept", "interpeller"),
    "value.requested_action.control": ("control", "contrôler"),
    "value.requested_action.observe": ("observe", "observer discrètement"),
    "value.requested_action.controlled_delivery": ("controlled delivery", "livraison surveillée"),
    "value.requested_action.information": ("for information", "pour information"),
    "value.commodity.cocaine": ("cocaine", "cocaïne"),
    "value.commodity.heroin": ("heroin", "héroïne"),
    "value.commodity.cannabis": ("cannabis", "cannabis"),
    "value.commodity.cannabis_resin": ("cannabis resin", "résine de cannabis"),
    "value.commodity.methamphetamine": ("methamphetamine", "méthamphétamine"),
    "value.commodity.tramadol": ("tramadol", "tramadol"),
    "value.commodity.other_synthetic_drugs": ("other synthetic drugs",
                                              "autres drogues de synthèse"),
    "value.commodity.precursors": ("precursors", "précurseurs chimiques"),
    "value.commodity.cash": ("cash", "espèces"),
    "value.commodity.gold": ("gold", "or"),
    "value.commodity.precious_stones": ("precious stones", "pierres précieuses"),
    "value.commodity.counterfeit_medicines": ("counterfeit medicines", "médicaments contrefaits"),
    "value.commodity.counterfeit_goods": ("counterfeit goods", "marchandises contrefaites"),
    "value.commodity.cigarettes": ("cigarettes", "cigarettes"),
    "value.commodity.wildlife": ("wildlife", "espèces sauvages"),
    "value.commodity.ivory": ("ivory", "ivoire"),
    "value.commodity.timber": ("timber", "bois"),
    "value.commodity.weapons": ("weapons", "armes"),
    "value.commodity.ammunition": ("ammunition", "munitions"),
    "value.commodity.explosives": ("explosives", "explosifs"),
    "value.commodity.fraudulent_documents": ("fraudulent documents", "documents frauduleux"),
    "value.commodity.other": ("other", "autre"),
    "value.concealment.body_carry": ("carried on the body", "porté sur le corps"),
    "value.concealment.ingested": ("ingested", "ingéré"),
    "value.concealment.body_cavity": ("body cavity", "cavité corporelle"),
    "value.concealment.checked_baggage": ("checked baggage", "bagage en soute"),
    "value.concealment.cabin_baggage": ("cabin baggage", "bagage cabine"),
    "value.concealment.false_bottom": ("false bottom", "double fond"),
    "value.concealment.clothing": ("clothing", "vêtements"),
    "value.concealment.footwear": ("footwear", "chaussures"),
    "value.concealment.cargo": ("cargo", "fret"),
    "value.concealment.mail": ("mail", "courrier postal"),
    "value.concealment.courier_parcel": ("courier parcel", "colis express"),
    "value.concealment.aircraft": ("aircraft", "aéronef"),
    "value.concealment.other": ("other", "autre"),
    "value.detection.profiling": ("profiling", "ciblage (profilage)"),
    "value.detection.api_pnr": ("API/PNR data", "données API/PNR"),
    "value.detection.xray": ("X-ray", "rayons X"),
    "value.detection.canine": ("detector dog", "équipe cynophile"),
    "value.detection.body_scanner": ("body scanner", "scanner corporel"),
    "value.detection.physical_search": ("physical search", "fouille"),
    "value.detection.tip_off": ("tip-off", "renseignement"),
    "value.detection.random": ("random check", "contrôle aléatoire"),
    "value.detection.other": ("other", "autre"),
})

_MAX_ITEMS = 50  # alerts.md: 1-50 subjects, 1-50 seized items
_YES = frozenset({"y", "yes", "o", "oui"})
_NO = frozenset({"n", "no", "non"})
_SEPARATORS = re.compile(r"[\s,;]+")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_alert_interactively(
    ask: Callable[[str], str],
    say: Callable[[str], None],
    t: Translator,
    *,
    now: Callable[[], datetime] = _utc_now,
) -> dict[str, Any]:
    """Ask for a new alert, field by field, and return it; see the module doc.

    ``ask`` shows a prompt and returns the answer (EOFError and KeyboardInterrupt go
    through to the caller); ``say`` shows a line; ``t`` chooses the language; ``now``
    (an aware datetime) gives ``sent_at`` and the default ``occurred_at``. The result
    is the alert as answered (not yet normalised), which
    :func:`clients.local_check.check_alert` accepts.
    """
    session = _Session(ask, say, t, now)
    alert = session.alert
    alert["sent_at"] = session.timestamp_now()
    say(t("prompt.intro"))
    kind = session.choose(("kind",), "prompt.kind", "kind")
    session.choose(("status",), "prompt.status", "status", optional=True)
    if kind == "passenger" or session.confirm("prompt.flight_for_seizure", default=False):
        _ask_flight(session)
    if kind == "passenger":
        _ask_subjects(session)
    else:
        _ask_seizures(session)
        if session.confirm("prompt.subjects_for_seizure", default=False):
            _ask_subjects(session)
    session.answer(("indicators",), "prompt.indicators", parse=_words, optional=True)
    if kind == "passenger":
        session.choose(("requested_action",), "prompt.requested_action", "requested_action")
    tlp = session.choose(("tlp",), "prompt.tlp", "tlp")
    _ask_distribution(session, red=tlp == "red")
    session.choose(("priority",), "prompt.priority", "priority")
    session.answer(("summary",), "prompt.summary")
    session.answer(("language",), "prompt.language", optional=True)
    session.answer(("expires_at",), "prompt.expires_at", optional=True)
    source = session.answer(("grading", "source"), "prompt.grading_source", parse=str.upper,
                            optional=True)
    if source is not None:
        session.answer(("grading", "information"), "prompt.grading_information")
    say(t("prompt.done"))
    return alert


def _ask_flight(session: _Session) -> None:
    session.answer(("flight", "number"), "prompt.flight_number", parse=_flight_number)
    session.answer(("flight", "date"), "prompt.flight_date", optional=True)
    session.answer(("flight", "origin"), "prompt.flight_origin", parse=str.upper)
    session.answer(("flight", "destination"), "prompt.flight_destination", parse=str.upper)
    session.answer(("flight", "route"), "prompt.flight_route", parse=_codes, optional=True)
    session.answer(("flight", "scheduled_arrival"), "prompt.scheduled_arrival", optional=True)


def _ask_subjects(session: _Session) -> None:
    subjects: list[dict[str, Any]] = session.alert.setdefault("subjects", [])
    while True:
        index = len(subjects)
        subjects.append({})
        session.say(session.t("prompt.subject_heading", number=index + 1))
        at: Path = ("subjects", index)
        session.choose((*at, "role"), "prompt.role", "role")
        session.answer((*at, "surname"), "prompt.surname")
        session.answer((*at, "given_names"), "prompt.given_names", optional=True)
        session.answer((*at, "nationality"), "prompt.nationality", parse=str.upper,
                       optional=True)
        session.answer((*at, "birth_date"), "prompt.birth_date", optional=True)
        document: Path = (*at, "document")
        if session.choose((*document, "type"), "prompt.document_type", "document_type",
                          optional=True) is not None:
            session.answer((*document, "number"), "prompt.document_number")
            session.answer((*document, "issuing_country"), "prompt.document_country",
                           parse=str.upper, optional=True)
        session.answer((*at, "seat"), "prompt.seat", parse=str.upper, optional=True)
        session.answer((*at, "pnr_locator"), "prompt.pnr", parse=str.upper, optional=True)
        session.answer((*at, "bag_tags"), "prompt.bag_tags", parse=_codes, optional=True)
        if len(subjects) >= _MAX_ITEMS or not session.confirm("prompt.another_subject",
                                                              default=False):
            return


def _ask_seizures(session: _Session) -> None:
    items: list[dict[str, Any]] = session.alert.setdefault("seizures", [])
    while True:
        index = len(items)
        items.append({})
        session.say(session.t("prompt.seizure_heading", number=index + 1))
        at: Path = ("seizures", index)
        session.choose((*at, "commodity"), "prompt.commodity", "commodity")
        session.answer((*at, "quantity"), "prompt.quantity", parse=_number)
        session.answer((*at, "unit"), "prompt.quantity_unit", parse=_quantity_unit)
        session.answer((*at, "description"), "prompt.description", optional=True)
        if len(items) >= _MAX_ITEMS or not session.confirm("prompt.another_seizure",
                                                           default=False):
            break
    session.answer(("location",), "prompt.location", parse=str.upper)
    session.answer(("occurred_at",), "prompt.occurred_at", default=session.timestamp_now)
    session.choose(("concealment",), "prompt.concealment", "concealment", optional=True)
    session.choose(("detection",), "prompt.detection", "detection", optional=True)


def _ask_distribution(session: _Session, *, red: bool) -> None:
    """``{"all": true}``, or named units, countries and regions (only units when red)."""
    if not red and session.confirm("prompt.distribution_all", default=False):
        session.alert["distribution"] = {"all": True}
        return
    while True:
        session.alert["distribution"] = {}
        if red:
            session.answer(("distribution", "units"), "prompt.units_red", parse=_codes)
            return
        session.answer(("distribution", "units"), "prompt.units", parse=_codes, optional=True)
        session.answer(("distribution", "countries"), "prompt.countries", parse=_codes,
                       optional=True)
        session.answer(("distribution", "regions"), "prompt.regions", parse=_names,
                       optional=True)
        if session.alert["distribution"]:
            return
        session.say(session.t("prompt.nobody"))


class _NotANumber(ValueError):
    """An answer that should have been a number."""


def _flight_number(answer: str) -> str:
    return "".join(answer.split()).upper()


def _codes(answer: str) -> list[str]:
    return [code.upper() for code in _SEPARATORS.split(answer) if code]


def _words(answer: str) -> list[str]:
    return [word for word in _SEPARATORS.split(answer) if word]


def _names(answer: str) -> list[str]:
    return [name.strip() for name in answer.split(",") if name.strip()]


def _number(answer: str) -> int | float:
    text = answer.replace(" ", "").replace(",", ".")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise _NotANumber(answer) from None


def _quantity_unit(answer: str) -> str:
    lowered = answer.lower()
    return lowered if lowered in MASS_VOLUME_COUNT_UNITS else answer.upper()


def _dotted(path: Path) -> str:
    """``("subjects", 0, "surname")`` as relay.validation names it: ``subjects[0].surname``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text = f"{text}.{part}" if text else part
    return text


def _put(alert: dict[str, Any], path: Path, value: object) -> None:
    target: Any = alert
    for part in path[:-1]:
        target = target[part] if isinstance(part, int) else target.setdefault(part, {})
    target[path[-1]] = value


class _Session:
    """The alert being built, and the ways of asking for its fields."""

    def __init__(self, ask: Callable[[str], str], say: Callable[[str], None], t: Translator,
                 now: Callable[[], datetime]) -> None:
        self.ask = ask
        self.say = say
        self.t = t
        self.now = now
        self.alert: dict[str, Any] = {}

    def timestamp_now(self) -> str:
        return rfc3339(self.now(), timespec="seconds")

    def problems(self, path: Path, value: object) -> list[Problem]:
        """The relay's problems with ``value`` at ``path``, given the answers so far."""
        candidate = copy.deepcopy(self.alert)
        _put(candidate, path, value)
        _, problems = check_alert(candidate)
        field = _dotted(path)
        return [problem for problem in problems
                if problem.field == field or problem.field.startswith((f"{field}.", f"{field}["))]

    def answer(
        self, path: Path, question: str, *, parse: Callable[[str], object] = str,
        optional: bool = False, default: Callable[[], object] | None = None,
    ) -> object | None:
        """Ask until the relay's rules accept the answer; None if an optional one is skipped."""
        key = "prompt.ask_optional" if optional else "prompt.ask"
        while True:
            text = self.ask(self.t(key, question=self.t(question))).strip()
            if not text:
                if optional:
                    return None
                if default is None:
                    self.say(self.t("prompt.required"))
                    continue
                value = default()
            else:
                try:
                    value = parse(text)
                except _NotANumber:
                    self.say(self.t("prompt.not_a_number"))
                    continue
            problems = self.problems(path, value)
            if not problems:
                _put(self.alert, path, value)
                return value
            for problem in problems:
                self.say(self.t("prompt.refused", problem=problem_text(
                    problem.code, problem.params, self.t.language)))

    def choose(self, path: Path, question: str, choices: str, *,
               optional: bool = False) -> str | None:
        """One of ``CHOICES[choices]``, shown numbered; None if an optional one is skipped."""
        values = CHOICES[choices]
        labels = [self.t(f"value.{choices}.{value}") for value in values]
        for number, (value, label) in enumerate(zip(values, labels, strict=True), start=1):
            shown = label if label == value else f"{label} [{value}]"
            self.say(f"  {number:>2}. {shown}")
        key = "prompt.ask_choice_optional" if optional else "prompt.ask_choice"
        prompt = self.t(key, question=self.t(question), count=len(values))
        while True:
            text = self.ask(prompt).strip()
            if not text and optional:
                return None
            chosen = _match_choice(text, values, labels)
            if chosen is not None:
                _put(self.alert, path, chosen)
                return chosen
            self.say(self.t("prompt.required") if not text
                     else self.t("prompt.bad_choice", count=len(values)))

    def confirm(self, question: str, *, default: bool) -> bool:
        """Yes or no, in English or French; an empty answer is ``default``."""
        key = "prompt.ask_yes" if default else "prompt.ask_no"
        prompt = self.t(key, question=self.t(question))
        while True:
            text = self.ask(prompt).strip().casefold()
            if not text:
                return default
            if text in _YES:
                return True
            if text in _NO:
                return False
            self.say(self.t("prompt.yes_no"))


def _match_choice(text: str, values: Sequence[str], labels: Sequence[str]) -> str | None:
    """The value a number, a code or a shown name stands for; None if none.

    A name is matched without case, with ``_`` as a space, whole or up to its colon
    (``rouge`` for "rouge : destinataires nommés uniquement").
    """
    if text.isdigit() and 1 <= int(text) <= len(values):
        return values[int(text) - 1]
    wanted = _plain(text)
    for value, label in zip(values, labels, strict=True):
        if wanted in (_plain(value), _plain(label), _plain(label.partition(":")[0])):
            return value
    return None


def _plain(name: str) -> str:
    return " ".join(name.casefold().replace("_", " ").split())
