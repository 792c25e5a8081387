"""The console's scenarios of issue 11, each in a real Chromium against a real relay and
its database: an officer and a partner at work, a link cut for real, an alert written
with no link at all, the relay's problems in French, hostile alert text, an auditor's
export, a token revoked under a signed-in operator.

One relay (behind a proxy that can cut the stream) and one browser serve the module;
each scenario opens fresh browser contexts, as different people's browsers.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from relay.contract.problems import english
from relay.contract.problems_fr import problem_text
from relay.store.chain_export import verify_export
from tests.console_support import (
    LinkProxy,
    api_get,
    chromium,
    console_relay,
    new_page,
    passenger_alert,
    publish,
    sign_in,
)
from tests.support import RelayProcess, create_unit

pytestmark = pytest.mark.asyncio(loop_scope="session")

OFFICER, PARTNER, AUDITOR, OPERATOR = "ML-BKO-JAITF", "FR-CDG-OFAST", "EU-AUDIT-OFFICE", "ML-ADMIN-DGPN"


@pytest.fixture(scope="module")
async def stack(dsn: str, workdir: Path) -> AsyncIterator[tuple[RelayProcess, LinkProxy]]:
    async with console_relay(dsn, workdir) as both:
        yield both


@pytest.fixture(scope="module")
async def relay(stack: tuple[RelayProcess, LinkProxy]) -> RelayProcess:
    return stack[0]


@pytest.fixture(scope="module")
async def proxy(stack: tuple[RelayProcess, LinkProxy]) -> LinkProxy:
    return stack[1]


@pytest.fixture(scope="module")
async def chrome() -> AsyncIterator[Browser]:
    async with chromium() as (_, launched):
        yield launched


@pytest.fixture(scope="module")
async def tokens(relay: RelayProcess, dsn: str) -> dict[str, str]:
    """One token per unit: the officer publishes and subscribes, the partner subscribes."""
    made = {}
    for unit_id, country, roles in [(OFFICER, "ML", "publish,subscribe"), (PARTNER, "FR", "subscribe"),
                                    (AUDITOR, "BE", "audit"), (OPERATOR, "ML", "admin")]:
        _, made[unit_id] = await create_unit(dsn, unit_id, country=country, roles=roles)
    return made


def card(page: Page, summary: str) -> Any:
    return page.locator("#feed-list article.card").filter(has=page.locator(".summary", has_text=summary))


async def fill_passenger_form(page: Page, summary: str, *, to: str) -> None:
    """The officer's alert: a flash passenger alert to ``to``, every required field."""
    await page.get_by_label("Priority", exact=True).select_option("flash")
    await page.get_by_label("Summary", exact=True).fill(summary)
    await page.get_by_label("Units addressed", exact=True).select_option(to)
    await page.get_by_label("Flight number", exact=True).fill("AT571")
    await page.get_by_label("Flight date", exact=True).fill("2026-11-23")
    await page.get_by_label("Origin", exact=True).fill("BKO")
    await page.get_by_label("Destination", exact=True).fill("CDG")
    await page.get_by_label("Surname", exact=True).fill("DOE")
    await page.get_by_label("Given names", exact=True).fill("John")
    await page.get_by_label("Requested action", exact=True).select_option("intercept")


async def alerts_with(relay: RelayProcess, token: str, text: str) -> list[dict[str, Any]]:
    page = await api_get(relay, token, f"/v1/alerts?q={text}")
    return list(page["alerts"])


