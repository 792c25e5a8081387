"""clients.i18n: every message of every client module, in English and in French."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import pkgutil
import string

import pytest

import clients
from clients.i18n import CATALOG, Translator, argparse_speaks, language_from_locale
from clients.prompts import CHOICES
from relay.contract.errors import HTTP_STATUS
from relay.contract.problems import PROBLEM_CODES
from relay.contract.problems_fr import FRENCH, problem_text
from tests.test_problems import PARAMS

# Messages are registered when their module is imported: import them all.
for _module in pkgutil.iter_modules(clients.__path__, prefix="clients."):
    importlib.import_module(_module.name)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_message_has_english_and_french_with_the_same_placeholders(key):
    """No empty text, and each language fills in the same {names}."""
    english, french = CATALOG[key]
    assert (True, True) == (bool(english.strip()), bool(french.strip()))
    assert placeholders(english) == placeholders(french)


def test_every_choice_offered_by_the_prompts_has_a_name_in_both_languages():
    """Each code of relay.model that a question offers is shown by name."""
    expected = {f"value.{name}.{value}" for name, values in CHOICES.items() for value in values}
    assert expected == expected & set(CATALOG)


def test_a_message_is_filled_in_in_the_chosen_language():
    """Translator picks the text and fills in its placeholders."""
    expected = ["Person 2", "Personne 2"]
    assert expected == [Translator("en")("prompt.subject_heading", number=2),
                        Translator("fr")("prompt.subject_heading", number=2)]


@pytest.mark.parametrize(("environ", "expected"), [
    ({"LANG": "fr_SN.UTF-8"}, "fr"),
    ({"LC_ALL": "en_US.UTF-8", "LANG": "fr_FR.UTF-8"}, "en"),
    ({"LC_MESSAGES": "fr_ML"}, "fr"),
    ({}, "en"),
])
def test_the_language_comes_from_the_first_locale_variable_set(environ, expected):
    """LC_ALL, then LC_MESSAGES, then LANG, as POSIX orders them."""
    assert expected == language_from_locale(environ)


# -- French everywhere (issue 10, item 4) ---------------------------------------------------

# Words that are the same in both languages, legitimately: codes of the contract shown as
# they are (priorities, a status), commodities French writes the same way, acronyms, and
# the names of stored columns (relay audit verify names the one that disagrees).
SAME_IN_BOTH = {"flash", "routine", "urgent", "test", "cannabis", "cigarettes", "tramadol",
                "json", "seq", "url", "alert_id", "audience", "origin_relay", "origin_unit"}


def words(text: str) -> str:
    return text.strip(" *").lower()


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_message_is_translated_unless_the_word_is_the_same_in_both(key):
    """A French text identical to the English one is a forgotten translation, but for the
    short list of words both languages write alike."""
    english, french = CATALOG[key]
    assert english != french or words(english) in SAME_IN_BOTH, key


@pytest.mark.parametrize("code", sorted(PROBLEM_CODES))
def test_every_problem_code_has_a_french_sentence_that_renders_and_is_not_the_english(code):
    """Every problem the relay can report (relay.contract.problems) reads in French from
    its code and the params it travels with; a code added without French fails here."""
    params = PARAMS.get(code, {})
    assert code in FRENCH
    french, english = problem_text(code, params, "fr"), problem_text(code, params, "en")
    assert (True, True) == (bool(french.strip()), "{" not in french.replace('{"all"', ""))
    assert french != english


@pytest.mark.parametrize("code", sorted(HTTP_STATUS))
def test_every_error_code_of_the_relay_has_a_sentence_in_both_languages(code):
    """invalid_alert, forbidden, rate_limited...: a refusal reads in French from its code."""
    english, french = CATALOG[f"refusal.{code}"]
    assert english != french


def test_argparse_speaks_french_in_help_and_errors():
    """The headings, the help option and an error: argparse's own words, in French."""
    t = Translator("fr")
    with argparse_speaks(t):
        parser = argparse.ArgumentParser(prog="relay-feed")
        parser.add_argument("status", choices=["positive"])
        help_text = parser.format_help()
        error = io.StringIO()
        with contextlib.redirect_stderr(error), pytest.raises(SystemExit):
            parser.parse_args(["positif", "--x"])
    assert ["utilisation : relay-feed [-h] {positive}", "arguments positionnels :", "options :",
            "  -h, --help  afficher cette aide et quitter"] == [
        line for line in help_text.splitlines() if line and not line.startswith("  {")]
    assert ("relay-feed : erreur : argument status : choix invalide : 'positif' "
            "(choisissez parmi 'positive')") == error.getvalue().splitlines()[-1]


def test_argparse_is_english_again_after_the_block():
    """The replacement lasts for the block only."""
    with argparse_speaks(Translator("fr")):
        pass
    assert "usage: x [-h]\n" == argparse.ArgumentParser(prog="x").format_usage()
