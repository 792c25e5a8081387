"""The console's client logic, loaded as the browser loads it (real Chromium, modules
served by a real relay) but without the page: the feed's state (resume, nothing twice,
updates, cancellations, receipts, filters, pages), formatting in UTC, the form's values
and the problems' places, the outbox in IndexedDB, the in-browser chain check, the
language choice, and the stream client against the relay. Then the whole feed holding
10,000 alerts: a bounded number of cards, paging, and a live alert on top.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from relay.store.chain_export import verify_export
from tests.conftest import running_relay
from tests.console_support import chromium, new_page, passenger_alert, publish, seed_alerts, sign_in
from tests.support import RelayProcess, create_unit

FAST = """
[limits]
publish_per_second = 1000000.0
publish_burst = 1000000
"""
MANY = 10_000
STATIC = "/console/static/js"


@pytest.fixture(scope="module")
async def relay(dsn: str, workdir: Path) -> AsyncIterator[RelayProcess]:
    async with running_relay(dsn, workdir, FAST) as process:
        yield process


@pytest.fixture(scope="module")
async def chrome() -> AsyncIterator[Browser]:
    async with chromium() as (_, launched):
        yield launched


@pytest.fixture(scope="module")
async def tokens(relay: RelayProcess, dsn: str) -> dict[str, str]:
    made = {}
    for unit_id, country, roles in [("ML-BKO-JAITF", "ML", "publish,subscribe"),
                                    ("FR-CDG-OFAST", "FR", "subscribe"), ("EU-AUDIT", "BE", "audit"),
                                    ("FR-ORY-DNRED", "FR", "subscribe")]:
        _, made[unit_id] = await create_unit(dsn, unit_id, country=country, roles=roles)
    return made


@pytest.fixture(scope="module")
async def origin(chrome: Browser, relay: RelayProcess) -> AsyncIterator[Page]:
    """A page of the relay's origin, where the modules load as in the console."""
    context, opened = await new_page(chrome)
    await opened.goto(relay.http + "/")
    yield opened
    await context.close()


async def run(page: Page, body: str, arg: Any = None) -> Any:
    """``body`` of an async JS function of ``arg``, its result."""
    return await page.evaluate(f"async (arg) => {{ {body} }}", arg)


FEED = f"""
const {{FeedState, FEED_WINDOW}} = await import('{STATIC}/feed_state.js');
const alert = (seq, id, extra = {{}}) => ({{type: 'alert', seq, alert: {{alert_id: id, kind: 'passenger',
  priority: 'urgent', status: 'actual', summary: 'alert ' + id, origin_unit: 'ML-BKO-JAITF', ...extra}}}});
"""


async def test_the_feed_ignores_what_it_has_handled_so_that_a_resume_shows_nothing_twice(origin):
    result = await run(origin, FEED + """
        const state = new FeedState();
        const first = state.apply(alert(5, 'a'));
        const again = state.apply(alert(5, 'a'));
        const older = state.apply(alert(3, 'z'));
        state.apply({type: 'caught_up', seq: 9});
        const belowCaughtUp = state.apply(alert(8, 'y'));
        const next = state.apply(alert(10, 'b'));
        return {first: first.isNew, again, older, belowCaughtUp, next: next.isNew, cursor: state.cursor,
                keys: state.page(0, 10).map(e => e.key), since: state.since(123456),
                fresh: new FeedState().since(25000), small: new FeedState().since(12), window: FEED_WINDOW};
    """)
    assert (True, None, None, None, True, 10) == (result["first"], result["again"], result["older"],
                                                  result["belowCaughtUp"], result["next"], result["cursor"])
    assert ["b", "a"] == result["keys"]
    assert (10, 25000 - result["window"], 0) == (result["since"], result["fresh"], result["small"])


