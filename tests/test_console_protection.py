"""The console shows a masked or a reduced alert as such (protection.md "Masked",
"Reduced": the personal fields are "removed from every way out ... the console").

A real relay, real Chromium. Passenger alerts are published with every personal field,
then aged for real: the protection job runs against the relay's database as the relay's
own scheduler runs it, on the relay's key file, with the clock moved (200 days: masked;
then 1,900 days: reduced, one alert kept out by a hold). The feed (a replay), the history
and the opened alert, in English and in French, then say *Personal data masked on ...* /
*Reduced to its audit record on ...*, show the people without their names, draw a
reduced alert (no summary, priority or flight) without a gap or an "undefined", and
hold none of the names, numbers or the reduced content anywhere in the page. An alert
published afterwards still shows its people's names (so the search for them can fail);
one whose sealed fields cannot be opened says so. The audit view's check of an export
in the browser still finds the chain intact, and names a change as the relay does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from relay.contract.personal import AUDIT_FIELDS, PERSONAL_PATHS
from relay.store.chain_export import verify_export
from tests import protection_support
from tests.conftest import REGIONS_CONFIG, running_relay
from tests.console_support import chromium, new_page, passenger_alert, publish, sign_in
from tests.support import RelayProcess, create_unit

LOCALES = {"en": "en-GB", "fr": "fr-FR"}
OFFICER, PARTNER, AUDITOR = "ML-BKO-JAITF", "FR-CDG-OFAST", "EU-AUDIT-OFFICE"

# Every personal field of protection.md, with values found nowhere else.
MASKED_PERSON = {
    "role": "courier", "surname": "TRAOREMASQ", "given_names": "Aminatazen", "birth_date": "1990-04-17",
    "nationality": "ML", "document": {"type": "passport", "number": "PX7788990", "issuing_country": "ML"},
    "seat": "31F", "pnr_locator": "QX7RTY", "bag_tags": ["KL123456"],
}
REDUCED_PERSON = {
    "role": "passenger", "surname": "DIALLOREDUIT", "given_names": "Ousmanebab", "birth_date": "1985-11-02",
    "nationality": "SN", "document": {"type": "id_card", "number": "XR5544332", "issuing_country": "SN"},
    "seat": "12K", "pnr_locator": "ZZ9PLQ", "bag_tags": ["AT765432", "AT765433"],
}
WHOLE_PERSON = {"role": "courier", "surname": "KEITAENTIER", "given_names": "Salif",
                "document": {"type": "passport", "number": "WH1234567", "issuing_country": "ML"}}
UNREADABLE_PERSON = {"role": "courier", "surname": "SANGAREILLISIBLE", "given_names": "Fatoumatou",
                     "document": {"type": "passport", "number": "UN9988776", "issuing_country": "ML"}}


def personal_values(person: dict[str, Any]) -> list[str]:
    return [person["surname"], person["given_names"], person["birth_date"], person["document"]["number"],
            person["seat"], person["pnr_locator"], *person["bag_tags"]]


REDUCED_SUMMARY = "Reduced story: the courier boarded KQ0511 with pellets"
REDUCED_SEIZURE_SUMMARY = "Reduced story: 3 kg of khat under the seats"
# What must be nowhere in a page once the jobs ran: personal fields, and what reduction removed.
GONE = [*personal_values(MASKED_PERSON), *personal_values(REDUCED_PERSON), REDUCED_SUMMARY,
        REDUCED_SEIZURE_SUMMARY, "KQ0511", "SANGAREILLISIBLE", "Fatoumatou", "UN9988776"]


@dataclass(frozen=True)
class Story:
    tokens: dict[str, str]
    masked: dict[str, Any]  # acks of what was published: alert_id and seq
    masked_update: dict[str, Any]
    reduced: dict[str, Any]
    reduced_seizure: dict[str, Any]
    whole: dict[str, Any]
    unreadable: dict[str, Any]
    masked_on: date
    reduced_on: date


@pytest.fixture(scope="module")
async def relay(dsn: str, workdir: Path) -> AsyncIterator[RelayProcess]:
    async with running_relay(dsn, workdir, REGIONS_CONFIG) as process:
        yield process


@pytest.fixture(scope="module")
async def chrome() -> AsyncIterator[Browser]:
    async with chromium() as (_, launched):
        yield launched


async def age(relay: RelayProcess, *, days: int, hold: str | None = None) -> datetime:
    """The relay's jobs ``days`` from now (holding ``hold`` first); the moment they ran at."""
    return await protection_support.age(relay, datetime.now(UTC) + timedelta(days=days), hold=hold)


