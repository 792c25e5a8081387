"""The console is usable by everyone, in French and in English (console.md "Language and
accessibility"): axe-core (bundled by axe-playwright-python, nothing fetched) audits every
view in both languages with no serious or critical violation, at 1366×768 and 390×844;
the accessible names of console.md's table are exactly those, in both languages; the
feed is a log, the connection state a status; the page follows the language control; and
every word of the catalogues exists in both languages, with none missing from the page.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from relay.console.catalog import CHOICES
from relay.console.routes import STATIC_DIR
from relay.contract.errors import HTTP_STATUS
from relay.store.chain_export import PROBLEM_CODES as CHAIN_PROBLEMS
from tests.conftest import REGIONS_CONFIG, running_relay
from tests.console_support import (
    DESKTOP,
    PHONE,
    VIEWS,
    chromium,
    new_page,
    seed_console,
    visit_views,
)
from tests.support import RelayProcess, create_unit

CATALOGUES = {language: json.loads((STATIC_DIR / "messages" / f"{language}.json").read_text())
              for language in ("en", "fr")}
LOCALES = {"en": "en-GB", "fr": "fr-FR"}


@pytest.fixture(scope="module")
async def relay(dsn: str, workdir: Path) -> AsyncIterator[RelayProcess]:
    async with running_relay(dsn, workdir, REGIONS_CONFIG) as process:
        yield process


@pytest.fixture(scope="module")
async def tokens(relay: RelayProcess, dsn: str) -> dict[str, str]:
    return await seed_console(relay, dsn)


@pytest.fixture(scope="module")
async def chrome() -> AsyncIterator[Browser]:
    async with chromium() as (_, launched):
        yield launched


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


async def serious_violations(axe: Axe, page: Page) -> list[str]:
    # The airports' <datalist> (7,800 options, never drawn) would only slow axe down.
    results = await axe.run(page, context={"exclude": [["#airport-list"], ["#quantity-units"]]})
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366x768", "390x844"])
@pytest.mark.parametrize("language", ["en", "fr"])
async def test_every_view_has_no_serious_accessibility_violation(chrome, relay, tokens, axe, language, viewport):
    context, page = await new_page(chrome, language=LOCALES[language], viewport=viewport)
    found, seen = {}, []
    try:
        async for view in visit_views(page, relay, tokens):
            seen.append(view)
            assert language == await page.evaluate("document.documentElement.lang")
            found[view] = await serious_violations(axe, page)
        assert list(VIEWS) == seen
        assert {} == {view: problems for view, problems in found.items() if problems}
        assert [] == page.console_errors
    finally:
        await context.close()


NAMES = {  # console.md "Accessible names": role → English and French names
    "en": {"token": "Token", "sign_in": "Sign in", "sign_out": "Sign out", "language": "Language",
           "links": ["Feed", "New alert", "History", "Audit", "Units"],
           "receipts": ["Received", "In progress", "Positive", "Negative", "Not located"],
           "passenger": ["Kind", "Priority", "TLP", "Distribution", "Summary", "Flight number", "Flight date",
                         "Origin", "Destination", "Surname", "Given names", "Requested action"],
           "seizure": ["Commodity", "Quantity", "Quantity unit", "Location", "Occurred at"],
           "send": "Send", "outbox": ["Queued", "Sent", "Acknowledged", "Rejected"],
           "connection": ["Connected", "Reconnecting", "Offline"]},
    "fr": {"token": "Jeton", "sign_in": "Se connecter", "sign_out": "Se déconnecter", "language": "Langue",
           "links": ["Flux", "Nouvelle alerte", "Historique", "Audit", "Unités"],
           "receipts": ["Reçu", "En cours", "Positif", "Négatif", "Non localisé"],
           "passenger": ["Type", "Priorité", "TLP", "Diffusion", "Résumé", "Numéro de vol", "Date du vol",
                         "Origine", "Destination", "Nom", "Prénoms", "Action demandée"],
           "seizure": ["Marchandise", "Quantité", "Unité de quantité", "Lieu", "Date des faits"],
           "send": "Envoyer", "outbox": ["En attente", "Envoyée", "Accusée", "Refusée"],
           "connection": ["Connecté", "Reconnexion", "Hors ligne"]},
}


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_the_accessible_names_are_those_of_the_contract_in_both_languages(chrome, relay, dsn, tokens, language):
    _, everything = await create_unit(dsn, f"ML-BKO-ALL{language.upper()}", country="ML",
                                      roles="publish,subscribe,audit,admin")
    names = NAMES[language]
    context, page = await new_page(chrome, language=LOCALES[language])
    try:
        await page.goto(relay.http + "/")
        await expect(page.get_by_role("textbox", name=names["token"], exact=True)).to_be_visible()
        await expect(page.get_by_role("combobox", name=names["language"], exact=True)).to_be_visible()
        await page.get_by_role("textbox", name=names["token"], exact=True).fill(tokens["FR-CDG-OFAST"])
        await page.get_by_role("button", name=names["sign_in"], exact=True).click()
        await expect(page.get_by_role("status")).to_have_text(names["connection"][0])
        log = page.get_by_role("log")
        await expect(log.locator("article")).to_have_count(5)
        flash = log.locator("article.priority-flash")
        for name in names["receipts"]:
            await expect(flash.get_by_role("button", name=name, exact=True)).to_be_visible()
        await page.get_by_role("button", name=names["sign_out"], exact=True).click()

        await page.get_by_role("textbox", name=names["token"], exact=True).fill(everything)
        await page.get_by_role("button", name=names["sign_in"], exact=True).click()
        navigation = page.get_by_role("navigation").first
        for name in names["links"]:
            await expect(navigation.get_by_role("link", name=name, exact=True)).to_be_visible()
        await navigation.get_by_role("link", name=names["links"][1], exact=True).click()
        form = page.locator("#alert-form")
        for name in names["passenger"]:
            await expect(form.get_by_label(name, exact=True)).to_be_visible()
        await form.get_by_label(names["passenger"][0], exact=True).select_option("seizure")
        for name in names["seizure"]:
            await expect(form.get_by_label(name, exact=True)).to_be_visible()
        await expect(form.get_by_role("button", name=names["send"], exact=True)).to_be_visible()
        assert names["outbox"] == [CATALOGUES[language][f"outbox.{state}"]
                                   for state in ("queued", "sent", "acknowledged", "rejected")]
        assert names["connection"] == [CATALOGUES[language][f"connection.{state}"]
                                       for state in ("connected", "reconnecting", "offline")]
        await context.set_offline(True)
        await expect(page.get_by_role("status")).to_have_text(names["connection"][2])
        assert [] == page.console_errors
    finally:
        await context.close()


async def test_the_language_control_switches_every_word_and_the_page_s_lang(chrome, relay, tokens):
    context, page = await new_page(chrome, language="en-GB")
    try:
        views = visit_views(page, relay, tokens)
        assert ["signin", "feed"] == [await anext(views), await anext(views)]
        await expect(page.locator("#feed-title")).to_have_text("Live feed")
        await page.get_by_label("Language", exact=True).select_option("fr")
        assert "fr" == await page.evaluate("document.documentElement.lang")
        await expect(page.locator("#feed-title")).to_have_text("Flux en direct")
        await expect(page.locator("#feed-list .status-banner").first).to_have_text(re.compile("EXERCICE|TEST"))
        await expect(page.get_by_role("status")).to_have_text("Connecté")
        texts = await page.locator("body").inner_text()
        english_only = [word for word in ("Live feed", "Filters", "Open", "Received", "Priority") if word in texts]
        assert [] == english_only
        await page.reload()
        await expect(page.locator("#feed-title")).to_have_text("Flux en direct")  # the choice is kept
    finally:
        await context.close()


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_both_catalogues_have_the_same_messages_with_the_same_placeholders():
    en, fr = CATALOGUES["en"], CATALOGUES["fr"]
    assert set(en) == set(fr)
    assert {} == {key: (en[key], fr[key]) for key in en
                  if not en[key].strip() or not fr[key].strip() or placeholders(en[key]) != placeholders(fr[key])}


FAMILIES = ("page", "nav", "signin", "feed", "card", "detail", "form", "outbox", "mine", "history",
            "search", "audit", "units", "error", "chain", "connection", "distribution", "choice")
MESSAGE_ID = re.compile(rf'"((?:{"|".join(FAMILIES)})\.[\w.]+)"')


def used_keys() -> set[str]:
    """Every message id the page and the scripts name (any string literal of the catalogue's
    families; form_model.js names fields, not messages), and the families built at run time."""
    html = (STATIC_DIR / "index.html").read_text()
    keys = set(re.findall(r'data-i18n="([^"]+)"', html))
    keys |= {pair.split(":")[1] for value in re.findall(r'data-i18n-attr="([^"]+)"', html) for pair in value.split()}
    for path in STATIC_DIR.rglob("*.js"):
        if path.name != "form_model.js":
            keys |= set(MESSAGE_ID.findall(path.read_text()))
    keys |= {f"connection.{state}" for state in ("connected", "reconnecting", "offline")}
    keys |= {f"signin.{reason}" for reason in ("refused", "revoked")}
    keys |= {f"outbox.{state}" for state in ("queued", "sent", "acknowledged", "rejected")}
    keys |= {f"error.{code}" for code in (*HTTP_STATUS, "network", "other", "method_not_allowed")}
    keys |= {f"chain.{code}" for code in CHAIN_PROBLEMS}
    keys |= {f"distribution.{key}" for key in ("units", "countries", "regions")}
    keys |= {f"choice.{name}.{value}" for name, values in CHOICES.items() for value in values}
    keys |= {f"choice.status_banner.{status}" for status in CHOICES["status"]}
    return keys


def test_every_word_the_console_uses_is_in_both_catalogues_and_none_is_left_unused():
    """A message named by the page or a script, a choice of the alert model, an error code
    of the relay or a chain problem without its sentence fails here; so does a sentence
    nothing uses."""
    used, known = used_keys(), set(CATALOGUES["en"])
    assert (set(), set()) == (used - known, known - used)