async def test_an_update_replaces_a_cancel_marks_and_receipts_follow_the_alert_they_answer(origin):
    result = await run(origin, FEED + """
        const state = new FeedState();
        state.apply(alert(1, 'a'));
        state.apply(alert(2, 'b'));
        const update = state.apply(alert(3, 'a2', {msg_type: 'update', references: 'a', summary: 'changed'}));
        state.apply({type: 'receipt', seq: 4, receipt: {alert_id: 'a2', unit: 'FR-CDG-OFAST', status: 'positive'}});
        state.apply(alert(5, 'a3', {msg_type: 'cancel', references: 'a2', summary: 'called off'}));
        state.apply({type: 'receipt', seq: 6, receipt: {alert_id: 'nobody-knows', unit: 'X', status: 'received'}});
        const orphan = state.apply(alert(7, 'c2', {msg_type: 'update', references: 'c', summary: 'older than the feed'}));
        const entry = state.byKey.get('a');
        return {isNew: update.isNew, count: state.entries.length, summary: entry.alert.summary,
                cancelled: entry.cancelled, reason: entry.cancel.alert.summary,
                receipts: entry.receipts.map(r => r.status), updates: entry.updates.length,
                orphan: [orphan.isNew, orphan.entry.key, orphan.entry.partial],
                order: state.page(0, 10).map(e => e.key)};
    """)
    assert (False, 3, "changed", True, "called off", ["positive"], 1) == (
        result["isNew"], result["count"], result["summary"], result["cancelled"], result["reason"],
        result["receipts"], result["updates"])
    assert [True, "c", True] == result["orphan"]
    assert ["c", "b", "a"] == result["order"]


async def test_filters_narrow_what_is_shown_with_the_stream_s_rules_and_pages_stay_bounded(origin):
    result = await run(origin, FEED + """
        const {matches, openFilter, codesFrom} = await import('/console/static/js/filters.js');
        const countryOf = (code) => ({BKO: 'ML', CDG: 'FR', CMN: 'MA', LFW: 'TG'})[code];
        const filter = {...openFilter(), minPriority: 'urgent', countries: ['MA']};
        const state = new FeedState({accepts: (a) => matches(a, filter, countryOf)});
        const flight = (origin, destination, route) => ({flight: {number: 'AT571', origin, destination, route}});
        state.apply(alert(1, 'via-cmn', {...flight('BKO', 'CDG', ['BKO', 'CMN', 'CDG'])}));
        state.apply(alert(2, 'routine', {priority: 'routine', ...flight('BKO', 'CMN')}));
        state.apply(alert(3, 'lome', {kind: 'seizure', location: 'LFW'}));
        state.apply(alert(4, 'direct', {...flight('BKO', 'CDG')}));
        state.apply(alert(5, 'now-via-cmn', {msg_type: 'update', references: 'direct', ...flight('BKO', 'CMN')}));
        const shown = state.visible.map(e => e.key);
        filter.countries = null; filter.kinds = ['seizure'];
        state.setFilter(state.accepts);
        const seizures = state.visible.map(e => e.key);
        const many = new FeedState();
        for (let seq = 1; seq <= 120; seq += 1) many.apply(alert(seq, 'n' + seq));
        return {shown, seizures, codes: codesFrom(' cdg, bko;lfw '), none: codesFrom('  '),
                exercise: matches({kind: 'passenger', status: 'exercise', priority: 'flash'}, {...openFilter(), statuses: ['actual']}, countryOf),
                pages: [many.page(0, 50).length, many.page(50, 50)[0].key, many.page(100, 50).length, many.page(100, 50).at(-1).key]};
    """)
    assert ["via-cmn", "direct"] == result["shown"]
    assert ["lome"] == result["seizures"]
    assert (["CDG", "BKO", "LFW"], None, False) == (result["codes"], result["none"], result["exercise"])
    assert [50, "n70", 20, "n1"] == result["pages"]


