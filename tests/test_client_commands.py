"""relay-post and relay-feed as officers use them day to day (issue 10): French from the
problem codes, options before or after the subcommand, answering an alert by the short
form the feed shows, the same file posted twice, entries tied to their unit, status and
version, updates and cancels, examples that reach the README's units. Subprocesses
against a real relay, over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
from collections.abc import AsyncIterator
from importlib.metadata import version
from pathlib import Path

import asyncpg
import pytest

from clients.outbox import Outbox
from clients.shown import ShownAlerts
from relay.store.admin import issue_token, list_tokens, revoke_token
from tests.alert_examples import passenger_alert, seizure_alert
from tests.support import ROOT, SETUP, create_unit, unique_unit
from tests.test_clients_e2e import (
    RELAY_FEED,
    RELAY_POST,
    WAIT,
    acknowledged,
    alert_file,
    cli_env,
    closed_url,
    head_of,
    marked,
    outbox_states,
    publish_all,
    replay,
    run,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

CONFIG = ROOT / "config"


@pytest.fixture(scope="module")
async def units(dsn: str) -> dict[str, tuple[str, str]]:
    """The three units the README's quick start creates."""
    return {
        "bko": await create_unit(dsn, "ML-BKO-JAITF", country="ML", airport="BKO"),
        "cmn": await create_unit(dsn, "MA-CMN-BNPJ", country="MA", airport="CMN"),
        "cdg": await create_unit(dsn, "FR-CDG-OFAST", country="FR", airport="CDG"),
    }


def french(env: dict[str, str]) -> dict[str, str]:
    """The same shell in a French locale, as a terminal in Dakar or Bamako is set up."""
    return {**env, "LC_ALL": "fr_SN.UTF-8"}


@contextlib.asynccontextmanager
async def text_feed(*args: str, env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    """relay-feed printing its readable lines, stopped at the end."""
    process = await asyncio.create_subprocess_exec(
        *RELAY_FEED, *args, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()


async def line_with(process: asyncio.subprocess.Process, text: str) -> str:
    """The first line of the feed's output that holds ``text``."""
    assert process.stdout is not None
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), WAIT)).decode()
        assert line, "relay-feed ended before printing the line"
        if text in line:
            return line.rstrip("\n")


# -- item 4: French stops halfway -----------------------------------------------------------


async def test_a_refusal_of_the_relay_reads_in_french_from_its_codes(relay, units, tmp_path):
    """An unknown unit is found by the relay, not the terminal: in a French locale its
    refusal and the problem read in French, with the contract's field path."""
    alert = passenger_alert(distribution={"units": ["MA-CMN-BNPX"]})
    result = await run(RELAY_POST, str(alert_file(tmp_path, alert)),
                       env=french(cli_env(relay.url, units["bko"][1], tmp_path / "state")))
    assert 1 == result.status, result.stderr
    assert [
        "n° 1 refusée par le relais : invalid_alert : l'alerte ne respecte pas les règles du "
        "modèle d'alerte",
        "  distribution.units[0] : unité inconnue 'MA-CMN-BNPX'",
        "corrigez l'alerte et publiez-la à nouveau ; le n° 1 reste dans la file comme refusée",
    ] == result.stderr.splitlines()[1:]


async def test_a_refused_receipt_and_a_local_problem_read_in_french_with_lang_fr(relay, dsn, units,
                                                                                 tmp_path):
    """forbidden (the alert was not distributed to the unit) and a bad tlp caught on the
    terminal: French sentences, no English left."""
    _, outsider = await create_unit(dsn, unique_unit("GH"), country="GH")
    [published] = await publish_all(relay, units["bko"][1], [passenger_alert()])
    receipt = await run(RELAY_FEED, "--lang", "fr", "receipt", published.alert_id, "positive",
                        env=cli_env(relay.url, outsider, tmp_path / "state"))
    path = alert_file(tmp_path, passenger_alert(tlp="orange"))
    local = await run(RELAY_POST, "--lang", "fr", str(path),
                      env=cli_env(relay.url, units["bko"][1], tmp_path / "state"))
    assert (1, "le relais a refusé l'accusé : forbidden : cette unité n'a pas le droit de le "
               "faire (il lui manque un rôle, ou l'alerte n'est pas la sienne ou ne lui a pas "
               "été distribuée)\n") == (receipt.status, receipt.stderr)
    assert 2 == local.status
    assert ("tlp : doit être l'une des valeurs red, amber+strict, amber, green, clear"
            in local.stderr), local.stderr


