"""Options shared by ``relay-post`` and ``relay-feed``, and their exit statuses.

``--url``/``RELAY_URL``, ``--token``/``RELAY_TOKEN`` (or ``--token-file``, which keeps the
token out of the process list), ``--state-dir``/``RELAY_STATE_DIR`` (the outbox and the
feed cursor), ``--lang fr|en`` (default from the locale), ``--encoding``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NoReturn
from urllib.parse import urlsplit

from clients.connection import EncodingName
from clients.i18n import LANGUAGES, Language, Translator, language_from_locale, register

__all__ = [
    "EXIT_AUTH",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REJECTED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "Common",
    "add_common_options",
    "common_from",
    "default_state_dir",
    "fail",
    "say",
    "say_details",
    "translator_for",
]

EXIT_OK: Final = 0
EXIT_REJECTED: Final = 1      # the relay refused the alert or receipt (kept in the outbox)
EXIT_USAGE: Final = 2         # bad options or a bad alert file: nothing was sent
EXIT_AUTH: Final = 3          # the relay refused the token
EXIT_UNREACHABLE: Final = 4   # the relay could not be reached (relay-post: queued)
EXIT_INTERRUPTED: Final = 130  # Ctrl-C (128 + SIGINT), as shells report it

register({
    "opt.url": ("relay stream URL, e.g. wss://relay.example.org/v1/stream (env RELAY_URL)",
                "URL du flux du relais, p. ex. wss://relay.example.org/v1/stream (env RELAY_URL)"),
    "opt.token": ("the unit's token (env RELAY_TOKEN)", "le jeton de l'unité (env RELAY_TOKEN)"),
    "opt.token_file": ("read the token from this file", "lire le jeton dans ce fichier"),
    "opt.state_dir": ("directory of the outbox and the feed cursor (env RELAY_STATE_DIR)",
                      "dossier de la file d'envoi et du curseur (env RELAY_STATE_DIR)"),
    "opt.lang": ("language of messages: fr or en (default: from the locale)",
                 "langue des messages : fr ou en (par défaut : celle du système)"),
    "opt.encoding": ("stream encoding", "encodage du flux"),
    "err.no_url": ("no relay URL: give --url or set RELAY_URL",
                   "pas d'URL du relais : indiquez --url ou définissez RELAY_URL"),
    "err.no_token": ("no token: give --token, --token-file or set RELAY_TOKEN",
                     "pas de jeton : indiquez --token, --token-file ou définissez RELAY_TOKEN"),
    "err.bad_url": ("{url} is not a stream URL: it must start with wss:// (or ws:// on a trusted network)",
                    "{url} n'est pas une URL de flux : elle doit commencer par wss:// (ou ws:// sur un réseau sûr)"),
    "err.token_file": ("cannot read the token file {path}: {reason}",
                       "impossible de lire le fichier du jeton {path} : {reason}"),
    "err.auth": ("the relay refused the token ({reason}); ask the relay operator for a new one",
                 "le relais a refusé le jeton ({reason}) ; demandez-en un nouveau à l'opérateur du relais"),
    "err.unreachable": ("the relay cannot be reached: {reason}",
                        "le relais est injoignable : {reason}"),
    "err.detail": ("  {field}: {problem}", "  {field} : {problem}"),
})


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/relay``, else ``~/.local/state/relay``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "relay"


def _language_argument(argv: list[str]) -> Language:
    """--lang is needed before the parser exists, to write its help in that language."""
    for index, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--lang=") else (
            argv[index + 1] if arg == "--lang" and index + 1 < len(argv) else None)
        if value in LANGUAGES:
            return "fr" if value == "fr" else "en"
    return language_from_locale()


def add_common_options(parser: argparse.ArgumentParser, t: Translator) -> None:
    parser.add_argument("--url", default=os.environ.get("RELAY_URL"), help=t("opt.url"))
    parser.add_argument("--token", default=os.environ.get("RELAY_TOKEN"), help=t("opt.token"))
    parser.add_argument("--token-file", type=Path, help=t("opt.token_file"))
    parser.add_argument("--state-dir", type=Path,
                        default=Path(os.environ["RELAY_STATE_DIR"]) if os.environ.get("RELAY_STATE_DIR")
                        else default_state_dir(), help=t("opt.state_dir"))
    parser.add_argument("--lang", choices=LANGUAGES, default=t.language, help=t("opt.lang"))
    parser.add_argument("--encoding", choices=("json", "msgpack"), default="msgpack",
                        help=t("opt.encoding"))


@dataclass(frozen=True)
class Common:
    url: str
    token: str
    state_dir: Path
    encoding: EncodingName
    t: Translator


def say(text: str) -> None:
    """A message for the person at the terminal: standard error, so data can be piped."""
    print(text, file=sys.stderr, flush=True)


def say_details(t: Translator, details: Iterable[Mapping[str, Any]]) -> None:
    """The relay's problem list of an error, one indented line each."""
    for detail in details:
        say(t("err.detail", field=detail.get("field"), problem=detail.get("problem")))


def fail(t: Translator, key: str, status: int, **values: object) -> NoReturn:
    say(t(key, **values))
    raise SystemExit(status)


def common_from(args: argparse.Namespace, t: Translator, *, need_connection: bool = True) -> Common:
    """The checked common options; exits with EXIT_USAGE naming what is missing."""
    token = args.token or ""
    if args.token_file is not None:
        try:
            token = args.token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            fail(t, "err.token_file", EXIT_USAGE, path=args.token_file, reason=exc.strerror)
    if need_connection and not args.url:
        fail(t, "err.no_url", EXIT_USAGE)
    if need_connection and not token:
        fail(t, "err.no_token", EXIT_USAGE)
    if need_connection and urlsplit(args.url).scheme not in ("ws", "wss"):
        fail(t, "err.bad_url", EXIT_USAGE, url=args.url)
    return Common(url=args.url or "", token=token, state_dir=args.state_dir,
                  encoding=args.encoding, t=t)


def translator_for(argv: list[str]) -> Translator:
    return Translator(_language_argument(argv))