async def test_an_officer_posts_a_partner_sees_it_live_and_answers_positive_and_the_officer_sees_the_receipt(
        chrome, relay, tokens):
    officer_context, officer = await new_page(chrome)
    partner_context, partner = await new_page(chrome)
    try:
        await sign_in(partner, relay, tokens[PARTNER])
        await sign_in(officer, relay, tokens[OFFICER])
        await officer.get_by_role("link", name="New alert", exact=True).click()
        await fill_passenger_form(officer, "Courier boarding AT571 with ingested cocaine", to=PARTNER)
        await officer.get_by_role("button", name="Send", exact=True).click()
        await expect(officer.locator("#outbox span.state-acknowledged")).to_have_text("Acknowledged")

        seen = card(partner, "Courier boarding AT571 with ingested cocaine")
        await expect(seen).to_have_count(1)
        await expect(seen.locator(".card-title")).to_contain_text("FLASH")
        await seen.get_by_role("button", name="Positive", exact=True).click()
        await expect(partner.locator("#notice")).to_contain_text("Positive")

        await officer.get_by_role("link", name="Feed", exact=True).click()
        receipts = card(officer, "Courier boarding AT571 with ingested cocaine").locator(".receipts")
        await expect(receipts).to_contain_text(f"Positive · {PARTNER}")
        assert [] == officer.console_errors + partner.console_errors
    finally:
        await officer_context.close()
        await partner_context.close()


async def test_after_a_cut_link_the_feed_resumes_and_shows_each_alert_exactly_once(chrome, relay, proxy, tokens):
    """The proxy resets the stream's TCP connection and refuses new ones while alerts are
    posted: the console must reconnect by itself, resume with ``since``, and show every
    alert once (none missed, none twice)."""
    context, partner = await new_page(chrome)
    try:
        await sign_in(partner, relay, tokens[PARTNER])
        before = [f"before the cut {n}" for n in range(2)]
        during = [f"during the cut {n}" for n in range(3)]
        for summary in before:
            await publish(relay, tokens[OFFICER], passenger_alert(summary, units=[PARTNER]))
        for summary in before:
            await expect(card(partner, summary)).to_have_count(1)
        shown_before = await partner.locator("#feed-list article.card").count()

        proxy.cut()
        await expect(partner.locator("#connection")).to_have_text("Reconnecting")
        for summary in during:
            await publish(relay, tokens[OFFICER], passenger_alert(summary, units=[PARTNER]))
        connections = proxy.connections
        proxy.restore()

        await expect(partner.locator("#connection")).to_have_text("Connected", timeout=30_000)
        assert proxy.connections > connections, "the console reconnected through the proxy"
        for summary in [*before, *during]:
            await expect(card(partner, summary)).to_have_count(1)
        await expect(partner.locator("#feed-list article.card")).to_have_count(shown_before + len(during))
        seqs = [int(s) for s in await partner.locator("#feed-list article.card").evaluate_all(
            "cards => cards.map(c => c.dataset.seq)")]
        assert sorted(seqs, reverse=True) == seqs and len(set(seqs)) == len(seqs)
        assert [] == partner.console_errors
    finally:
        proxy.restore()
        await context.close()


async def test_an_alert_written_offline_survives_a_reload_and_is_stored_once_when_the_link_is_back(
        chrome, relay, tokens):
    context, officer = await new_page(chrome)
    summary = "Written at gate 4 with no link"
    try:
        await sign_in(officer, relay, tokens[OFFICER])
        await officer.wait_for_function("navigator.serviceWorker.controller !== null")
        await context.set_offline(True)
        await expect(officer.locator("#connection")).to_have_text("Offline")
        await officer.get_by_role("link", name="New alert", exact=True).click()
        await fill_passenger_form(officer, summary, to=PARTNER)
        await officer.get_by_role("button", name="Send", exact=True).click()
        queued = officer.locator("#outbox li").filter(has_text=summary)
        await expect(queued.locator(".state")).to_have_text("Queued")

        await officer.reload()  # from the service worker's files: there is no network
        await expect(officer.locator("#connection")).to_have_text("Offline")
        await officer.get_by_role("link", name="New alert", exact=True).click()
        await expect(queued.locator(".state")).to_have_text("Queued")
        assert [] == await alerts_with(relay, tokens[OFFICER], "gate 4")

        await context.set_offline(False)
        await expect(officer.locator("#connection")).to_have_text("Connected", timeout=30_000)
        await expect(queued.locator(".state")).to_have_text("Acknowledged")
        stored = await alerts_with(relay, tokens[OFFICER], "gate 4")
        assert [summary] == [item["alert"]["summary"] for item in stored]
        remaining = await officer.evaluate("""async (unit) => {
            const {openOutbox} = await import('/console/static/js/outbox.js');
            const outbox = await openOutbox();
            const left = await outbox.list(unit);
            outbox.close();
            return left.length;
        }""", OFFICER)
        assert 0 == remaining, "an acknowledged alert leaves the browser's storage"
        await officer.reload()
        await expect(officer.locator("#connection")).to_have_text("Connected")
        assert 1 == len(await alerts_with(relay, tokens[OFFICER], "gate 4"))
        assert [] == officer.console_errors
    finally:
        await context.close()