@pytest.fixture(scope="module")
async def story(relay: RelayProcess, dsn: str) -> Story:
    """A masked alert and its update (held, so never reduced), a reduced passenger alert
    (masked first), a reduced seizure (never masked: it has no personal field), an alert
    published afterwards, whole, and one whose data key is gone without a state (its
    sealed fields cannot be opened); every one addressed to the partner."""
    tokens = {}
    for unit_id, country, roles in [(OFFICER, "ML", "publish,subscribe"), (PARTNER, "FR", "subscribe"),
                                    (AUDITOR, "BE", "audit")]:
        _, tokens[unit_id] = await create_unit(dsn, unit_id, country=country, roles=roles)
    officer, to = tokens[OFFICER], [PARTNER]
    masked = await publish(relay, officer, passenger_alert("Courier expected on AT571", units=to,
                                                           subjects=[MASKED_PERSON]))
    masked_update = await publish(relay, officer, passenger_alert(
        "Courier expected on AT571: now travelling with a minor", units=to, subjects=[MASKED_PERSON],
        msg_type="update", references=masked["alert_id"]))
    reduced = await publish(relay, officer, passenger_alert(
        REDUCED_SUMMARY, units=to, priority="urgent", subjects=[REDUCED_PERSON],
        flight={"number": "KQ0511", "origin": "NBO", "destination": "CDG"}))
    reduced_seizure = await publish(relay, officer, {
        "kind": "seizure", "priority": "routine", "tlp": "green", "distribution": {"units": to},
        "sent_at": datetime.now(UTC).isoformat(timespec="seconds"), "summary": REDUCED_SEIZURE_SUMMARY,
        "seizures": [{"commodity": "other", "quantity": 3, "unit": "kg", "description": "khat"}],
        "location": "BKO", "occurred_at": datetime.now(UTC).isoformat(timespec="seconds")})
    masked_at = await age(relay, days=200)
    reduced_at = await age(relay, days=1900, hold=masked["alert_id"])
    whole = await publish(relay, officer, passenger_alert("Courier on AT571, published after the jobs",
                                                          units=to, subjects=[WHOLE_PERSON]))
    unreadable = await publish(relay, officer, passenger_alert("Courier on AT571, key lost", units=to,
                                                               subjects=[UNREADABLE_PERSON]))
    conn = await asyncpg.connect(dsn)
    try:
        assert "UPDATE 1" == await conn.execute(
            "UPDATE relay_events SET personal = set_byte(personal, 20, get_byte(personal, 20) # 1)"
                " WHERE alert_id = $1::uuid", unreadable["alert_id"])  # its sealed box altered
    finally:
        await conn.close()
    return Story(tokens, masked, masked_update, reduced, reduced_seizure, whole, unreadable,
                 masked_at.date(), reduced_at.date())


# The day as the console writes it (Intl, day numeric, month short, UTC); September is
# "Sep" or "Sept" depending on the browser's ICU.
MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept?", "Oct", "Nov", "Dec"],
    "fr": ["janv\\.", "févr\\.", "mars", "avr\\.", "mai", "juin", "juil\\.", "août", "sept\\.", "oct\\.",
           "nov\\.", "déc\\."],
}
NOTICES = {
    "en": {"masked": "Personal data masked on {day} (data-protection rules)",
           "reduced": "Reduced to its audit record on {day}", "name": "(masked)",
           "passenger": "Passenger alert", "seizure": "Seizure report", "courier": "Courier: (masked)",
           "surname": "Surname: (masked)", "unavailable": "Personal data unavailable: the relay could not open it",
           "unavailable_name": "Courier: (unavailable)"},
    "fr": {"masked": "Données personnelles masquées le {day} (règles de protection des données)",
           "reduced": "Réduite à sa trace d'audit le {day}", "name": "(masqué)",
           "passenger": "Alerte passager", "seizure": "Rapport de saisie", "courier": "Passeur : (masqué)",
           "surname": "Nom : (masqué)",
           "unavailable": "Données personnelles indisponibles : le relais n'a pas pu les ouvrir",
           "unavailable_name": "Passeur : (indisponible)"},
}


