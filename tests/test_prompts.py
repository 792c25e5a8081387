"""clients.prompts: an alert built from answers, each checked by the relay's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clients.i18n import Language, Translator
from clients.local_check import check_alert
from clients.prompts import build_alert_interactively

NOW = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)


class Script:
    """Answers given in order; what was asked and said is kept for the test to read."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []
        self.said: list[str] = []

    def ask(self, prompt: str) -> str:
        self.asked.append(prompt)
        if not self.answers:
            raise AssertionError(f"no answer left for {prompt!r}")
        return self.answers.pop(0)

    def say(self, text: str) -> None:
        self.said.append(text)


def run(answers: list[str], language: Language = "en") -> tuple[dict, Script]:
    script = Script(answers)
    alert = build_alert_interactively(script.ask, script.say, Translator(language),
                                      now=lambda: NOW)
    assert [] == script.answers, "every scripted answer is used"
    return alert, script


PASSENGER_ANSWERS = [
    "1",                        # kind: passenger
    "",                         # status: skipped (actual)
    "at 571",                   # flight number
    "2026-11-23",               # flight date
    "BKO",                      # origin
    "cdg",                      # destination
    "BKO CMN CDG",              # route
    "",                         # scheduled arrival: skipped
    "courier",                  # person 1: role
    "DOE", "John", "ml", "1990-04-12",
    "passport", "AA0000000", "ML",
    "23c", "", "",              # seat, PNR, bag tags
    "y",                        # another person
    "victim", "ROE", "", "", "", "", "", "", "",
    "n",
    "cash_ticket, one_way",     # indicators
    "intercept",
    "amber",
    "n",                        # not to every unit
    "MA-CMN-BNPJ FR-CDG-OFAST", "", "G5-SAHEL",
    "flash",
    "Suspected courier on AT571 BKO-CMN-CDG.",
    "en",
    "",                         # expires_at: skipped
    "b", "2",                   # grading
]

PASSENGER = {
    "sent_at": "2026-11-23T08:00:00Z",
    "kind": "passenger",
    "flight": {"number": "AT571", "date": "2026-11-23", "origin": "BKO", "destination": "CDG",
               "route": ["BKO", "CMN", "CDG"]},
    "subjects": [
        {"role": "courier", "surname": "DOE", "given_names": "John", "nationality": "ML",
         "birth_date": "1990-04-12",
         "document": {"type": "passport", "number": "AA0000000", "issuing_country": "ML"},
         "seat": "23C"},
        {"role": "victim", "surname": "ROE"},
    ],
    "indicators": ["cash_ticket", "one_way"],
    "requested_action": "intercept",
    "tlp": "amber",
    "distribution": {"units": ["MA-CMN-BNPJ", "FR-CDG-OFAST"], "regions": ["G5-SAHEL"]},
    "priority": "flash",
    "summary": "Suspected courier on AT571 BKO-CMN-CDG.",
    "language": "en",
    "grading": {"source": "B", "information": "2"},
}


def test_a_passenger_session_builds_the_alert_answered():
    """Two people, a document, a route, named units and a region; codes in upper case."""
    alert, _ = run(PASSENGER_ANSWERS)
    assert PASSENGER == alert


def test_the_alert_of_a_passenger_session_passes_the_local_check():
    """What the questions build is what the relay's rules accept."""
    alert, _ = run(PASSENGER_ANSWERS)
    assert [] == check_alert(alert)[1]


SEIZURE_ANSWERS = [
    "saisie",                   # kind, by its French name
    "exercice",                 # status
    "non",                      # no flight
    "cocaïne",
    "2,4",                      # a decimal comma
    "EUR",                      # refused: a currency only for cash
    "KG",
    "",                         # description
    "o",                        # another item
    "9",                        # cash, by its number
    "beaucoup",                 # refused: not a number
    "3500",
    "xof",
    "billets de 10 000 FCFA",
    "n",
    "lfw",                      # location
    "",                         # occurred_at: now
    "ingéré",                   # concealment, by its French name
    "body_scanner",             # detection, by its code
    "",                         # no person involved
    "",                         # no indicators
    "vert",                     # TLP green, by the start of its French name
    "oui",                      # to every unit
    "urgent",
    "2,4 kg de cocaïne in corpore et 3 500 000 XOF saisis à LFW.",
    "fr",
    "2026-11-24T00:00:00Z",
    "",                         # no grading
]

