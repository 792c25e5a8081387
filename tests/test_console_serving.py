"""The console as the relay serves it (console.md "Serving"), over HTTP, without a browser:
its paths need no token (but the unit directory), every response carries the security
headers, the stream's URL and the CSP's connect-src agree, the problem sentences come
from the relay's own catalogue, and the files are the package's. Pure tests of the
policy (stream URL, CSP, public paths) and of the files themselves beside them.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
import orjson
import pytest
from multidict import CIMultiDict

from relay.config import ConfigError, StreamConfig, load_config
from relay.console.catalog import CHOICES, MAX_PROBLEMS, render_problems
from relay.console.policy import content_security_policy, is_public_path, stream_url
from relay.console.routes import STATIC_DIR, ConsoleFiles
from relay.contract import model
from relay.contract.problems import PROBLEM_CODES
from relay.contract.problems_fr import problem_text
from tests.conftest import running_relay
from tests.support import ROOT, TIMEOUT, create_unit, run_relay
from tests.test_problems import PARAMS


async def fetch(url: str, *, method: str = "GET", token: str | None = None, body: object = None,
                headers: dict[str, str] | None = None) -> tuple[int, CIMultiDict[str], bytes]:
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession(auto_decompress=False) as http, http.request(
            method, url, headers=sent, data=None if body is None else orjson.dumps(body),
            timeout=aiohttp.ClientTimeout(TIMEOUT)) as response:
        return response.status, CIMultiDict(response.headers), await response.read()


def directives(csp: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in csp.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


# -- pure: the policy ---------------------------------------------------------------------

def test_the_stream_url_is_the_configured_public_url_when_there_is_one():
    stream = StreamConfig(host="0.0.0.0", port=8765, public_url="wss://relay.example.org/v1/stream")
    assert "wss://relay.example.org/v1/stream" == stream_url(stream, "relay.example.org")


@pytest.mark.parametrize(("stream", "host", "expected"), [
    (StreamConfig(host="127.0.0.1", port=8765), "127.0.0.1:8080", "ws://127.0.0.1:8765/v1/stream"),
    (StreamConfig(host="10.1.2.3", port=9000, tls_cert="c", tls_key="k"), "x:1", "wss://10.1.2.3:9000/v1/stream"),
    (StreamConfig(host="::1", port=8765), "[::1]:8080", "ws://[::1]:8765/v1/stream"),
    (StreamConfig(host="0.0.0.0", port=8765), "relay.bko.example:8080", "ws://relay.bko.example:8765/v1/stream"),
    (StreamConfig(host="::", port=8765), "[fd00::5]:8080", "ws://[fd00::5]:8765/v1/stream"),
    (StreamConfig(host="0.0.0.0", port=8765), "evil host; script-src *", "ws://localhost:8765/v1/stream"),
    (StreamConfig(host="0.0.0.0", port=8765), None, "ws://localhost:8765/v1/stream"),
])
def test_without_a_public_url_the_stream_url_is_its_listener_or_the_host_the_browser_used(stream, host, expected):
    """A wildcard listener is no address a browser can use: the host of the page stands in,
    and only if it is a plain host name or address (it goes into a CSP header)."""
    assert expected == stream_url(stream, host)


def test_the_csp_allows_scripts_from_the_relay_only_and_connections_to_exactly_the_stream():
    policy = directives(content_security_policy("ws://127.0.0.1:8765/v1/stream"))
    assert ["'self'"] == policy["script-src"] == policy["style-src"] == policy["worker-src"]
    assert ["'self'", "ws://127.0.0.1:8765/v1/stream"] == policy["connect-src"]
    assert ["'none'"] == policy["default-src"] == policy["frame-ancestors"] == policy["base-uri"]
    assert "unsafe" not in content_security_policy("ws://x/v1/stream")


@pytest.mark.parametrize(("path", "public"), [
    ("/", True), ("/console/static/js/main.js", True), ("/console/config.json", True),
    ("/console/sw.js", True), ("/console/problems", True), ("/console/reference.json", True),
    ("/console/directory.json", False), ("/v1/alerts", False), ("/consoles", False), ("/index.html", False),
])
def test_every_console_path_but_the_unit_directory_is_public(path, public):
    assert public == is_public_path(path)


@pytest.mark.parametrize("value", [
    "http://relay.example.org/v1/stream", "ws://relay example/v1/stream", "ws://relay.example.org/v1/stream?x=1",
    "ws://relay.example.org/v1/stream#f", "ws://user@relay.example.org/", "ws://relay.example.org:0/",
    "ws://relay.example.org:70000/", "wss://relay.example.org/a;script-src *", "wss://", "relay.example.org",
    "wss://relay.example.org/'self'",
])
def test_a_bad_public_url_stops_the_relay_naming_the_key(tmp_path, value):
    config = tmp_path / "relay.toml"
    config.write_text(f'[stream]\npublic_url = "{value}"\n')
    with pytest.raises(ConfigError, match=r"stream\.public_url"):
        load_config(config, environ={})


def test_the_public_url_comes_from_the_file_or_the_environment(tmp_path):
    config = tmp_path / "relay.toml"
    config.write_text('[stream]\npublic_url = "wss://relay.example.org/v1/stream"\n')
    assert "wss://relay.example.org/v1/stream" == load_config(config, environ={}).stream.public_url
    env = {"RELAY_STREAM_PUBLIC_URL": "ws://[::1]:9999/stream"}
    assert "ws://[::1]:9999/stream" == load_config(config, environ=env).stream.public_url
    assert "" == load_config(None, environ={}).stream.public_url


# -- pure: the problem sentences and the files ----------------------------------------------

@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_problem_code_is_rendered_by_the_relay_s_own_catalogue(language):
    codes = sorted(PROBLEM_CODES)
    sentences = render_problems({"language": language, "problems": [
        {"code": code, "params": PARAMS.get(code, {})} for code in codes]})
    assert [problem_text(code, PARAMS.get(code, {}), language) for code in codes] == sentences


def test_a_problem_that_cannot_be_rendered_gives_none_and_a_bad_request_names_its_fault():
    assert [None, None, None, None] == render_problems({"language": "fr", "problems": [
        {"code": "no_such_code"}, {"code": "unknown_airport", "params": {}}, "required",
        {"code": "required", "params": []}]})
    for body, fault in [([], "JSON object"), ({"language": "de", "problems": []}, "language"),
                        ({"language": "fr"}, "problems"), ({"language": "fr", "problems": [], "x": 1}, "'x'"),
                        ({"language": "fr", "problems": [{}] * (MAX_PROBLEMS + 1)}, "at most")]:
        with pytest.raises(ValueError, match=fault):
            render_problems(body)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href", "action"):
            if values.get(name):
                self.links.append(str(values[name]))
        if tag == "script" and not values.get("src"):
            self.inline.append("script without src")
        self.inline += [f"{tag} {name}" for name, _ in attrs if name == "style" or name.startswith("on")]


def test_the_page_loads_nothing_from_elsewhere_and_has_no_inline_script_or_style():
    page = _Page()
    page.feed((STATIC_DIR / "index.html").read_text())
    assert [] == page.inline
    assert [] == [link for link in page.links if not re.fullmatch(r"(/console/[\w./-]*|#[\w-]+)", link)]


def test_the_scripts_put_no_markup_in_the_page_and_evaluate_nothing():
    """Alert text goes in as text (STYLE 15): no innerHTML and the like, no eval; and
    nothing is fetched from another origin."""
    banned = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|https?://")
    found = {str(path.relative_to(STATIC_DIR)): banned.findall(path.read_text())
             for path in STATIC_DIR.rglob("*.js")}
    assert {} == {name: hits for name, hits in found.items() if hits}
    assert [] == re.findall(r"url\(|@import|https?://", (STATIC_DIR / "console.css").read_text())


def test_the_built_package_holds_every_console_file(tmp_path):
    """An installed relay serves the console: the wheel carries static/ whole."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("relay-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    files = {f"relay/console/static/{name}" for name in ConsoleFiles.load().files}
    assert files and set() == files - names


