"""Options shared by ``relay-post`` and ``relay-feed``, their exit statuses, and how they
speak to the person at the terminal.

``--url``/``RELAY_URL``, ``--token``/``RELAY_TOKEN`` (or ``--token-file``, which keeps the
token out of the process list), ``--ca-file``/``RELAY_CA_FILE`` (a PEM bundle of the
authorities to trust for a ``wss://`` relay), ``--state-dir``/``RELAY_STATE_DIR`` (the
outbox, the feed cursor and what the feed showed), ``--lang fr|en`` (default from the
locale), ``--encoding``. They are accepted before and after a subcommand
(``relay-feed --lang fr receipt ...`` and ``relay-feed receipt ... --lang fr``):
:func:`common_parent` gives the parser of the command itself, and, with
``below=True``, the one of each subcommand, whose unset options leave the command's
values alone.

:func:`parsing` builds and runs a parser with argparse's own words in the user's
language (``utilisation :``, ``options :``...).
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final, NoReturn
from urllib.parse import urlsplit

from clients.connection import EncodingName, tls_context
from clients.errors import detail_text, file_error_text
from clients.i18n import (
    LANGUAGES,
    Language,
    Translator,
    argparse_speaks,
    language_from_locale,
    register,
)

__all__ = [
    "EXIT_AUTH",
    "EXIT_CERTIFICATE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REJECTED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "Common",
    "add_version",
    "common_from",
    "common_parent",
    "default_state_dir",
    "fail",
    "package_version",
    "parsing",
    "say",
    "say_details",
    "translator_for",
]

EXIT_OK: Final = 0
EXIT_REJECTED: Final = 1      # the relay refused the alert or receipt (kept in the outbox)
EXIT_USAGE: Final = 2         # bad options or a bad alert file: nothing was sent
EXIT_AUTH: Final = 3          # the relay refused the token
EXIT_UNREACHABLE: Final = 4   # the relay could not be reached (relay-post: queued)
EXIT_CERTIFICATE: Final = 5   # the relay's TLS certificate is not trusted (relay-post: queued)
EXIT_INTERRUPTED: Final = 130  # Ctrl-C (128 + SIGINT), as shells report it

register({
    "opt.url": ("relay stream URL, e.g. wss://relay.example.org/v1/stream (env RELAY_URL)",
                "URL du flux du relais, p. ex. wss://relay.example.org/v1/stream (env RELAY_URL)"),
    "opt.token": ("the unit's token (env RELAY_TOKEN)", "le jeton de l'unité (env RELAY_TOKEN)"),
    "opt.token_file": ("read the token from this file", "lire le jeton dans ce fichier"),
    "opt.ca_file": ("PEM file of the certificate authorities to trust for a wss:// relay, "
                    "e.g. its self-signed certificate (env RELAY_CA_FILE)",
                    "fichier PEM des autorités de certification à reconnaître pour un relais "
                    "wss://, p. ex. son certificat auto-signé (env RELAY_CA_FILE)"),
    "opt.state_dir": ("directory of the outbox, the feed cursor and what the feed showed "
                      "(env RELAY_STATE_DIR)",
                      "dossier de la file d'envoi, du curseur et de ce que le flux a affiché "
                      "(env RELAY_STATE_DIR)"),
    "opt.lang": ("language of messages: fr or en (default: from the locale)",
                 "langue des messages : fr ou en (par défaut : celle du système)"),
    "opt.encoding": ("stream encoding", "encodage du flux"),
    "opt.version": ("print the version and exit", "afficher la version et quitter"),
    "meta.url": ("URL", "URL"),
    "meta.token": ("TOKEN", "JETON"),
    "meta.file": ("FILE", "FICHIER"),
    "meta.dir": ("DIRECTORY", "DOSSIER"),
    "meta.alert": ("ALERT", "ALERTE"),
    "meta.seconds": ("SECONDS", "SECONDES"),
    "meta.text": ("TEXT", "TEXTE"),
    "err.no_url": ("no relay URL: give --url or set RELAY_URL",
                   "pas d'URL du relais : indiquez --url ou définissez RELAY_URL"),
    "err.no_token": ("no token: give --token, --token-file or set RELAY_TOKEN",
                     "pas de jeton : indiquez --token, --token-file ou définissez RELAY_TOKEN"),
    "err.bad_url": ("{url} is not a stream URL: it must start with wss:// (or ws:// on a trusted network)",
                    "{url} n'est pas une URL de flux : elle doit commencer par wss:// (ou ws:// sur un réseau sûr)"),
    "err.token_file": ("cannot read the token file {path}: {reason}",
                       "impossible de lire le fichier du jeton {path} : {reason}"),
    "err.ca_file": ("cannot use {path} as --ca-file: {reason}",
                    "impossible d'utiliser {path} comme --ca-file : {reason}"),
    "err.ca_file_not_pem": ("it holds no PEM certificate", "il ne contient aucun certificat PEM"),
    "err.ca_file_plain": ("--ca-file is ignored: {url} is not a wss:// URL",
                          "--ca-file est ignoré : {url} n'est pas une URL wss://"),
    "err.auth": ("the relay refused the token ({reason}); ask the relay operator for a new one",
                 "le relais a refusé le jeton ({reason}) ; demandez-en un nouveau à l'opérateur du relais"),
    "err.unreachable": ("the relay cannot be reached: {reason}",
                        "le relais est injoignable : {reason}"),
    "err.certificate": ("TLS certificate not trusted: {reason}",
                        "certificat TLS non reconnu : {reason}"),
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


def common_parent(t: Translator, *, below: bool = False) -> argparse.ArgumentParser:
    """The common options, as a parent parser. The command's own parser takes them with
    their defaults (from the environment); a subcommand's (``below=True``) with no
    default, so that an option given before the subcommand is not reset by it."""
    parent = argparse.ArgumentParser(add_help=False)

    def default(value: object) -> object:
        return argparse.SUPPRESS if below else value

    environ = os.environ
    parent.add_argument("--url", default=default(environ.get("RELAY_URL")),
                        metavar=t("meta.url"), help=t("opt.url"))
    parent.add_argument("--token", default=default(environ.get("RELAY_TOKEN")),
                        metavar=t("meta.token"), help=t("opt.token"))
    parent.add_argument("--token-file", type=Path, default=default(None),
                        metavar=t("meta.file"), help=t("opt.token_file"))
    parent.add_argument("--ca-file", type=Path,
                        default=default(Path(environ["RELAY_CA_FILE"])
                                        if environ.get("RELAY_CA_FILE") else None),
                        metavar=t("meta.file"), help=t("opt.ca_file"))
    parent.add_argument("--state-dir", type=Path,
                        default=default(Path(environ["RELAY_STATE_DIR"])
                                        if environ.get("RELAY_STATE_DIR") else default_state_dir()),
                        metavar=t("meta.dir"), help=t("opt.state_dir"))
    parent.add_argument("--lang", choices=LANGUAGES, default=default(t.language),
                        help=t("opt.lang"))
    parent.add_argument("--encoding", choices=("json", "msgpack"), default=default("msgpack"),
                        help=t("opt.encoding"))
    return parent


def package_version() -> str:
    """The installed relay package's version (importlib.metadata)."""
    try:
        return version("relay")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def add_version(parser: argparse.ArgumentParser, prog: str, t: Translator) -> None:
    parser.add_argument("--version", action="version", version=f"{prog} {package_version()}",
                        help=t("opt.version"))