async def test_times_are_shown_in_utc_and_say_so_in_both_languages_and_alerts_read_in_words(origin):
    result = await run(origin, """
        const format = await import('/console/static/js/format.js');
        const {I18n} = await import('/console/static/js/i18n.js');
        const [en, fr] = await Promise.all(['en', 'fr'].map(l => fetch(`/console/static/messages/${l}.json`).then(r => r.json())));
        const i18n = new I18n({en, fr}, 'fr');
        const alert = {kind: 'seizure', priority: 'flash', location: 'LFW',
                       seizures: [{commodity: 'cocaine', quantity: 2.5, unit: 'kg'}],
                       subjects: [{role: 'courier', surname: 'DOE', given_names: 'Jane'}]};
        return {en: format.formatTime('2026-11-23T23:30:05.250+00:00', 'en'),
                fr: format.formatTime('2026-11-23T23:30:05Z', 'fr'),
                offset: format.formatTime('2026-11-24T01:30:05+02:00', 'en'),
                input: format.utcFromInput('2026-11-23T08:00'), back: format.inputFromUtc('2026-11-23T08:00:00Z'),
                route: format.routeText({flight: {number: 'AT571', date: '2026-11-23', origin: 'BKO', destination: 'CDG', route: ['BKO', 'CMN', 'CDG']}}),
                headline: format.headline(alert, i18n), seized: format.seizuresText(alert, i18n),
                people: format.subjectsText(alert, i18n), tlp: format.tlpLabel('amber+strict')};
    """)
    assert result["en"] == "23 Nov 2026, 23:30:05 UTC" == result["offset"]
    assert "23 nov. 2026, 23:30:05 UTC" == result["fr"]
    assert ("2026-11-23T08:00:00Z", "2026-11-23T08:00") == (result["input"], result["back"])
    assert "AT571 (2026-11-23) · BKO → CMN → CDG" == result["route"]
    assert "FLASH · Rapport de saisie · LFW" == result["headline"]
    assert ("Cocaïne 2,5 kg", "Passeur : DOE Jane") == (result["seized"], result["people"])
    assert "TLP:AMBER+STRICT" == result["tlp"]


async def test_the_form_makes_the_alert_of_alerts_md_and_finds_the_field_of_each_problem(origin):
    result = await run(origin, """
        const m = await import('/console/static/js/form_model.js');
        const passenger = m.blankValues('fr');
        Object.assign(passenger, {priority: 'flash', summary: 'Courier', requested_action: 'intercept',
          indicators: ['one_way'], indicators_other: 'tip_off  cash', expires_at: '2026-11-23T12:00'});
        passenger.distribution.units = ['FR-CDG-OFAST'];
        Object.assign(passenger.flight, {number: ' at571 ', origin: 'bko', destination: 'CDG', route: 'bko cmn cdg'});
        Object.assign(passenger.subjects[0], {surname: 'DOE', 'document.type': 'passport', 'document.number': 'X1', bag_tags: 'T1 T2'});
        passenger.subjects.push(m.blankSubject());
        const seizure = m.blankValues('en');
        Object.assign(seizure, {kind: 'seizure', summary: 'Seized', location: 'lfw', occurred_at: '2026-11-22T20:15'});
        seizure.distribution = {mode: 'all', units: ['ignored'], countries: [], regions: []};
        seizure.seizures = [{commodity: 'cash', quantity: '12 500', unit: 'XOF', description: ''},
                            {commodity: 'cocaine', quantity: '2,5', unit: 'kg', description: 'in a suitcase'}];
        const made = m.alertFromValues(passenger, '2026-11-23T08:00:00Z');
        const again = m.alertFromValues(m.valuesFromAlert({...made, alert_id: 'x'}, 'alert', ['one_way', 'tip_off']), '2026-11-23T08:00:00Z');
        return {made, again, seized: m.alertFromValues(seizure, '2026-11-23T08:00:00Z'),
                places: ['subjects[1].document.number', 'flight.route[2]', 'distribution.units[0]', 'distribution.all',
                         'grading', 'seizures[0]', 'ext.photo', 'alert', 'summary'].map(m.locate)};
    """)
    made = result["made"]
    assert {"kind": "passenger", "priority": "flash", "tlp": "amber", "status": "actual",
            "distribution": {"units": ["FR-CDG-OFAST"]}, "sent_at": "2026-11-23T08:00:00Z",
            "expires_at": "2026-11-23T12:00:00Z", "summary": "Courier", "language": "fr",
            "flight": {"number": "AT571", "origin": "BKO", "destination": "CDG", "route": ["BKO", "CMN", "CDG"]},
            "subjects": [{"role": "passenger", "surname": "DOE", "document": {"type": "passport", "number": "X1"},
                          "bag_tags": ["T1", "T2"]}],
            "requested_action": "intercept", "indicators": ["one_way", "tip_off", "cash"]} == made
    assert made == result["again"]
    seized = result["seized"]
    assert {"all": True} == seized["distribution"]
    assert [{"commodity": "cash", "quantity": "12 500", "unit": "XOF"},
            {"commodity": "cocaine", "quantity": 2.5, "unit": "kg", "description": "in a suitcase"}] == seized["seizures"]
    assert ("LFW", "2026-11-22T20:15:00Z", None) == (seized["location"], seized["occurred_at"], seized.get("flight"))
    assert [{"list": "subjects", "index": 1, "field": "document.number"},
            {"list": None, "index": None, "field": "flight.route"},
            {"list": None, "index": None, "field": "distribution.units"},
            {"list": None, "index": None, "field": "distribution"},
            {"list": None, "index": None, "field": "grading.source"},
            {"list": "seizures", "index": 0, "field": None},
            {"list": None, "index": None, "field": None},
            {"list": None, "index": None, "field": None},
            {"list": None, "index": None, "field": "summary"}] == result["places"]