def notice(language: str, which: str, day: date) -> re.Pattern[str]:
    written = f"{day.day} {MONTHS[language][day.month - 1]} {day.year}"
    template = re.escape(NOTICES[language][which]).replace(re.escape("{day}"), "{day}")
    return re.compile(template.format(day=written))


async def assert_nothing_gone_is_in(page: Page) -> None:
    """No personal field of an aged alert and nothing reduction removed, in the page's
    HTML (text, attributes, hidden parts) or its text, and no "undefined" shown."""
    html, text = await page.content(), await page.locator("body").inner_text()
    assert [] == [value for value in GONE if value in html]
    assert "undefined" not in text.lower()
    assert "null" not in text.split()


async def serious_violations(axe: Axe, page: Page) -> list[str]:
    results = await axe.run(page, context={"exclude": [["#airport-list"], ["#quantity-units"]]})
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_the_feed_s_replay_shows_masked_and_reduced_alerts_as_such_without_a_personal_field(
        chrome, relay, story, language):
    context, page = await new_page(chrome, language=LOCALES[language])
    try:
        await sign_in(page, relay, story.tokens[PARTNER],
                      **({"token_label": "Jeton", "button": "Se connecter"} if language == "fr" else {}))
        cards = page.locator("#feed-list article.card")
        await expect(cards).to_have_count(5)
        words = NOTICES[language]

        masked = cards.and_(page.locator(f"[data-key='{story.masked['alert_id']}']"))
        await expect(masked.locator(".protection-notice")).to_have_text([notice(language, "masked", story.masked_on)])
        await expect(masked.locator(".summary")).to_have_text("Courier expected on AT571: now travelling with a minor")
        await expect(masked.locator(".facts")).to_contain_text(words["courier"])

        reduced = cards.and_(page.locator(f"[data-key='{story.reduced['alert_id']}']"))
        await expect(reduced.locator(".protection-notice")).to_have_text(
            [notice(language, "masked", story.masked_on), notice(language, "reduced", story.reduced_on)])
        await expect(reduced.locator(".card-title")).to_have_text(words["passenger"])
        await expect(reduced.locator(".summary")).to_have_count(0)
        await expect(reduced.get_by_role("button")).not_to_have_count(0)  # it can still be opened and answered

        seizure = cards.and_(page.locator(f"[data-key='{story.reduced_seizure['alert_id']}']"))
        await expect(seizure.locator(".protection-notice")).to_have_text([notice(language, "reduced", story.reduced_on)])
        await expect(seizure.locator(".card-title")).to_have_text(words["seizure"])

        whole = cards.and_(page.locator(f"[data-key='{story.whole['alert_id']}']"))
        await expect(whole.locator(".protection-notice")).to_have_count(0)
        await expect(whole.locator(".facts")).to_contain_text("KEITAENTIER Salif")

        unreadable = cards.and_(page.locator(f"[data-key='{story.unreadable['alert_id']}']"))
        await expect(unreadable.locator(".protection-notice")).to_have_text([words["unavailable"]])
        await expect(unreadable.locator(".facts")).to_contain_text(words["unavailable_name"])

        await assert_nothing_gone_is_in(page)
        assert [] == await serious_violations(Axe(), page)
        assert [] == page.console_errors
    finally:
        await context.close()


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_the_history_and_the_opened_alert_show_masked_and_reduced_alerts_as_such(
        chrome, relay, story, language):
    context, page = await new_page(chrome, language=LOCALES[language])
    words = NOTICES[language]
    try:
        await sign_in(page, relay, story.tokens[AUDITOR],
                      **({"token_label": "Jeton", "button": "Se connecter"} if language == "fr" else {}))
        await page.locator("#views-nav a[data-view=history]").click()
        rows = page.locator("#history-rows tr")
        await expect(rows).to_have_count(6)

        def row(ack: dict[str, Any]) -> Any:
            return page.locator(f"#history-rows tr:has(td#history-{ack['seq']})")

        masked_notice = notice(language, "masked", story.masked_on)
        reduced_notice = notice(language, "reduced", story.reduced_on)
        for ack in (story.masked, story.masked_update):
            await expect(row(ack).locator(".protection-notice")).to_have_text([masked_notice])
        await expect(row(story.reduced).locator(".protection-notice")).to_have_text([masked_notice, reduced_notice])
        await expect(row(story.reduced).locator(f"td#history-{story.reduced['seq']}")).to_have_text(words["passenger"])
        await expect(row(story.reduced_seizure).locator(".protection-notice")).to_have_text([reduced_notice])
        await expect(row(story.whole).locator(".protection-notice")).to_have_count(0)
        await expect(row(story.unreadable).locator(".protection-notice")).to_have_text([words["unavailable"]])
        await assert_nothing_gone_is_in(page)

        detail, body = page.locator("#detail"), page.locator("#detail-body")
        await row(story.reduced).get_by_role("button").click()
        await expect(page.locator("#detail-title")).to_have_text(words["passenger"])
        await expect(body.locator(".protection-notice")).to_have_text([masked_notice, reduced_notice])
        await expect(body.locator(".detail-facts")).to_contain_text(story.reduced["alert_id"])
        await expect(body.locator(".detail-facts")).to_contain_text(PARTNER)  # its distribution, kept
        await assert_nothing_gone_is_in(page)
        await page.locator("#detail-close").click()
        await expect(detail).to_be_hidden()

        await row(story.masked).get_by_role("button").click()
        await expect(body.locator(".detail-facts")).to_contain_text(words["surname"])
        await expect(body.locator(".detail-facts")).to_contain_text("Courier expected on AT571")
        await expect(body.locator(".protection-notice")).to_have_text([masked_notice, masked_notice])  # and its update's
        await assert_nothing_gone_is_in(page)
        await page.locator("#detail-close").click()

        await row(story.whole).get_by_role("button").click()
        await expect(body.locator(".detail-facts")).to_contain_text("KEITAENTIER")  # a whole alert, whole
        await expect(body.locator(".detail-facts")).to_contain_text("WH1234567")
        await expect(body.locator(".protection-notice")).to_have_count(0)
        assert [] == page.console_errors
    finally:
        await context.close()


