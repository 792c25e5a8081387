"""Helpers of the console's browser tests (tests/test_console_*.py) and of the
screenshots script (bench/console_screenshots.py): Debian's Chromium driven by
Playwright, a relay whose stream browsers reach through a proxy that can cut the link,
signing in, and alerts to publish.

Chromium is the system's (``/usr/bin/chromium``, installed by scripts/test.sh when it is
missing): this machine cannot download Playwright's own browsers. Playwright gives each
launch a fresh profile directory (its ``--user-data-dir``), and the flags below keep the
browser from calling out (console.md "Serving": the console works from the relay alone).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.support import TIMEOUT, RelayProcess, create_unit, stream_client

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
MS = TIMEOUT * 1000  # Playwright's time-outs are in milliseconds

REGIONS = """
[regions]
"G5-SAHEL" = ["BF", "ML", "MR", "NE", "TD"]
"MAGHREB" = ["MA", "DZ", "TN"]
"""


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[tuple[Playwright, Browser]]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield playwright, browser
        finally:
            await browser.close()


class LinkProxy:
    """A TCP proxy in front of the stream, whose link can be cut for real: ``cut()``
    resets every connection (no WebSocket close) and refuses new ones until
    ``restore()``; the console must reconnect by itself and resume with ``since``."""

    def __init__(self) -> None:
        self.target_port: int | None = None
        self.up = True
        self.connections = 0
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()

    def cut(self) -> None:
        self.up = False
        for client, upstream in list(self._links):
            client.transport.abort()
            upstream.transport.abort()

    def restore(self) -> None:
        self.up = True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up or self.target_port is None:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        link = (writer, up_writer)
        self._links.add(link)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._links.discard(link)
            writer.transport.abort()
            up_writer.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError, ConnectionError, RuntimeError):
        writer.close()


@contextlib.asynccontextmanager
async def console_relay(dsn: str, workdir: Path) -> AsyncIterator[tuple[RelayProcess, LinkProxy]]:
    """A relay whose ``[stream] public_url`` is a :class:`LinkProxy` in front of its
    stream: the console's CSP and its connections go through the proxy."""
    proxy = LinkProxy()
    await proxy.start()
    process = RelayProcess(dsn, workdir, config_text=REGIONS + f'\n[stream]\npublic_url = "ws://127.0.0.1:{proxy.port}/v1/stream"\n')
    proxy.target_port = process.stream_port
    await process.start()
    try:
        yield process, proxy
    finally:
        await process.stop()
        await proxy.stop()


async def new_page(browser: Browser, *, language: str = "en-GB", viewport: dict[str, int] | None = None,
                   **options: Any) -> tuple[BrowserContext, Page]:
    """A fresh browser context (its own storage, like another person's browser) and a page
    that fails the test on any script error of the console."""
    context = await browser.new_context(locale=language, viewport=viewport or DESKTOP, **options)
    context.set_default_timeout(MS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors  # type: ignore[attr-defined]
    journal: list[str] = []  # what the page did, for the message of a failed test
    page.on("console", lambda message: journal.append(f"console {message.type}: {message.text}"))
    page.on("websocket", lambda ws: (journal.append(f"websocket {ws.url}"),
                                     ws.on("close", lambda _: journal.append("websocket closed")),
                                     ws.on("socketerror", lambda e: journal.append(f"websocket error {e}"))))
    page.on("requestfailed", lambda request: journal.append(f"failed {request.url} {request.failure}"))
    page.journal = journal  # type: ignore[attr-defined]
    return context, page


async def connection_state(page: Page) -> str:
    return str(await page.locator("#connection").get_attribute("data-state"))


async def sign_in(page: Page, relay: RelayProcess, token: str, *, token_label: str = "Token",
                  button: str = "Sign in") -> None:
    """Open the console and sign in; returns once the relay has welcomed the unit."""
    await page.goto(relay.http + "/")
    sign_in_button = page.get_by_role("button", name=button, exact=True)
    await expect(sign_in_button).to_be_enabled()  # the console's script is running
    await page.get_by_label(token_label, exact=True).fill(token)
    await sign_in_button.click()
    try:
        await page.locator("#connection[data-state=connected]").wait_for()
    except PlaywrightTimeout:
        online = await page.evaluate("navigator.onLine")
        raise AssertionError(f"not connected: {await connection_state(page)} (onLine {online}); "
                             f"page: {page.journal}; relay log: {relay.log()[-1500:]}") from None


def passenger_alert(summary: str, *, units: list[str], priority: str = "flash", **extra: Any) -> dict[str, Any]:
    """A valid passenger alert addressed to ``units``."""
    alert: dict[str, Any] = {
        "kind": "passenger", "priority": priority, "tlp": "amber",
        "distribution": {"units": units}, "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "summary": summary, "language": "en",
        "flight": {"number": "AT571", "date": "2026-11-23", "origin": "BKO", "destination": "CDG",
                   "route": ["BKO", "CMN", "CDG"]},
        "subjects": [{"role": "courier", "surname": "DOE", "given_names": "John"}],
        "requested_action": "intercept",
    }
    alert.update(extra)
    return alert


async def publish(relay: RelayProcess, token: str, alert: dict[str, Any]) -> dict[str, Any]:
    """Publish over HTTP (the contract's POST /v1/alerts); the ack."""
    async with aiohttp.ClientSession() as http, http.post(
            relay.http + "/v1/alerts", data=orjson.dumps(alert),
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}) as response:
        body = orjson.loads(await response.read())
        assert 201 == response.status, body
        return dict(body)


