"""``relay``: read the arguments and the configuration, run one command, say what happened.

Exit status: 0 done; 1 refused (the message says why), chain broken, database
unreachable; 2 bad usage or configuration (the message names the key).
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from relay.cli import messages  # noqa: F401 - registers the command's sentences
from relay.cli.commands import run_command
from relay.cli.parser import build_parser
from relay.cli.protection_commands import run_keys, run_protection
from relay.cli.say import Say
from relay.config import Config, ConfigError, load_config
from relay.contract.errors import RelayError
from relay.contract.i18n import Translator, argparse_speaks, language_from_locale
from relay.logs import configure_logging
from relay.store.embedded import EmbeddedPostgresError

__all__ = ["main", "relay_version"]


def relay_version() -> str:
    try:
        return version("relay")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _language(argv: Sequence[str]) -> Translator:
    """--lang is needed before the parser exists, to write its help in that language."""
    for index, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--lang=") else (
            argv[index + 1] if arg == "--lang" and index + 1 < len(argv) else None)
        if value in ("en", "fr"):
            return Translator(value)  # type: ignore[arg-type]
    return Translator(language_from_locale())


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    t = _language(arguments)
    with argparse_speaks(t):  # "usage:", "options", its errors: in the chosen language
        args = build_parser(t, relay_version()).parse_args(arguments)
    say = Say(Translator(args.lang))
    try:
        config_path = args.config or (Path(os.environ["RELAY_CONFIG"])
                                      if os.environ.get("RELAY_CONFIG") else None)
        config = load_config(config_path, data_dir=args.data_dir)
    except ConfigError as exc:
        say.error("relay.config_error", error=str(exc))
        return 2
    if args.command == "serve":
        configure_logging(level=config.log.level, fmt=config.log.format)
    else:  # a one-shot command prints its answer; its log says only what went wrong
        configure_logging(level="warning", fmt=config.log.format)
    try:
        if args.command == "serve":
            return asyncio.run(_serve(config, say))
        if args.command == "keys":
            return asyncio.run(run_keys(args, config, say))
        if args.command == "protection":
            return asyncio.run(run_protection(args, config, say))
        return asyncio.run(run_command(args, config, config_path, say))
    except ConfigError as exc:  # found on opening: the protection key file (docs/protection.md)
        say.error("relay.config_error", error=str(exc))
        return 2
    except RelayError as exc:
        say.refusal(exc)
        return 1
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            say.error("relay.cannot_listen", error=str(exc))
        else:
            say.error("relay.no_database", error=str(exc))
        return 1
    except EmbeddedPostgresError as exc:
        say.error("relay.no_embedded", error=str(exc))
        return 1


async def _serve(config: Config, say: Say) -> int:
    from relay.app import BackgroundTaskDied, run_relay
    from relay.lifecycle import ShutdownIncomplete

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await run_relay(config, stop)
    except ConfigError as exc:  # found at start against the database (a changed relay id)
        say.error("relay.config_error", error=str(exc))
        return 2
    except BackgroundTaskDied as exc:
        say.error("relay.stopped_by_failure", error=str(exc))
        return 1
    except ShutdownIncomplete as incomplete:
        say.error("relay.stopped_incomplete", error=str(incomplete))
        return 1
    return 0