async def test_the_outbox_keeps_an_entry_until_its_ack_and_keeps_a_refused_one_with_its_problems(origin):
    result = await run(origin, """
        const {openOutbox, sendEntry} = await import('/console/static/js/outbox.js');
        const outbox = await openOutbox('relay-console-test');
        const outcomes = {};
        const replies = {
          acked: async (frame) => ({type: 'ack', id: frame.id, seq: 7, alert_id: 'a', duplicate: true}),
          refused: async (frame) => ({type: 'error', id: frame.id, code: 'invalid_alert', details: [{field: 'summary', code: 'required'}]}),
          slowed: async (frame) => ({type: 'error', id: frame.id, code: 'rate_limited', details: []}),
          cut: async () => { throw new Error('the link dropped'); },
        };
        for (const [key, reply] of Object.entries(replies)) {
          const entry = await outbox.add({key, unit: 'ML-BKO-JAITF', alert: {summary: key}});
          const sent = [];
          outcomes[key] = (await sendEntry(outbox, entry, (frame) => { sent.push(frame); return reply(frame); })).outcome;
          outcomes[key + '-frame'] = sent[0];
        }
        await outbox.add({key: 'theirs', unit: 'FR-CDG-OFAST', alert: {summary: 'not ours'}});
        const left = (await outbox.list('ML-BKO-JAITF')).map(e => [e.key, e.state, e.code, e.details.length, e.attempts]);
        outbox.close();
        return {outcomes, left};
    """)
    outcomes = result["outcomes"]
    assert {"acked": "acknowledged", "refused": "rejected", "slowed": "retry", "cut": "queued"} == {
        key: outcomes[key] for key in ("acked", "refused", "slowed", "cut")}
    assert {"type": "publish", "id": "refused", "alert": {"summary": "refused"}} == outcomes["refused-frame"]
    assert [["refused", "rejected", "invalid_alert", 1, 1], ["slowed", "queued", None, 0, 1],
            ["cut", "queued", None, 0, 1]] == result["left"]