async def test_the_officer_s_own_reduced_alert_offers_no_update_and_its_masked_one_opens_without_names(
        chrome, relay, story):
    """A reduced alert has nothing left to update or cancel; a masked one may still be
    updated, and the form it opens holds no name (the relay asks for them again)."""
    context, page = await new_page(chrome, language=LOCALES["en"])
    try:
        await sign_in(page, relay, story.tokens[OFFICER])
        cards = page.locator("#feed-list article.card")
        await expect(cards).to_have_count(5)
        reduced = cards.and_(page.locator(f"[data-key='{story.reduced['alert_id']}']"))
        await expect(reduced.get_by_role("button", name="Update", exact=True)).to_have_count(0)
        await expect(reduced.get_by_role("button", name="Cancel the alert", exact=True)).to_have_count(0)

        await page.locator("#views-nav a[data-view=new-alert]").click()
        mine = page.locator("#my-alerts li")
        await expect(mine).to_have_count(5)  # the originals, not the update
        reduced_mine = mine.filter(has=page.locator(f"[id='mine-{story.reduced['alert_id']}']"))
        await expect(reduced_mine).to_contain_text("(no summary)")
        await expect(reduced_mine.locator(".protection-notice")).to_contain_text(
            notice("en", "reduced", story.reduced_on))
        await expect(reduced_mine.get_by_role("button")).to_have_count(0)
        masked_mine = mine.filter(has=page.locator(f"[id='mine-{story.masked['alert_id']}']"))
        await expect(masked_mine.locator(".protection-notice")).to_have_text(
            notice("en", "masked", story.masked_on))
        await masked_mine.get_by_role("button", name="Update", exact=True).click()
        await expect(page.locator("#f-summary")).to_have_value(  # its latest version
            "Courier expected on AT571: now travelling with a minor")
        await expect(page.locator("#alert-form input[data-field=surname]").first).to_have_value("")
        await assert_nothing_gone_is_in(page)
        assert [] == page.console_errors
    finally:
        await context.close()


