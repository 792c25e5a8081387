"""What the ``relay`` command prints: answers on stdout, refusals on stderr, in the
chosen language. A refusal from the store is told from its problems' codes, so that it
reads in French as well as in English."""

from __future__ import annotations

import sys

from relay.contract.errors import RelayError
from relay.contract.i18n import CATALOG, Translator, register
from relay.contract.problems_fr import problem_text

__all__ = ["Say"]

register({
    "relay.refused.bad_frame": ("refused, the request is not valid", "refusé, la demande n'est pas valide"),
    "relay.refused.conflict": ("refused", "refusé"),
    "relay.refused.not_found": ("not found", "introuvable"),
    "relay.refused.forbidden": ("forbidden", "interdit"),
    "relay.refused.unavailable": ("the database is unavailable; retry later",
                                  "la base de données est indisponible ; réessayez plus tard"),
})


class Say:
    def __init__(self, t: Translator) -> None:
        self.t = t

    def out(self, key: str, /, **values: object) -> None:
        print(self.t(key, **values))

    def line(self, text: str) -> None:
        print(text)

    def error(self, key: str, /, **values: object) -> None:
        print(f"relay: {self.t(key, **values)}", file=sys.stderr)

    def refusal(self, exc: RelayError) -> None:
        """The refusal's headline, then one line per problem: ``field: sentence``. In
        English the headline is the relay's own message (it names the unit or token)."""
        key = f"relay.refused.{exc.code}"
        headline = exc.message if self.t.language == "en" or key not in CATALOG else self.t(key)
        print(f"relay: {headline}", file=sys.stderr)
        for problem in exc.details:
            text = problem_text(problem.code, problem.params, self.t.language)
            print(f"  {problem.field}: {text}", file=sys.stderr)