async def test_the_help_of_both_commands_is_french_down_to_argparses_own_words(tmp_path):
    """usage, the headings, -h and a usage error: no English word of argparse left."""
    env = french(cli_env(closed_url(), "relay_" + "x" * 43, tmp_path))
    post, feed = await run(RELAY_POST, "--help", env=env), await run(RELAY_FEED, "--help", env=env)
    wrong = await run(RELAY_FEED, "receipt", "684fa456", "positif", env=env)
    for result in (post, feed):
        assert (0, True, True, True) == (
            result.status, result.stdout.startswith("utilisation : "),
            "options :\n  -h, --help            afficher cette aide et quitter" in result.stdout,
            "arguments positionnels :" in result.stdout), result.stdout
    assert 2 == wrong.status
    assert wrong.stderr.splitlines()[-1].startswith(
        "relay-feed receipt : erreur : argument STATUT : choix invalide : 'positif' "
        "(choisissez parmi "), wrong.stderr


# -- item 5: common options before or after the subcommand ----------------------------------


async def test_common_options_work_before_and_after_the_receipt_subcommand(relay, units, tmp_path):
    """`relay-feed --lang fr --url URL receipt ...` and `relay-feed receipt ... --url URL
    --lang fr`; the receipt's status reads in French ("positif")."""
    [published] = await publish_all(relay, units["bko"][1], [passenger_alert()])
    env = cli_env(relay.url, units["cdg"][1], tmp_path / "state")
    del env["RELAY_URL"]
    before = await run(RELAY_FEED, "--lang", "fr", "--url", relay.url, "receipt",
                       published.alert_id, "positive", env=env)
    after = await run(RELAY_FEED, "receipt", published.alert_id, "negative", "--url", relay.url,
                      "--lang", "fr", env=env)
    assert (0, 0) == (before.status, after.status), before.stderr + after.stderr
    assert before.stdout.startswith("accusé positif enregistré : seq "), before.stdout
    assert after.stdout.startswith("accusé négatif enregistré : seq "), after.stdout


# -- item 2: answering from the feed ----------------------------------------------------------


async def test_a_receipt_names_the_alert_by_the_short_form_or_the_seq_its_feed_line_showed(
        relay, units, tmp_path):
    """The feed line ends with the short form and #seq; relay-feed receipt takes either,
    from the same state directory; a short form it never showed is refused, saying so."""
    env = cli_env(relay.url, units["cdg"][1], tmp_path / "state")
    head = await head_of(relay, units["cdg"][1])
    async with text_feed("--since", str(head), env=env) as feed:
        [published] = await publish_all(relay, units["bko"][1], [marked(passenger_alert())])
        line = await line_with(feed, f"#{published.seq}")
    short = published.alert_id[-8:]
    assert line.endswith(f" · ML-BKO-JAITF · {short} · #{published.seq}"), line
    by_short = await run(RELAY_FEED, "receipt", short, "in_progress", env=env)
    by_seq = await run(RELAY_FEED, "receipt", f"#{published.seq}", "positive", env=env)
    unknown = await run(RELAY_FEED, "receipt", "deadbeef", "positive", env=env)
    unknown_fr = await run(RELAY_FEED, "--lang", "fr", "receipt", "#999999", "positive", env=env)
    assert (0, 0) == (by_short.status, by_seq.status), by_short.stderr + by_seq.stderr
    assert [f"for alert {published.alert_id}"] * 2 == [
        result.stdout.strip()[-len(f"for alert {published.alert_id}"):] for result in (by_short, by_seq)]
    assert (2, f"the feed of {tmp_path / 'state'} has shown no alert deadbeef") == (
        unknown.status, unknown.stderr.split(";")[0])
    assert (2, f"le flux de {tmp_path / 'state'} n'a affiché aucune alerte #999999") == (
        unknown_fr.status, unknown_fr.stderr.split(" ;")[0])
    receipts = [event["receipt"]["status"] for event in await replay(relay, units["bko"][1], head)
                if event["type"] == "receipt"]
    assert ["in_progress", "positive"] == receipts


