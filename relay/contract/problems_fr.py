"""Every problem code's sentence in French, beside the English of :mod:`problems`, so
that the relay's own clients and command show each problem in the user's language from
its ``code`` and ``params`` (admin.md, "Problems in the user's language")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from relay.contract.i18n import Language
from relay.contract.problems import english, quoted

__all__ = ["FRENCH", "problem_text"]

FRENCH: dict[str, str | Callable[[Mapping[str, Any]], str]] = {
    "already_exists": lambda p: f"{quoted(p['value'])} existe déjà",
    "last_admin": "laisserait le relais sans aucune unité admin active",
    "unit_suspended": lambda p: f"l'unité {p['value']} est suspendue ; rétablissez-la d'abord",
    "not_suspended": lambda p: f"l'unité {p['value']} n'est pas suspendue",
    "unknown_token": lambda p: f"jeton inconnu {quoted(p['value'])}",
    "already_revoked": lambda p: f"le jeton {p['value']} est déjà révoqué",
    "bad_header": lambda p: f"doit être la ligne d'en-tête {p['expected']}",
    "column_count": lambda p: f"doit avoir {p['expected']} colonnes, pas {p['found']}",
    "repeated_in_file": lambda p: f"apparaît déjà à la ligne {p['line']}",
}


def problem_text(code: str, params: Mapping[str, Any], language: Language) -> str:
    """The sentence of a problem in ``language``."""
    if language == "fr":
        french = FRENCH.get(code)
        if french is not None:
            return french(params) if callable(french) else french.format(**params)
    return english(code, params)