async def test_the_relay_s_problems_are_shown_beside_their_fields_in_french(chrome, relay, tokens):
    context, officer = await new_page(chrome, language="fr-FR")
    try:
        await sign_in(officer, relay, tokens[OFFICER], token_label="Jeton", button="Se connecter")
        await officer.get_by_role("link", name="Nouvelle alerte", exact=True).click()
        await officer.get_by_label("Unités destinataires", exact=True).select_option(PARTNER)
        await officer.get_by_label("Numéro de vol", exact=True).fill("12345")
        await officer.get_by_label("Origine", exact=True).fill("QQQ")
        await officer.get_by_label("Destination", exact=True).fill("CDG")
        await officer.get_by_label("Prénoms", exact=True).fill("Jean")
        await officer.get_by_role("button", name="Envoyer", exact=True).click()

        summary = officer.locator("#form-errors")
        await expect(summary).to_be_visible()
        await expect(summary.locator("h2")).to_have_text("Le relais a refusé l'alerte")
        expected = {
            "#f-flight-number": ("bad_flight_number", {}),
            "#f-flight-origin": ("unknown_airport", {"value": "QQQ"}),
            "#f-summary": ("required", {}),
            "#subjects-0-surname": ("required", {}),
        }
        for selector, (code, params) in expected.items():
            french, english_text = problem_text(code, params, "fr"), english(code, params)
            assert french != english_text
            box = officer.locator(selector).locator("xpath=ancestor::*[@data-field-box][1]")
            await expect(box.locator(".field-error")).to_contain_text(french)
            await expect(officer.locator(selector)).to_have_attribute("aria-invalid", "true")
            await expect(summary).to_contain_text(french)
        await expect(officer.locator("#f-requested_action").locator("xpath=..").locator(".field-error")).to_be_visible()
        await expect(officer.locator("#outbox span.state-rejected")).to_have_text("Refusée")
        assert [] == officer.console_errors
    finally:
        await context.close()


async def test_hostile_alert_text_is_shown_as_text_and_nothing_runs(chrome, relay, tokens):
    hostile = '<img src=x onerror=alert(1)>'
    context, partner = await new_page(chrome)
    dialogs: list[str] = []
    partner.on("dialog", lambda dialog: dialogs.append(dialog.message))
    try:
        await sign_in(partner, relay, tokens[PARTNER])
        await publish(relay, tokens[OFFICER], passenger_alert(
            hostile, units=[PARTNER], subjects=[{"role": "courier", "surname": '<script>window.ran=1</script>',
                                                 "given_names": '"><svg onload=alert(2)>'}]))
        shown = card(partner, "onerror")
        await expect(shown).to_have_count(1)
        assert hostile == await shown.locator(".summary").inner_text()
        await expect(shown).to_contain_text("<script>window.ran=1</script>")
        await shown.get_by_role("button", name="Open", exact=True).click()
        await expect(partner.locator("#detail-body")).to_contain_text(hostile)
        await partner.get_by_role("button", name="Close", exact=True).click()
        await partner.get_by_role("link", name="History", exact=True).click()
        await expect(partner.locator("#history-rows")).to_contain_text(hostile)
        assert 0 == await partner.locator("main img, main svg, main script, dialog img").count()
        assert await partner.evaluate("window.ran === undefined")
        assert [] == dialogs
        assert [] == partner.console_errors
    finally:
        await context.close()