async def test_an_ending_several_shown_alerts_share_is_refused_listing_them_in_both_languages(
        tmp_path):
    """Two alerts the feed showed end in b1a198: the receipt is refused (exit 2, nothing
    sent) with the seq, short form and origin of each, so the officer can give #SEQ."""
    state = tmp_path / "state"
    with ShownAlerts(state / "feed-shown.sqlite3") as shown:
        for seq, alert_id in ((10, "01a23155-61b5-70ed-be3b-3872abb1a198"),
                              (12, "01a23156-0000-7000-8000-0000ffb1a198")):
            shown.record(seq, {**passenger_alert(), "alert_id": alert_id,
                               "origin_unit": "ML-BKO-JAITF"}, own_unit="FR-CDG-OFAST")
    env = cli_env(closed_url(), "relay_" + "x" * 43, state)
    english = await run(RELAY_FEED, "receipt", "b1a198", "positive", env=env)
    in_french = await run(RELAY_FEED, "receipt", "b1a198", "positive", "--lang", "fr", env=env)
    assert (2, "b1a198 ends several alerts the feed showed: #12 (ffb1a198, from ML-BKO-JAITF), "
               "#10 (abb1a198, from ML-BKO-JAITF); give #SEQ or more characters\n") == (
        english.status, english.stderr)
    assert (2, "b1a198 termine plusieurs alertes affichées par le flux : #12 (ffb1a198, de "
               "ML-BKO-JAITF), #10 (abb1a198, de ML-BKO-JAITF) ; donnez #SEQ ou plus de "
               "caractères\n") == (in_french.status, in_french.stderr)


# -- item 3: posting the same file again ---------------------------------------------------------


async def test_the_same_alert_is_not_queued_twice_unless_again_is_given(relay, units, tmp_path):
    """Offline, the same file again names the queued entry; once acknowledged, the same
    content (here rewritten in another key order) names the ack; --again posts it anyway."""
    state = tmp_path / "state"
    alert = marked(passenger_alert())
    path = alert_file(tmp_path, alert)
    offline = cli_env(closed_url(), units["bko"][1], state)
    online = cli_env(relay.url, units["bko"][1], state)
    first = await run(RELAY_POST, str(path), "--wait", "0.5", env=offline)
    queued_again = await run(RELAY_POST, str(path), "--wait", "0.5", env=offline)
    flushed = await run(RELAY_POST, "--flush", env=online)
    reordered = alert_file(tmp_path, dict(reversed(list(alert.items()))), "reordered.json")
    sent_again = await run(RELAY_POST, str(reordered), env=online)
    forced = await run(RELAY_POST, str(path), "--again", env=online)
    seq, alert_id = acknowledged(flushed.stdout)
    assert (4, 2, 0, 2, 0) == (first.status, queued_again.status, flushed.status,
                               sent_again.status, forced.status), forced.stderr
    assert queued_again.stderr.startswith(
        "this alert is identical to #1, already queued (queued); nothing was queued."), queued_again.stderr
    assert sent_again.stderr.startswith(
        f"this alert is identical to #1, already sent: ack seq {seq}, alert_id {alert_id}; "
        f"nothing was queued. To change it, use --update {alert_id[-8:]}"), sent_again.stderr
    assert ["acknowledged", "acknowledged"] == outbox_states(state)
    copies = [event for event in await replay(relay, units["cdg"][1], seq - 1)
              if event["type"] == "alert" and event["alert"]["summary"] == alert["summary"]]
    assert 2 == len(copies)


# -- item 11: outbox entries tied to their unit ---------------------------------------------------