# -- over HTTP, against a relay -----------------------------------------------------------

async def test_the_page_needs_no_token_and_carries_the_security_headers(relay):
    status, headers, body = await fetch(relay.http + "/")
    assert (200, "text/html; charset=utf-8") == (status, headers["Content-Type"])
    assert b'<script type="module" src="/console/static/js/main.js">' in body
    policy = directives(headers["Content-Security-Policy"])
    assert ["'self'", relay.url] == policy["connect-src"]
    assert ["'none'"] == policy["frame-ancestors"]
    assert ("nosniff", "no-referrer") == (headers["X-Content-Type-Options"], headers["Referrer-Policy"])


@pytest.mark.parametrize("path", ["/console/static/js/main.js", "/console/config.json", "/console/sw.js",
                                  "/console/static/nothing.js", "/console/nothing", "/console/directory.json"])
async def test_every_console_response_carries_the_security_headers_even_an_error(relay, path):
    status, headers, _ = await fetch(relay.http + path)
    assert status in (200, 401, 404)
    assert ("nosniff", "no-referrer") == (headers["X-Content-Type-Options"], headers["Referrer-Policy"])
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


async def test_every_file_is_served_as_it_is_in_the_package_with_its_type(relay):
    files = ConsoleFiles.load()
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
             ".json": "application/json", ".svg": "image/svg+xml", ".html": "text/html; charset=utf-8"}
    for name, file in files.files.items():
        if name == "sw.js":
            continue
        status, headers, body = await fetch(f"{relay.http}/console/static/{name}")
        assert (200, types[Path(name).suffix], file.body) == (status, headers["Content-Type"], body), name
        again, _, _ = await fetch(f"{relay.http}/console/static/{name}", headers={"If-None-Match": headers["ETag"]})
        assert 304 == again