@contextmanager
def parsing(t: Translator) -> Iterator[None]:
    """Build and run parsers inside this block: argparse then speaks ``t``'s language."""
    with argparse_speaks(t):
        yield


@dataclass(frozen=True)
class Common:
    url: str
    token: str
    state_dir: Path
    encoding: EncodingName
    t: Translator
    tls: ssl.SSLContext | None = None


def say(text: str) -> None:
    """A message for the person at the terminal: standard error, so data can be piped."""
    print(text, file=sys.stderr, flush=True)


def say_details(t: Translator, details: Iterable[Mapping[str, Any]]) -> None:
    """The relay's problem list of an error, one indented line each, in t's language."""
    for detail in details:
        say(t("err.detail", field=detail.get("field"), problem=detail_text(detail, t)))


def fail(t: Translator, key: str, status: int, **values: object) -> NoReturn:
    say(t(key, **values))
    raise SystemExit(status)


def _tls(args: argparse.Namespace, t: Translator) -> ssl.SSLContext | None:
    """The TLS settings for --ca-file; exits with EXIT_USAGE for a file that cannot be
    read or holds no certificate."""
    ca_file: Path | None = args.ca_file
    if ca_file is None:
        return None
    if args.url and not str(args.url).startswith("wss:"):
        say(t("err.ca_file_plain", url=args.url))
        return None
    try:
        return tls_context(ca_file)
    except ssl.SSLError:
        fail(t, "err.ca_file", EXIT_USAGE, path=ca_file, reason=t("err.ca_file_not_pem"))
    except OSError as exc:
        fail(t, "err.ca_file", EXIT_USAGE, path=ca_file, reason=file_error_text(exc, t))


def common_from(args: argparse.Namespace, t: Translator, *, need_connection: bool = True) -> Common:
    """The checked common options; exits with EXIT_USAGE naming what is missing."""
    token = args.token or ""
    if args.token_file is not None:
        try:
            token = args.token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            fail(t, "err.token_file", EXIT_USAGE, path=args.token_file,
                 reason=file_error_text(exc, t))
    if need_connection and not args.url:
        fail(t, "err.no_url", EXIT_USAGE)
    if need_connection and not token:
        fail(t, "err.no_token", EXIT_USAGE)
    if need_connection and urlsplit(args.url).scheme not in ("ws", "wss"):
        fail(t, "err.bad_url", EXIT_USAGE, url=args.url)
    tls = _tls(args, t) if need_connection else None
    return Common(url=args.url or "", token=token, state_dir=args.state_dir,
                  encoding=args.encoding, t=t, tls=tls)


def translator_for(argv: list[str]) -> Translator:
    return Translator(_language_argument(argv))

