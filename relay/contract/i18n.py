"""Human-facing words in English and French, for the clients and the `relay` command.

Every message lives in :data:`CATALOG` under a key, in both languages; commands
translate through a :class:`Translator`. The language comes from ``--lang`` or else from
the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``, in the order POSIX gives them).

argparse writes words of its own (``usage:``, ``options``, ``the following arguments are
required``...) through gettext. Their French is in the catalogue too, under
``argparse.*`` keys whose English is argparse's own message id, and
:func:`argparse_speaks` makes argparse take them from a :class:`Translator` while a
command builds its parser and parses its arguments.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final, Literal

__all__ = ["CATALOG", "LANGUAGES", "Language", "Translator", "argparse_speaks",
           "language_from_locale", "register"]

Language = Literal["en", "fr"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "fr")

# key -> (English, French). Placeholders use str.format names.
CATALOG: dict[str, tuple[str, str]] = {}


def register(messages: Mapping[str, tuple[str, str]]) -> None:
    """Add a module's messages to the catalog; a key may be defined only once."""
    for key, pair in messages.items():
        if key in CATALOG and CATALOG[key] != pair:
            raise ValueError(f"message {key!r} defined twice")
        CATALOG[key] = pair


def language_from_locale(environ: Mapping[str, str] | None = None) -> Language:
    """French when the first set locale variable names French, else English."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


# argparse's message ids (Python 3.11 to 3.13) that a user can meet, in %-format as
# argparse fills them in; those only a programming error produces are left in English.
register({
    "argparse.usage": ("usage: ", "utilisation : "),
    "argparse.positionals": ("positional arguments", "arguments positionnels "),
    "argparse.options": ("options", "options "),
    "argparse.subcommands": ("subcommands", "sous-commandes "),
    "argparse.help": ("show this help message and exit", "afficher cette aide et quitter"),
    "argparse.error": ("%(prog)s: error: %(message)s\n", "%(prog)s : erreur : %(message)s\n"),
    "argparse.argument": ("argument %(argument_name)s: %(message)s",
                          "argument %(argument_name)s : %(message)s"),
    "argparse.unrecognized": ("unrecognized arguments: %s", "arguments non reconnus : %s"),
    "argparse.required": ("the following arguments are required: %s",
                          "les arguments suivants sont obligatoires : %s"),
    "argparse.one_required": ("one of the arguments %s is required",
                              "l'un des arguments %s est obligatoire"),
    "argparse.not_allowed": ("not allowed with argument %s", "incompatible avec l'argument %s"),
    "argparse.ignored": ("ignored explicit argument %r", "argument explicite ignoré : %r"),
    "argparse.one": ("expected one argument", "un argument est attendu"),
    "argparse.at_most_one": ("expected at most one argument", "un argument au plus est attendu"),
    "argparse.at_least_one": ("expected at least one argument",
                              "un argument au moins est attendu"),
    "argparse.n": ("expected %s argument", "%s argument est attendu"),
    "argparse.n_plural": ("expected %s arguments", "%s arguments sont attendus"),
    "argparse.ambiguous": ("ambiguous option: %(option)s could match %(matches)s",
                           "option ambiguë : %(option)s peut désigner %(matches)s"),
    "argparse.unexpected": ("unexpected option string: %s", "option inattendue : %s"),
    "argparse.invalid_value": ("invalid %(type)s value: %(value)r",
                               "valeur invalide pour %(type)s : %(value)r"),
    "argparse.invalid_choice": ("invalid choice: %(value)r (choose from %(choices)s)",
                                "choix invalide : %(value)r (choisissez parmi %(choices)s)"),
    "argparse.unknown_parser": ("unknown parser %(parser_name)r (choices: %(choices)s)",
                                "sous-commande inconnue %(parser_name)r (choix : %(choices)s)"),
    "argparse.cannot_open": ("can't open '%(filename)s': %(error)s",
                             "impossible d'ouvrir '%(filename)s' : %(error)s"),
})


class Translator:
    """``t("key", name=value)``: the message in the chosen language, filled in."""

    def __init__(self, language: Language) -> None:
        self.language: Language = language

    def __call__(self, key: str, /, **values: object) -> str:
        english, french = CATALOG[key]
        text = french if self.language == "fr" else english
        return text.format(**values) if values else text

    def gettext(self, message_id: str) -> str:
        """argparse's ``_()``: the catalogue's text whose English is ``message_id``, or
        ``message_id`` itself when the catalogue does not have it."""
        if self.language == "en":
            return message_id
        return _ARGPARSE_FRENCH.get(message_id, message_id)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        """argparse's ``ngettext()``; French, like English, uses the singular for 1."""
        return self.gettext(singular if count == 1 else plural)


_ARGPARSE_FRENCH: Final = {english: french for key, (english, french) in CATALOG.items()
                           if key.startswith("argparse.")}


@contextmanager
def argparse_speaks(t: Translator) -> Iterator[None]:
    """argparse's own words in ``t``'s language for the duration of the block.

    argparse looks its ``_`` and ``ngettext`` up in its module when it writes a heading,
    a help line or an error (it was written to be translated through gettext), so they
    are replaced there and put back afterwards, also when argparse exits.
    """
    names = vars(argparse)
    saved = names["_"], names["ngettext"]
    names["_"], names["ngettext"] = t.gettext, t.ngettext
    try:
        yield
    finally:
        names["_"], names["ngettext"] = saved
