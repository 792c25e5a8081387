"""The console of a federated relay, in a real Chromium: an alert from a peer relay is
shown like a local one, live, with its origin relay on the card and in the opened alert
(in English and in French); an answer given in the console reaches the officer at the
origin relay live; what the origin sends to another country never shows.
(federation.md; docs/federation.md; docs/console.md "The feed")

Two relays, ML and SN, each its own process and database, linked both ways
(tests/federation.py); the console is SN's, served by SN's HTTP port at ``/``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from relay.store.embedded import EmbeddedPostgres
from tests.alert_examples import seizure_alert
from tests.conftest import fresh_database
from tests.console_support import chromium, new_page, sign_in
from tests.federation import Federation, build_federation
from tests.support import stream_client

OFFICER, PARTNER = "ML-BKO-JAITF", "SN-DSS-JAITF"


@pytest.fixture(scope="module")
async def federation(pg_server: EmbeddedPostgres, template_db: str, workdir: Path) -> AsyncIterator[Federation]:
    """ML and SN linked both ways, one publishing unit each, once the directories crossed
    (each relay knows the other's unit)."""
    dsns = {rid: await fresh_database(pg_server, template_db) for rid in ("ML", "SN")}
    async with build_federation(dsns, workdir, countries={"ML": "ML", "SN": "SN"}) as built:
        await built["ML"].add_unit(OFFICER)
        await built["SN"].add_unit(PARTNER)
        for rid, peer in (("ML", "SN"), ("SN", "ML")):
            await built[rid].process.log_lines(
                lambda line, peer=peer: line.get("event") == "peer_directory"
                and line.get("peer") == peer and line.get("accepted") == 1)
        yield built


@pytest.fixture(scope="module")
async def chrome() -> AsyncIterator[Browser]:
    async with chromium() as (_, launched):
        yield launched


def card(page: Page, summary: str) -> Locator:
    return page.locator("#feed-list article.card").filter(has=page.locator(".summary", has_text=summary))


def fact(facts: Locator, term: str) -> Locator:
    """The value (``dd``) of the fact named ``term`` (``dt``) in a list of facts."""
    return facts.locator(f"xpath=dt[normalize-space()=\"{term}\"]/following-sibling::dd[1]")


async def publish_at_ml(federation: Federation, summary: str, countries: list[str]) -> dict[str, Any]:
    """ML's officer publishes a seizure report over ML's stream; the ack."""
    ml = federation["ML"]
    async with stream_client(ml.process, ml.units[OFFICER]) as officer:
        ack = await officer.publish(seizure_alert(distribution={"countries": countries}, summary=summary))
    assert "ack" == ack["type"], ack
    return ack


async def test_an_alert_from_the_peer_relay_shows_live_with_its_origin_relay_and_one_for_france_never(
        chrome, federation):
    """ML publishes for France, then for Senegal, while SN's officer watches SN's console:
    the Senegal card appears live, its facts and the opened alert name the origin relay
    ML (in English, then in French after switching the language), and the France one is
    nowhere, though it was published first."""
    run = uuid.uuid4().hex[:6]
    for_france, for_senegal = f"for France {run}", f"for Senegal {run}"
    sn = federation["SN"]
    context, partner = await new_page(chrome)
    try:
        await sign_in(partner, sn.process, sn.units[PARTNER])
        await publish_at_ml(federation, for_france, ["FR"])
        posted = await publish_at_ml(federation, for_senegal, ["SN"])

        seen = card(partner, for_senegal)
        await expect(seen).to_have_count(1)
        await expect(seen.locator(".card-title")).to_contain_text("Seizure report")
        await expect(fact(seen.locator("dl.facts"), "Origin unit")).to_have_text(OFFICER)
        await expect(fact(seen.locator("dl.facts"), "Origin relay")).to_have_text("ML")
        await expect(card(partner, for_france)).to_have_count(0)
        assert [for_senegal] == [text for text in await partner.locator("#feed-list article.card .summary")
                                 .all_inner_texts() if run in text]
        assert [posted["alert_id"]] == await partner.locator("#feed-list article.card").filter(
            has_text=run).evaluate_all("cards => cards.map(c => c.dataset.key)")

        detail = partner.locator("#detail")
        await seen.get_by_role("button", name="Open", exact=True).click()
        await expect(fact(detail.locator("dl.detail-facts"), "Origin relay")).to_have_text("ML")
        await expect(fact(detail.locator("dl.detail-facts"), "Origin unit")).to_have_text(OFFICER)
        await partner.locator("#detail-close").click()
        await expect(detail).to_be_hidden()

        await partner.get_by_label("Language", exact=True).select_option("fr")
        await expect(fact(seen.locator("dl.facts"), "Relais d'origine")).to_have_text("ML")
        await seen.get_by_role("button", name="Ouvrir", exact=True).click()
        await expect(fact(detail.locator("dl.detail-facts"), "Relais d'origine")).to_have_text("ML")
        await expect(fact(detail.locator("dl.detail-facts"), "Unité d'origine")).to_have_text(OFFICER)
        await expect(card(partner, for_france)).to_have_count(0)
        assert [] == partner.console_errors
    finally:
        await context.close()


async def test_an_answer_given_in_the_peer_s_console_reaches_the_officer_at_the_origin_relay_live(
        chrome, federation):
    """SN's officer opens ML's alert in SN's console (in French) and answers Positive with
    a note: ML's officer, subscribed on ML's stream, receives the receipt live, from
    SN-DSS-JAITF at the relay SN."""
    run = uuid.uuid4().hex[:6]
    summary = f"answer me {run}"
    ml, sn = federation["ML"], federation["SN"]
    context, partner = await new_page(chrome, language="fr-FR")
    try:
        await sign_in(partner, sn.process, sn.units[PARTNER], token_label="Jeton", button="Se connecter")
        async with stream_client(ml.process, ml.units[OFFICER]) as officer:
            await officer.subscribe()
            posted = await officer.publish(seizure_alert(distribution={"countries": ["SN"]}, summary=summary))
            assert "ack" == posted["type"], posted

            seen = card(partner, summary)
            await seen.get_by_role("button", name="Ouvrir", exact=True).click()
            detail = partner.locator("#detail")
            await expect(fact(detail.locator("dl.detail-facts"), "Relais d'origine")).to_have_text("ML")
            await detail.get_by_label("Note avec la réponse (facultative)", exact=True).fill("saisie confirmée à DSS")
            await detail.get_by_role("button", name="Positif", exact=True).click()
            await expect(partner.locator("#notice")).to_have_text("Réponse envoyée : Positif")

            receipt = await officer.recv_until(lambda frame: frame["type"] == "receipt")
        assert {"alert_id": posted["alert_id"], "unit": PARTNER, "status": "positive",
                "note": "saisie confirmée à DSS", "origin_relay": "SN"} == {
            key: value for key, value in receipt["receipt"].items() if key not in ("at", "origin_seq")}
        assert [] == partner.console_errors
    finally:
        await context.close()


async def test_the_operator_sees_the_peer_relays_units_as_remote(chrome, federation):
    """The operator's units view lists the units ML published to SN, with their relay, in
    a table of their own (they have no token here, no actions)."""
    sn = federation["SN"]
    token = await sn.add_unit("SN-DSS-OPS", roles="admin")
    context, operator = await new_page(chrome)
    try:
        await sign_in(operator, sn.process, token)
        remote = operator.locator("#remote-units")
        await expect(remote).to_be_visible()
        row = remote.locator("#remote-units-rows tr").filter(has=operator.locator("th", has_text=OFFICER))
        await expect(row.locator("td").nth(1)).to_have_text("ML")
        await expect(operator.locator("#units-rows")).not_to_contain_text(OFFICER)
        assert [] == operator.console_errors
    finally:
        await context.close()