async def test_an_entry_is_sent_only_under_a_token_of_the_unit_that_queued_it(relay, dsn, units,
                                                                              tmp_path):
    """Queued offline by BKO's token: a flush with CDG's token does not send it (and says
    whose it is); BKO's token does. After BKO's token is revoked, an entry it queued is
    sent with the unit's new token."""
    state = tmp_path / "state"
    unit_id, token = await create_unit(dsn, unique_unit("ML"), country="ML")
    conn = await asyncpg.connect(dsn)
    try:
        second = (await issue_token(conn, SETUP, unit_id)).token
    finally:
        await conn.close()
    offline = await run(RELAY_POST, str(alert_file(tmp_path, marked(passenger_alert()))),
                        "--wait", "0.5", env=cli_env(closed_url(), token, state))
    other_unit = await run(RELAY_POST, "--flush", env=cli_env(relay.url, units["cdg"][1], state))
    assert (4, 0, "nothing to send\n") == (offline.status, other_unit.status, other_unit.stdout)
    assert "#1 is not sent under this token: it was queued with another token" in other_unit.stderr
    assert ["queued"] == outbox_states(state)
    own = await run(RELAY_POST, "--flush", env=cli_env(relay.url, token, state))
    assert 0 == own.status, own.stderr
    # The unit is now known for this token; its next entry outlives the token's revocation.
    later = await run(RELAY_POST, str(alert_file(tmp_path, marked(passenger_alert()), "b.json")),
                      "--wait", "0.5", env=cli_env(closed_url(), token, state))
    conn = await asyncpg.connect(dsn)
    try:
        first_token = next(info for info in await list_tokens(conn, unit_id)
                           if info.revoked_at is None)
        await revoke_token(conn, SETUP, first_token.token_id)
    finally:
        await conn.close()
    with_new_token = await run(RELAY_POST, "--flush", env=cli_env(relay.url, second, state))
    status = await run(RELAY_POST, "--status", env=cli_env(relay.url, second, state))
    assert (4, 0) == (later.status, with_new_token.status), with_new_token.stderr
    assert ["acknowledged", "acknowledged"] == outbox_states(state)
    assert 2 == status.stdout.count(f" {unit_id} "), status.stdout


# -- item 15: status and version ------------------------------------------------------------------


async def test_the_status_says_what_happened_to_an_entry_after_a_failed_try(units, tmp_path):
    """Not "queued, 0 attempts": one attempt, when, and why, in either language."""
    state = tmp_path / "state"
    url = closed_url()
    env = cli_env(url, units["bko"][1], state)
    await run(RELAY_POST, str(alert_file(tmp_path, seizure_alert())), "--wait", "0.5", env=env)
    status = await run(RELAY_POST, "--status", env=env)
    status_fr = await run(RELAY_POST, "--status", "--lang", "fr", env=env)
    row = re.compile(r"^1 +queued +1 +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z +\? +- +"
                     + re.escape(f"cannot connect to {url}: connection refused") + "$", re.MULTILINE)
    row_fr = re.compile(r"^1 +en file +1 +\S+Z +\? +- +"
                        + re.escape(f"connexion impossible à {url} : connexion refusée") + "$",
                        re.MULTILINE)
    assert row.search(status.stdout), status.stdout
    assert row_fr.search(status_fr.stdout), status_fr.stdout


async def test_both_commands_print_the_package_version(tmp_path):
    env = cli_env(closed_url(), "", tmp_path)
    post, feed = await run(RELAY_POST, "--version", env=env), await run(RELAY_FEED, "--version", env=env)
    assert ((0, f"relay-post {version('relay')}\n"), (0, f"relay-feed {version('relay')}\n")) == (
        (post.status, post.stdout), (feed.status, feed.stdout))


# -- item 14: updates and cancels -------------------------------------------------------------------


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def test_an_update_and_a_cancel_are_built_from_the_alert_they_refer_to(relay, units, tmp_path):
    """--update '#1' with a file of the changed field, then --cancel by the short form
    with a reason: the relay accepts both; each repeats the original's distribution and
    content and references its alert_id."""
    state = tmp_path / "state"
    env = cli_env(relay.url, units["bko"][1], state)
    original = marked(passenger_alert())
    posted = await run(RELAY_POST, str(alert_file(tmp_path, original)), env=env)
    seq, alert_id = acknowledged(posted.stdout)
    changes = write_toml(tmp_path / "changes.toml", 'summary = "Courier moved to seat 31A."\n')
    updated = await run(RELAY_POST, "--update", "#1", str(changes), env=env)
    cancelled = await run(RELAY_POST, "--cancel", alert_id[-8:], "--reason",
                          "the courier did not board", env=env)
    assert (0, 0, 0) == (posted.status, updated.status, cancelled.status), (
        updated.stderr + cancelled.stderr)
    events = [event["alert"] for event in await replay(relay, units["cdg"][1], seq)
              if event["type"] == "alert" and event["alert"].get("references") == alert_id]
    assert [("update", "Courier moved to seat 31A."), ("cancel", "the courier did not board")] == [
        (event["msg_type"], event["summary"]) for event in events]
    for event in events:
        assert (original["distribution"], original["flight"], original["subjects"]) == (
            event["distribution"], event["flight"], event["subjects"])


