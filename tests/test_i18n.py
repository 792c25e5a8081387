"""clients.i18n: every message of every client module, in English and in French."""

from __future__ import annotations

import importlib
import pkgutil
import string

import pytest

import clients
from clients.i18n import CATALOG, Translator, language_from_locale
from clients.prompts import CHOICES

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
