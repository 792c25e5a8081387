"""The ``relay`` command's arguments, with their help in the chosen language.

The options every command takes (``--config``, ``--data-dir``, ``--lang``) are accepted
before the command and after it: ``relay --lang fr units list`` and ``relay units list
--lang fr`` are the same.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from relay.contract.i18n import LANGUAGES, Translator

__all__ = ["build_parser"]


def _common(t: Translator, *, top: bool) -> argparse.ArgumentParser:
    """The shared options; below the top level they leave unset values alone."""
    default = None if top else argparse.SUPPRESS
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=default, help=t("relay.opt.config"))
    common.add_argument("--data-dir", type=Path, default=default, help=t("relay.opt.data_dir"))
    common.add_argument("--lang", choices=LANGUAGES, default=t.language if top else argparse.SUPPRESS,
                        help=t("relay.opt.lang"))
    return common


def build_parser(t: Translator, version: str) -> argparse.ArgumentParser:
    common = _common(t, top=False)
    parser = argparse.ArgumentParser(prog="relay", description=t("relay.description"),
                                     parents=[_common(t, top=True)])
    parser.add_argument("--version", action="version", version=f"relay {version}",
                        help=t("relay.opt.version"))
    commands = parser.add_subparsers(dest="command", required=True)

    def command(group: argparse._SubParsersAction, name: str, key: str) -> argparse.ArgumentParser:  # type: ignore[type-arg]
        return group.add_parser(name, parents=[common], help=t(key), description=t(key))  # type: ignore[no-any-return]

    command(commands, "serve", "relay.cmd.serve")
    command(commands, "migrate", "relay.cmd.migrate")
    command(commands, "check-config", "relay.cmd.check_config")

    units = commands.add_parser("units", parents=[common], help=t("relay.cmd.units")).add_subparsers(
        dest="units_command", required=True)
    add = command(units, "add", "relay.cmd.units_add")
    add.add_argument("unit_id", help=t("relay.arg.unit_id"))
    add.add_argument("--country", required=True, help=t("relay.arg.country"))
    add.add_argument("--airport", default=None, help=t("relay.arg.airport"))
    add.add_argument("--name", default="", help=t("relay.arg.name"))
    add.add_argument("--roles", required=True, help=t("relay.arg.roles"))
    add.add_argument("--label", default="", help=t("relay.arg.label"))
    command(units, "list", "relay.cmd.units_list")
    change = command(units, "set", "relay.cmd.units_set")
    change.add_argument("unit_id", help=t("relay.arg.unit_id"))
    change.add_argument("--roles", default=None, help=t("relay.arg.roles"))
    change.add_argument("--name", default=None, help=t("relay.arg.name"))
    change.add_argument("--airport", default=None, help=t("relay.arg.airport"))
    for name, key in (("revoke", "relay.cmd.units_revoke"), ("reinstate", "relay.cmd.units_reinstate")):
        command(units, name, key).add_argument("unit_id", help=t("relay.arg.unit_id"))
    command(units, "import", "relay.cmd.units_import").add_argument(
        "file", type=Path, help=t("relay.arg.csv"))

    tokens = commands.add_parser("tokens", parents=[common], help=t("relay.cmd.tokens")).add_subparsers(
        dest="tokens_command", required=True)
    issue = command(tokens, "issue", "relay.cmd.tokens_issue")
    issue.add_argument("unit_id", help=t("relay.arg.unit_id"))
    issue.add_argument("--label", default="", help=t("relay.arg.label"))
    issue.add_argument("--expires-in", type=int, default=None, metavar="DAYS",
                       help=t("relay.arg.expires_in"))
    command(tokens, "list", "relay.cmd.tokens_list").add_argument(
        "unit_id", nargs="?", default=None, help=t("relay.arg.unit_id"))
    command(tokens, "revoke", "relay.cmd.tokens_revoke").add_argument(
        "token_id", help=t("relay.arg.token_id"))

    peers = commands.add_parser("peers", parents=[common], help=t("relay.cmd.peers")).add_subparsers(
        dest="peers_command", required=True)
    grant = command(peers, "add", "relay.cmd.peers_add")
    grant.add_argument("peer_id", help=t("relay.arg.peer_id"))
    grant.add_argument("--countries", required=True, help=t("relay.arg.peer_countries"))
    command(peers, "list", "relay.cmd.peers_list")
    command(peers, "revoke", "relay.cmd.peers_revoke").add_argument("peer_id", help=t("relay.arg.peer_id"))

    audit = commands.add_parser("audit", parents=[common], help=t("relay.cmd.audit")).add_subparsers(
        dest="audit_command", required=True)
    verify = command(audit, "verify", "relay.cmd.audit_verify")
    verify.add_argument("--export", type=Path, default=None, metavar="FILE.ndjson",
                        help=t("relay.arg.export"))
    verify.add_argument("--filtered", action="store_true", help=t("relay.arg.filtered"))

    # protection.md: the operator's keys, the jobs on demand, holds
    keys = commands.add_parser("keys", parents=[common], help=t("relay.cmd.keys")).add_subparsers(
        dest="keys_command", required=True)
    command(keys, "list", "relay.cmd.keys_list")
    command(keys, "rotate", "relay.cmd.keys_rotate")
    command(keys, "retire", "relay.cmd.keys_retire").add_argument("key_id", help=t("relay.arg.key_id"))

    guard = commands.add_parser("protection", parents=[common],
                                help=t("relay.cmd.protection")).add_subparsers(
        dest="protection_command", required=True)
    command(guard, "run", "relay.cmd.protection_run").add_argument(
        "--now", default=None, metavar="DATE", help=t("relay.arg.now"))
    hold = command(guard, "hold", "relay.cmd.protection_hold")
    hold.add_argument("alert_id", help=t("relay.arg.alert_id"))
    hold.add_argument("--reason", required=True, help=t("relay.arg.reason"))
    hold.add_argument("--until", required=True, metavar="DATE", help=t("relay.arg.until"))
    command(guard, "holds", "relay.cmd.protection_holds").add_argument(
        "--alert", default=None, metavar="ALERT_ID", help=t("relay.arg.alert_filter"))
    return parser