async def test_the_chain_check_in_the_browser_agrees_with_the_relay_s_on_an_export_of_masked_and_reduced_alerts(
        chrome, relay, story):
    """The audit view checks an export in the browser (docs/console.md "History and audit"):
    after masking and reduction the chain is still intact there, as `relay audit verify
    --export` says, and a change to a masked or a reduced alert is named alike."""
    context, page = await new_page(chrome)
    try:
        await page.goto(relay.http + "/")
        text = await page.evaluate("""async (token) => {
            const r = await fetch('/v1/audit/export?format=ndjson', {headers: {Authorization: 'Bearer ' + token}});
            return r.text();
        }""", story.tokens[AUDITOR])
        lines = text.strip().split("\n")
        by_seq = {orjson.loads(line)["seq"]: index for index, line in enumerate(lines)}

        def changed(ack: dict[str, Any], change: Any) -> list[str]:
            index = by_seq[ack["seq"]]
            line = orjson.loads(lines[index])
            change(line)
            return [*lines[:index], orjson.dumps(line).decode(), *lines[index + 1:]]

        def shown_only(line: dict[str, Any]) -> None:  # what a reader sees differs from what was hashed
            line["alert"]["subjects"][0]["nationality"] = "FR"

        def summary_rewritten(line: dict[str, Any]) -> None:  # both, consistently: the digest no longer holds
            body = orjson.loads(line["body"])
            body["summary"] = line["alert"]["summary"] = "Nothing to see here"
            line["body"] = orjson.dumps(body).decode()

        def tlp_rewritten(line: dict[str, Any]) -> None:  # what reduction kept, in both
            body = orjson.loads(line["body"])
            body["tlp"] = line["alert"]["tlp"] = "clear"
            line["body"] = orjson.dumps(body).decode()

        cases = {"whole": lines, "masked_shown": changed(story.masked, shown_only),
                 "masked_content": changed(story.masked, summary_rewritten),
                 "reduced_kept": changed(story.reduced, tlp_rewritten)}
        verdicts = await page.evaluate("""async (cases) => {
            const {verifyExport} = await import('/console/static/js/chain.js');
            const out = {};
            for (const [name, lines] of Object.entries(cases)) {
              const report = await verifyExport(lines.join('\\n'));
              out[name] = [report.verified, report.problem && [report.problem.seq, report.problem.code],
                           report.events, report.lastHash];
            }
            return out;
        }""", cases)
        relay_says = {}
        for name, case in cases.items():
            report = verify_export(line.encode() for line in case)
            problem = report.problem and [report.problem.seq, report.problem.code]
            relay_says[name] = [report.problem is None, problem, report.events, report.last_hash]
        assert [True, None] == relay_says["whole"][:2]
        assert [story.masked["seq"], "member_differs"] == relay_says["masked_shown"][1]
        assert [story.masked["seq"], "hash_mismatch"] == relay_says["masked_content"][1]
        assert [story.reduced["seq"], "hash_mismatch"] == relay_says["reduced_kept"][1]
        assert relay_says["whole"] == verdicts["whole"]
        assert {name: said[:2] for name, said in relay_says.items()} == {
            name: verdict[:2] for name, verdict in verdicts.items()}
        lists = await page.evaluate("""async () => {
            const {PERSONAL_PATHS, AUDIT_FIELDS} = await import('/console/static/js/chain.js');
            return [PERSONAL_PATHS, AUDIT_FIELDS];
        }""")
        assert [list(PERSONAL_PATHS), list(AUDIT_FIELDS)] == lists  # the contract's own lists
        assert [] == page.console_errors
    finally:
        await context.close()


async def test_the_browser_s_canonical_json_is_orjson_s_byte_for_byte(chrome, relay):
    """What a sealed alert's hash covers is orjson's canonical JSON of its stored body: the
    browser writes numbers as they were written and sorts keys by code point, as orjson
    does (JavaScript alone would write 12500.0 as 12500, lose 2**53 + 1, and sort by UTF-16
    unit). Its numbers are written as orjson writes them in a stored body."""
    text = ('{"b":[1.0,2,1e+16,-0.0,12500.0,3.14,-7e-8,9007199254740993],"a":"\\u001f\\"\\\\é😀\\u2028/",'
            '"😀":1,"\\uffff":{"z":null,"y":true,"x":false,"w":[]},"":{}}')
    context, page = await new_page(chrome)
    try:
        await page.goto(relay.http + "/")
        written = await page.evaluate("""async (text) => {
            const {canonicalJson, parseExact} = await import('/console/static/js/chain.js');
            return canonicalJson(parseExact(text));
        }""", text)
        assert orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS).decode() == written
    finally:
        await context.close()
