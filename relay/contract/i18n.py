"""Human-facing words in English and French, for the clients and the `relay` command.

Every message lives in :data:`CATALOG` under a key, in both languages; commands
translate through a :class:`Translator`. The language comes from ``--lang`` or else from
the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``, in the order POSIX gives them).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final, Literal

__all__ = ["CATALOG", "LANGUAGES", "Language", "Translator", "language_from_locale", "register"]

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


class Translator:
    """``t("key", name=value)``: the message in the chosen language, filled in."""

    def __init__(self, language: Language) -> None:
        self.language: Language = language

    def __call__(self, key: str, /, **values: object) -> str:
        english, french = CATALOG[key]
        text = french if self.language == "fr" else english
        return text.format(**values) if values else text