SEIZURE = {
    "sent_at": "2026-11-23T08:00:00Z",
    "kind": "seizure",
    "status": "exercise",
    "seizures": [
        {"commodity": "cocaine", "quantity": 2.4, "unit": "kg"},
        {"commodity": "cash", "quantity": 3500, "unit": "XOF",
         "description": "billets de 10 000 FCFA"},
    ],
    "location": "LFW",
    "occurred_at": "2026-11-23T08:00:00Z",
    "concealment": "ingested",
    "detection": "body_scanner",
    "tlp": "green",
    "distribution": {"all": True},
    "priority": "urgent",
    "summary": "2,4 kg de cocaïne in corpore et 3 500 000 XOF saisis à LFW.",
    "language": "fr",
    "expires_at": "2026-11-24T00:00:00Z",
}


def test_a_seizure_session_in_french_builds_the_alert_answered():
    """Choices by French name, number or code; refused answers are explained in French
    (from the problem's code) and asked again."""
    alert, script = run(SEIZURE_ANSWERS, "fr")
    assert SEIZURE == alert
    assert [] == check_alert(alert)[1]
    assert [
        "Refusé : une devise (EUR) n'est une unité que pour des espèces ; utilisez l'une de "
        "kg, g, l, pcs",
        "Refusé : indiquez un nombre, par ex. 2,4",
    ] == [line for line in script.said if line.startswith("Refusé")]


def test_french_prompts_are_asked_with_lang_fr():
    """Questions, choice names and French punctuation."""
    _, script = run(SEIZURE_ANSWERS, "fr")
    assert "Type d'alerte [1-2] : " == script.asked[0]
    assert "Quantité (un nombre, par ex. 2,4) : " in script.asked
    assert "Envoyer à toutes les unités ? [o/N] " in script.asked
    assert "   1. cocaïne [cocaine]" in script.said
    assert "Nouvelle alerte. Appuyez sur Entrée pour passer une question facultative." == \
        script.said[0]


def test_an_unknown_airport_is_refused_with_the_relays_sentence_and_asked_again():
    """XXX has the form of an IATA code but is no airport; 12A has not even the form."""
    answers = list(PASSENGER_ANSWERS)
    at = answers.index("BKO")
    answers[at:at + 1] = ["XXX", "12A", "BKO"]
    alert, script = run(answers)
    assert PASSENGER == alert
    origin = "Departure airport, IATA code (e.g. BKO): "
    assert 3 == script.asked.count(origin)
    assert [
        "Not accepted: unknown IATA airport code 'XXX'",
        "Not accepted: must be an IATA airport code (3 upper-case letters, e.g. CDG)",
    ] == [line for line in script.said if line.startswith("Not accepted")]


def test_answers_are_checked_in_the_context_of_earlier_answers():
    """A route must run from the origin given to the destination given."""
    answers = list(PASSENGER_ANSWERS)
    at = answers.index("BKO CMN CDG")
    answers[at:at + 1] = ["CMN CDG", "BKO CMN CDG"]
    _, script = run(answers)
    assert ["Not accepted: must be the flight's origin 'BKO'"] == [
        line for line in script.said if line.startswith("Not accepted")]


def test_a_required_answer_left_empty_and_an_unknown_choice_are_asked_again():
    """An empty surname is required; "smuggler" is no role."""
    answers = list(PASSENGER_ANSWERS)
    at = answers.index("courier")
    answers[at:at + 2] = ["smuggler", "courier", "", "DOE"]
    alert, script = run(answers)
    assert PASSENGER == alert
    assert [
        "Not accepted: answer with a number from 1 to 5 or a name from the list.",
        "This answer is required.",
    ] == [line for line in script.said if line.startswith(("Not accepted", "This answer"))]


def test_a_red_alert_names_units_only():
    """No question on all units, countries or regions: red reaches named units only."""
    answers = list(PASSENGER_ANSWERS)
    at = answers.index("amber")
    answers[at:at + 5] = ["red", "", "FR-CDG-OFAST"]
    alert, script = run(answers)
    assert {"units": ["FR-CDG-OFAST"]} == alert["distribution"]
    assert [] == check_alert(alert)[1]
    assert "This answer is required." in script.said


def test_a_distribution_naming_nobody_is_asked_again():
    """Skipping units, countries and regions starts the distribution over."""
    answers = list(PASSENGER_ANSWERS)
    at = answers.index("MA-CMN-BNPJ FR-CDG-OFAST")
    answers[at:at] = ["", "", ""]
    alert, script = run(answers)
    assert PASSENGER == alert
    assert "Name at least one unit, country or region." in script.said


@pytest.mark.parametrize(("answer", "expected"), [("y", True), ("oui", True), ("O", True),
                                                  ("no", False), ("non", False), ("", False)])
def test_yes_and_no_are_understood_in_both_languages(answer, expected):
    """Whatever the language of the prompts; empty takes the default shown in capitals."""
    answers = list(PASSENGER_ANSWERS)
    at = answers.index("amber") + 1
    answers[at] = answer
    if expected:
        del answers[at + 1:at + 4]
    alert, _ = run(answers, "fr")
    assert expected == (alert["distribution"] == {"all": True})