async def test_the_service_worker_keeps_every_file_and_names_their_version(relay):
    status, headers, body = await fetch(relay.http + "/console/sw.js")
    assert (200, "/") == (status, headers["Service-Worker-Allowed"])
    files = ConsoleFiles.load()
    text = body.decode()
    _, _, config_body = await fetch(relay.http + "/console/config.json")
    version = orjson.loads(config_body)["version"]
    assert f'const VERSION = "{version}";' in text and version != files.version
    kept = orjson.loads(re.search(r"const PRECACHED = (\[.*?\]);", text)[1])
    assert "/" in kept and "/console/static/js/main.js" in kept and "/console/reference.json" in kept
    for url in kept:
        assert 200 == (await fetch(relay.http + url))[0], url
    _, config, _ = await fetch(relay.http + "/console/config.json")
    assert "no-store" == config["Cache-Control"]


async def test_the_console_finds_the_stream_at_the_url_its_csp_allows(relay):
    status, headers, body = await fetch(relay.http + "/console/config.json")
    config = orjson.loads(body)
    assert (200, relay.url) == (status, config["stream_url"])
    assert f"connect-src 'self' {relay.url};" in headers["Content-Security-Policy"]


async def test_behind_a_proxy_the_public_url_is_the_stream_s_for_the_console_and_its_csp(dsn, workdir):
    config = '[stream]\npublic_url = "wss://relay.example.org/v1/stream"\n'
    async with running_relay(dsn, workdir / "proxied", config) as relay:
        _, headers, body = await fetch(relay.http + "/console/config.json")
    assert "wss://relay.example.org/v1/stream" == orjson.loads(body)["stream_url"]
    assert ["'self'", "wss://relay.example.org/v1/stream"] == directives(headers["Content-Security-Policy"])["connect-src"]
    async with running_relay(dsn, workdir / "direct") as direct:
        _, _, direct_body = await fetch(direct.http + "/console/config.json")
    # Another stream address, another version: a browser's kept page (whose CSP names the
    # stream) is fetched again rather than left unable to connect.
    assert orjson.loads(direct_body)["version"] != orjson.loads(body)["version"]