async def seed_alerts(relay: RelayProcess, token: str, count: int, *, to: str) -> None:
    """``count`` alerts to ``to`` published on one stream connection, the next sent while
    the relay commits the earlier ones (it reads at most ``stream.max_in_flight`` ahead)."""
    async with stream_client(relay, token, encoding="relay.v1.msgpack") as client:
        run_id = uuid.uuid4().hex[:8]

        async def send() -> None:
            for n in range(count):
                await client.send({"type": "publish", "id": f"seed-{run_id}-{n}",
                                   "alert": passenger_alert(f"seeded alert {n}", units=[to], priority="urgent")})
        sender = asyncio.create_task(send())
        for _ in range(count):
            frame = await client.recv(timeout=60)
            assert "ack" == frame["type"], frame
        await sender


async def api_get(relay: RelayProcess, token: str, path: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(
            relay.http + path, headers={"Authorization": f"Bearer {token}"}) as response:
        assert 200 == response.status, await response.text()
        return orjson.loads(await response.read())


# -- a relay with something in every view, and the way to each view ------------------------
# (tests/test_console_a11y.py audits each; bench/console_screenshots.py photographs each)

UNITS = {  # unit id → (country, airport, roles)
    "ML-BKO-JAITF": ("ML", "BKO", "publish,subscribe"),
    "FR-CDG-OFAST": ("FR", "CDG", "publish,subscribe"),
    "EU-AUDIT-OFFICE": ("BE", None, "audit"),
    "ML-ADMIN-DGPN": ("ML", None, "admin"),
}
# The views, by the unit that sees them, in the order they are visited.
VIEWS_BY_UNIT = {
    "FR-CDG-OFAST": ("feed", "alert"),
    "ML-BKO-JAITF": ("new-alert", "new-alert-problems"),
    "EU-AUDIT-OFFICE": ("history", "audit"),
    "ML-ADMIN-DGPN": ("units",),
}
VIEWS = ("signin", *(view for views in VIEWS_BY_UNIT.values() for view in views))


async def seed_console(relay: RelayProcess, dsn: str) -> dict[str, str]:
    """The units of :data:`UNITS` (their tokens) and alerts of every kind the feed shows:
    flash, exercise, test, a seizure, one updated, one cancelled, one answered."""
    tokens = {}
    for unit_id, (country, airport, roles) in UNITS.items():
        _, tokens[unit_id] = await create_unit(dsn, unit_id, country=country, airport=airport, roles=roles)
    officer, to = tokens["ML-BKO-JAITF"], ["FR-CDG-OFAST"]
    await publish(relay, officer, passenger_alert("Exercise: courier profile on the Bamako–Paris route", units=to,
                                                  priority="urgent", status="exercise"))
    seizure = {"kind": "seizure", "priority": "routine", "tlp": "green", "distribution": {"countries": ["FR", "MA"]},
               "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
               "summary": "4.2 kg of cocaine in the lining of two suitcases, checked baggage", "language": "en",
               "seizures": [{"commodity": "cocaine", "quantity": 4.2, "unit": "kg"},
                            {"commodity": "cash", "quantity": 12500, "unit": "EUR"}],
               "concealment": "checked_baggage", "detection": "xray", "location": "BKO",
               "occurred_at": datetime.now(UTC).isoformat(timespec="seconds")}
    await publish(relay, officer, seizure)
    first = await publish(relay, officer, passenger_alert("Courier expected on AT571, seat 23C; intercept at the gate",
                                                          units=to, priority="urgent"))
    await publish(relay, officer, passenger_alert("Courier expected on AT571: now seat 31A, travelling with a minor",
                                                  units=to, priority="urgent", msg_type="update",
                                                  references=first["alert_id"]))
    cancelled = await publish(relay, officer, passenger_alert("Test of the alert chain, please ignore", units=to,
                                                              priority="routine", status="test"))
    await publish(relay, officer, passenger_alert("Test of the alert chain: over", units=to, priority="routine",
                                                  status="test", msg_type="cancel", references=cancelled["alert_id"]))
    flash = await publish(relay, officer, passenger_alert("Suspected ingestion courier boarding AT571 BKO–CMN–CDG",
                                                          units=to, priority="flash"))
    async with stream_client(relay, tokens["FR-CDG-OFAST"]) as partner:
        reply = await partner.request({"type": "receipt", "alert_id": flash["alert_id"], "status": "in_progress",
                                       "note": "team at gate 12"})
        assert "ack" == reply["type"], reply
    return tokens


async def visit_views(page: Page, relay: RelayProcess, tokens: dict[str, str]) -> AsyncIterator[str]:
    """Bring ``page`` to each view of :data:`VIEWS` in turn, ready to look at, and yield
    its name: the sign-in page, then each unit's views (signed in once per unit)."""
    await page.goto(relay.http + "/")
    await expect(page.locator("#sign-in")).to_be_enabled()
    yield "signin"
    for unit, views in VIEWS_BY_UNIT.items():
        await page.locator("#token").fill(tokens[unit])
        await page.locator("#sign-in").click()
        await page.locator("#connection[data-state=connected]").wait_for()
        for view in views:
            await _prepare(page, view)
            yield view
        if await page.locator("#detail").is_visible():
            await page.locator("#detail-close").click()
        await page.locator("#sign-out").click()
        await expect(page.locator("#sign-in")).to_be_visible()


async def _prepare(page: Page, view: str) -> None:
    name = {"alert": "feed", "new-alert-problems": "new-alert"}.get(view, view)
    await page.locator(f"#views-nav a[data-view={name}]").click()
    await expect(page.locator(f"#view-{name}")).to_be_visible()
    if view == "feed":
        await expect(page.locator("#feed-list article.card")).to_have_count(5)
    if view == "alert":
        await page.locator("#feed-list article.card.priority-flash .card-actions button").first.click()
        await expect(page.locator("#detail-body h3").first).to_be_visible()
    if view == "new-alert":
        await expect(page.locator("#f-distribution-units option")).not_to_have_count(0)
        await expect(page.locator("#my-alerts li").first).to_be_visible()
    if view == "new-alert-problems":
        await page.locator("#f-summary").fill("Courier on a flight")
        await page.locator("#f-flight-number").fill("12345")
        await page.locator("#f-flight-origin").fill("QQQ")
        await page.locator("#f-distribution-units").select_option("FR-CDG-OFAST")
        await page.locator("#send").click()
        await expect(page.locator("#form-errors")).to_be_visible()
    if view == "history":
        await expect(page.locator("#history-rows tr").first).to_be_visible()
    if view == "audit":
        await page.locator("#verify").click()
        await expect(page.locator("#verify-result .verdict")).to_be_visible()
        await expect(page.locator("#access-rows tr").first).to_be_visible()
    if view == "units":
        await page.locator("#units-rows tr").filter(has_text="FR-CDG-OFAST").locator("button").first.click()
        await expect(page.locator("#token-rows tr").first).to_be_visible()
    await page.evaluate("document.fonts.ready")