async def test_an_auditor_downloads_an_export_and_sees_the_chain_intact(chrome, relay, tokens, tmp_path):
    await publish(relay, tokens[OFFICER], passenger_alert("for the auditor", units=[PARTNER]))
    context, auditor = await new_page(chrome, accept_downloads=True)
    try:
        await sign_in(auditor, relay, tokens[AUDITOR])
        await expect(auditor.get_by_role("link", name="Audit", exact=True)).to_be_visible()
        await expect(auditor.get_by_role("link", name="Feed", exact=True)).to_be_hidden()
        await auditor.get_by_role("link", name="Audit", exact=True).click()
        async with auditor.expect_download() as download_info:
            await auditor.get_by_role("button", name="Download NDJSON", exact=True).click()
        download = await download_info.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        assert saved.name.endswith(".ndjson")
        report = verify_export(saved.read_bytes().splitlines())
        assert report.problem is None and report.events >= 1, report
        await expect(auditor.locator("#export-result")).to_contain_text("Chain intact in this export.")
        await expect(auditor.locator("#export-result")).to_contain_text(f"seq 1 to {report.last_seq}")

        await auditor.get_by_role("button", name="Verify the chain", exact=True).click()
        await expect(auditor.locator("#verify-result")).to_contain_text("Chain intact.")
        await expect(auditor.locator("#access-rows")).to_contain_text("/v1/audit/export")
        assert [] == auditor.console_errors
    finally:
        await context.close()


async def test_an_operator_issues_a_token_that_signs_in_elsewhere_and_revoking_it_signs_that_tab_out_within_5_s(
        chrome, relay, tokens):
    operator_context, operator = await new_page(chrome)
    other_context, other = await new_page(chrome)
    try:
        await sign_in(operator, relay, tokens[OPERATOR])
        units = operator.locator("#units-rows")
        row = units.locator("tr").filter(has=operator.locator("th", has_text=PARTNER))
        await row.get_by_role("button", name="Edit and tokens", exact=True).click()
        await operator.get_by_label("Label of the new token", exact=True).fill("terminal 2, gate B")
        await operator.get_by_role("button", name="Issue a token", exact=True).click()
        await expect(operator.locator("#token-shown")).to_be_visible()
        token = await operator.locator("#token-value").inner_text()
        assert token.startswith("relay_")

        await sign_in(other, relay, token)
        await expect(other.locator("#unit-name")).to_have_text(PARTNER)
        token_row = operator.locator("#token-rows tr").filter(has_text="terminal 2, gate B")
        await token_row.get_by_role("button", name="Revoke", exact=True).click()
        revoked_at = time.monotonic()
        await expect(other.get_by_label("Token", exact=True)).to_be_visible(timeout=5_000)
        assert time.monotonic() - revoked_at < 5.0
        await expect(other.locator("#token-error")).to_contain_text("revoked")
        assert await other.evaluate("sessionStorage.getItem('relay.token') === null")
        await expect(token_row).to_contain_text("Revoked")
        assert [] == operator.console_errors + other.console_errors
    finally:
        await operator_context.close()
        await other_context.close()


async def test_sign_out_forgets_the_token_and_the_token_is_nowhere_but_session_storage(chrome, relay, tokens):
    context, officer = await new_page(chrome)
    try:
        await sign_in(officer, relay, tokens[OFFICER])
        stored = await officer.evaluate("""() => ({
            session: Object.values(sessionStorage), local: Object.values(localStorage),
            cookie: document.cookie, url: location.href})""")
        token = tokens[OFFICER]
        assert token in stored["session"]
        assert not any(token in value for value in stored["local"])
        assert token not in stored["cookie"] and token not in stored["url"]
        await officer.get_by_role("button", name="Sign out", exact=True).click()
        await expect(officer.get_by_label("Token", exact=True)).to_be_visible()
        assert 0 == await officer.evaluate("sessionStorage.length")
    finally:
        await context.close()
