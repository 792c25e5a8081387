"""The clients' words in English and French: the catalogue of :mod:`relay.contract.i18n`,
shared with the ``relay`` command."""

from relay.contract.i18n import (
    CATALOG,
    LANGUAGES,
    Language,
    Translator,
    argparse_speaks,
    language_from_locale,
    register,
)

__all__ = ["CATALOG", "LANGUAGES", "Language", "Translator", "argparse_speaks",
           "language_from_locale", "register"]