async def test_the_chain_check_in_the_browser_agrees_with_the_relay_s_on_a_real_export(origin, relay, tokens):
    for n in range(3):
        await publish(relay, tokens["ML-BKO-JAITF"], passenger_alert(f"chained {n}", units=["FR-CDG-OFAST"]))
    text = await origin.evaluate("""async (token) => {
        const r = await fetch('/v1/audit/export?format=ndjson', {headers: {Authorization: 'Bearer ' + token}});
        return r.text();
    }""", tokens["EU-AUDIT"])
    lines = text.strip().split("\n")
    tampered_body = lines[1].replace("chained", "CHAINED")
    cases = {"whole": lines, "tampered": [lines[0], tampered_body, *lines[2:]],
             "gap": [lines[0], *lines[2:]], "swapped": [lines[1], lines[0], *lines[2:]], "empty": []}
    verdicts = await run(origin, """
        const {verifyExport} = await import('/console/static/js/chain.js');
        const out = {};
        for (const [name, lines] of Object.entries(arg)) {
          const report = await verifyExport(lines.join('\\n'));
          out[name] = [report.verified, report.problem && report.problem.code, report.events, report.lastHash];
        }
        return out;
    """, cases)
    for name, lines_of_case in cases.items():
        report = verify_export(line.encode() for line in lines_of_case)
        assert (report.problem is None) == verdicts[name][0], name
    # one fault at a time: both name it alike (an edited event no longer has its hash)
    faults = ("tampered", "gap", "empty")
    relay_says = [verify_export(line.encode() for line in cases[name]).problem.code for name in faults]
    assert ["hash_mismatch", "missing_seq", "empty"] == relay_says == [verdicts[name][1] for name in faults]
    assert verdicts["whole"][3] == verify_export(line.encode() for line in lines).last_hash


async def test_the_console_speaks_the_browser_s_language_if_it_can_and_english_otherwise(origin):
    result = await run(origin, """
        const {pickLanguage, fill, I18n} = await import('/console/static/js/i18n.js');
        const i18n = new I18n({en: {a: 'Hello {who}'}, fr: {a: 'Bonjour {who}'}}, 'fr');
        return [pickLanguage(['fr-CA', 'en']), pickLanguage(['de-DE', 'en-US']), pickLanguage(['de']), pickLanguage([]),
                fill('{a} and {b}', {a: 1}), i18n.t('a', {who: 'Awa'}), i18n.t('missing.key')];
    """)
    assert ["fr", "en", "en", "en", "1 and {b}", "Bonjour Awa", "missing.key"] == result


async def test_the_stream_client_signs_in_with_its_first_frame_gets_replies_and_stops_on_a_refused_token(origin, relay, tokens):
    url = relay.url
    result = await run(origin, """
        const {StreamClient} = await import('/console/static/js/stream.js');
        const events = (client, name) => new Promise(resolve => client.addEventListener(name, (e) => resolve(e.detail), {once: true}));
        const good = new StreamClient({url: arg.url, token: arg.token});
        const welcomed = events(good, 'welcome');
        good.start();
        const {welcome} = await welcomed;
        const reply = await good.request({type: 'subscribe', id: 'not-a-reply-kind', filter: {kinds: ['nothing']}});
        good.stop();
        const bad = new StreamClient({url: arg.url, token: 'relay_' + 'x'.repeat(43)});
        const out = events(bad, 'signed-out');
        bad.start();
        const {reason} = await out;
        return {unit: welcome.unit, roles: welcome.roles, reply: [reply.type, reply.code], reason, state: bad.state};
    """, {"url": url, "token": tokens["FR-CDG-OFAST"]})
    assert ("FR-CDG-OFAST", ["subscribe"]) == (result["unit"], result["roles"])
    assert ["error", "invalid_filter"] == result["reply"]
    assert ("refused", "offline") == (result["reason"], result["state"])