async def test_a_cancel_from_another_terminal_of_the_unit_uses_what_its_feed_showed(
        relay, units, tmp_path):
    """The alert was posted elsewhere; this terminal's feed showed it (its own unit's),
    so it can cancel it by the short form; an alert it never saw is refused, saying why."""
    [published] = await publish_all(relay, units["bko"][1], [marked(passenger_alert())])
    env = cli_env(relay.url, units["bko"][1], tmp_path / "other")
    async with text_feed("--since", str(published.seq - 1), env=env) as feed:
        await line_with(feed, f"#{published.seq}")
    cancelled = await run(RELAY_POST, "--cancel", published.alert_id[-8:], env=env)
    unseen = await run(RELAY_POST, "--cancel", "0192a3b4-c5d6-7e8f-9012-345678901234", env=env)
    assert 0 == cancelled.status, cancelled.stderr
    [cancel] = [event["alert"] for event in await replay(relay, units["cdg"][1], published.seq)
                if event["type"] == "alert" and event["alert"].get("references") == published.alert_id]
    assert ("cancel", True) == (cancel["msg_type"], cancel["summary"].startswith("Cancelled: "))
    assert (2, True) == (unseen.status, unseen.stderr.startswith(
        "alert 0192a3b4-c5d6-7e8f-9012-345678901234 was neither posted from this outbox nor "
        "shown by this terminal's feed")), unseen.stderr


# -- item 10: the examples, expired alerts, distributions that reach nobody ----------------------


@pytest.mark.parametrize("name", ["example-alert.toml", "example-alert.json"])
async def test_the_example_files_reach_the_readmes_units_today_without_a_warning(
        relay, units, tmp_path, name):
    """Posted as the README says, by ML-BKO-JAITF: accepted, not expired, received by
    FR-CDG-OFAST; nothing to warn about."""
    head = await head_of(relay, units["cdg"][1])
    result = await run(RELAY_POST, str(CONFIG / name), "--again",
                       env=cli_env(relay.url, units["bko"][1], tmp_path / "state"))
    assert 0 == result.status, result.stderr
    assert "warning" not in result.stderr, result.stderr
    _, alert_id = acknowledged(result.stdout)
    [event] = [event for event in await replay(relay, units["cdg"][1], head)
               if event["type"] == "alert" and event["alert"]["alert_id"] == alert_id]
    with Outbox(tmp_path / "state" / "outbox.sqlite3") as outbox:
        [queued] = outbox.entries()
    # The relative times were filled in once, when queued: what was sent is what is kept.
    assert (queued.alert["sent_at"], queued.alert["flight"]["date"]) == (
        event["alert"]["sent_at"], event["alert"]["flight"]["date"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", event["alert"]["flight"]["date"])


async def test_an_expired_alert_is_marked_in_the_feed_and_warned_of_when_posted(relay, units,
                                                                                tmp_path):
    """expires_at an hour ago: relay-post warns (and posts: the relay accepts it), and the
    French feed marks it EXPIRÉE; a country-only distribution is warned of too."""
    env = cli_env(relay.url, units["cdg"][1], tmp_path / "feed")
    head = await head_of(relay, units["cdg"][1])
    alert = marked(seizure_alert(distribution={"countries": ["FR"]}, sent_at="now-3h",
                                 occurred_at="now-3h", expires_at="now-1h"))
    async with text_feed("--lang", "fr", "--since", str(head), env=env) as feed:
        posted = await run(RELAY_POST, str(alert_file(tmp_path, alert)),
                           env=cli_env(relay.url, units["bko"][1], tmp_path / "post"))
        _, alert_id = acknowledged(posted.stdout)
        line = await line_with(feed, alert_id[-8:])
    assert 0 == posted.status, posted.stderr
    assert "warning: this alert expired at " in posted.stderr
    assert "warning: the distribution names no unit" in posted.stderr
    assert line.startswith("[EXPIRÉE] URGENT SAISIE à LFW · cocaïne 2.4 kg"), line