async def test_the_relay_renders_problems_in_french_and_english_for_the_console(relay):
    problems = [{"code": "unknown_airport", "params": {"value": "QQQ"}}, {"code": "required"},
                {"code": "from_a_newer_relay"}]
    for language in ("fr", "en"):
        status, _, body = await fetch(relay.http + "/console/problems", method="POST",
                                      body={"language": language, "problems": problems})
        assert 200 == status
        assert [problem_text("unknown_airport", {"value": "QQQ"}, language),
                problem_text("required", {}, language), None] == orjson.loads(body)["sentences"]
    deep = "[" * 1000 + '"x"' + "]" * 1000  # deeper than Python's repr can go
    others = orjson.dumps([{"code": "not_one_of", "params": {"allowed": [{"a": 1}]}},
                           {"code": "unknown_unit", "params": {"value": "U" * 100_000}}]).decode()
    hostile = ('{"language": "fr", "problems": [{"code": "unknown_airport", "params": {"value": '
               + deep + "}}, " + others[1:-1] + "]}")
    async with aiohttp.ClientSession() as http, http.post(
            relay.http + "/console/problems", data=hostile.encode(),
            headers={"Content-Type": "application/json"}) as response:
        status, body = response.status, await response.read()
    assert (200, [None, None, None]) == (status, orjson.loads(body)["sentences"])
    status, _, body = await fetch(relay.http + "/console/problems", method="POST", body={"language": "xx"})
    assert (400, "bad_frame") == (status, orjson.loads(body)["code"])
    assert "language" in orjson.loads(body)["message"]


async def test_the_unit_directory_needs_a_publishing_unit_and_lists_active_units_and_regions(relay, dsn):
    publisher, token = await create_unit(dsn, "ML-BKO-DIRECTORY", country="ML", airport="BKO")
    _, reader = await create_unit(dsn, "FR-CDG-DIRECTORY", country="FR", roles="subscribe")
    gone, _ = await create_unit(dsn, "TG-LFW-GONE", country="TG")
    assert 0 == run_relay("units", "revoke", gone, dsn=dsn).returncode
    assert 401 == (await fetch(relay.http + "/console/directory.json"))[0]
    assert 403 == (await fetch(relay.http + "/console/directory.json", token=reader))[0]
    status, headers, body = await fetch(relay.http + "/console/directory.json", token=token)
    directory = orjson.loads(body)
    assert (200, "no-store") == (status, headers["Cache-Control"])
    assert {"unit_id": publisher, "country": "ML", "airport": "BKO", "name": "test"} in directory["units"]
    assert gone not in {unit["unit_id"] for unit in directory["units"]}
    assert all(set(unit) == {"unit_id", "country", "airport", "name"} for unit in directory["units"])
    assert {"G5-SAHEL": ["BF", "ML", "MR", "NE", "TD"], "MAGHREB": ["DZ", "MA", "TN"]} == directory["regions"]


async def test_the_reference_lists_are_the_contract_s_with_french_country_names(relay):
    status, headers, body = await fetch(relay.http + "/console/reference.json", headers={"Accept-Encoding": "gzip"})
    assert (200, "gzip") == (status, headers["Content-Encoding"])
    reference = orjson.loads(gzip.decompress(body))
    assert {name: list(values) for name, values in CHOICES.items()} == reference["choices"]
    assert list(model.RECEIPT_STATUSES) == reference["choices"]["receipt"]
    assert "ML" == reference["airports"]["BKO"][2] and "CDG" in reference["airports"]
    assert {"en": "Morocco", "fr": "Maroc"} == reference["countries"]["MA"]
    assert "XOF" in reference["currencies"]