async def test_signing_out_fails_a_request_still_waiting_for_its_answer_at_once(origin, relay, tokens):
    """A request in flight when the client stops (sign-out) is rejected then, not after
    its 30-second reply timeout, so the next unit's outbox is not held up."""
    result = await run(origin, """
        const {StreamClient} = await import('/console/static/js/stream.js');
        const client = new StreamClient({url: arg.url, token: arg.token});
        const welcomed = new Promise(resolve => client.addEventListener('welcome', resolve, {once: true}));
        client.start();
        await welcomed;
        const started = performance.now();
        // a publish with no alert: the relay answers, but the client stops before it can
        const waiting = client.request({type: 'publish', id: 'in-flight'}).then(() => 'answered', (e) => e.name);
        client.stop();
        return [await waiting, performance.now() - started < 2000];
    """, {"url": relay.url, "token": tokens["FR-CDG-OFAST"]})
    assert ["Disconnected", True] == result


async def test_the_feed_holds_10000_alerts_in_a_bounded_page_and_a_live_one_still_comes_on_top(chrome, relay, tokens):
    await seed_alerts(relay, tokens["ML-BKO-JAITF"], MANY, to="FR-ORY-DNRED")
    context, partner = await new_page(chrome)
    try:
        await sign_in(partner, relay, tokens["FR-ORY-DNRED"])
        summary = partner.locator("#feed-summary")
        await expect(summary).to_have_text("Alerts 1 to 50 of 10,000, newest first", timeout=60_000)
        cards = partner.locator("#feed-list article.card")
        await expect(cards).to_have_count(50)
        await expect(cards.first.locator(".summary")).to_have_text(f"seeded alert {MANY - 1}")
        await partner.get_by_role("button", name="Older alerts", exact=True).click()
        await expect(summary).to_have_text("Alerts 51 to 100 of 10,000, newest first")
        await expect(cards.first.locator(".summary")).to_have_text(f"seeded alert {MANY - 51}")

        await publish(relay, tokens["ML-BKO-JAITF"], passenger_alert("live after ten thousand", units=["FR-ORY-DNRED"]))
        newest = partner.locator("#feed-newest")
        await expect(newest).to_have_text("1 new alert(s): show the newest")
        await expect(cards.first.locator(".summary")).to_have_text(f"seeded alert {MANY - 51}")  # the reader's page stays
        await newest.click()
        await expect(cards.first.locator(".summary")).to_have_text("live after ten thousand")
        await expect(summary).to_have_text("Alerts 1 to 50 of 10,001, newest first")
        await expect(cards).to_have_count(50)
        assert [] == partner.console_errors
    finally:
        await context.close()


async def test_only_an_alerts_own_unit_at_its_own_relay_changes_it_in_the_feed(origin):
    """A cancel or update naming another unit's alert (e.g. from a peer relay: a forgery)
    is shown alone, never applied to that alert; and one that came first does not hide
    the real alert when it arrives (docs/federation.md)."""
    result = await run(origin, FEED + """
        const state = new FeedState();
        state.apply(alert(1, 'a', {origin_relay: 'FR', origin_unit: 'FR-CDG-OFAST'}));
        state.apply(alert(2, 'x', {msg_type: 'cancel', references: 'a', origin_relay: 'SN',
                                   origin_unit: 'FR-CDG-OFAST', summary: 'forged'}));
        state.apply(alert(3, 'y', {msg_type: 'cancel', references: 'z', origin_relay: 'SN',
                                   origin_unit: 'SN-DSS-JAITF', summary: 'forged early'}));
        state.apply(alert(4, 'z', {origin_relay: 'FR', origin_unit: 'FR-CDG-OFAST', summary: 'real z'}));
        state.apply(alert(5, 'a2', {msg_type: 'update', references: 'a', origin_relay: 'FR',
                                    origin_unit: 'FR-CDG-OFAST', summary: 'real update'}));
        const a = state.byKey.get('a'), z = state.byKey.get('z');
        return {a: [a.cancelled, a.alert.summary], z: [z.cancelled, z.partial, z.alert.summary],
                alone: ['x', 'y'].map(k => state.byKey.get(k)?.cancelled),
                keys: state.page(0, 10).map(e => e.key).sort()};
    """)
    assert [False, "real update"] == result["a"]
    assert [False, False, "real z"] == result["z"]
    assert [True, True] == result["alone"]
    assert ["a", "x", "y", "z"] == result["keys"]
