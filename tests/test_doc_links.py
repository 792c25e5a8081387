"""The documents stand alone (issue 10, item 12): every relative link in README.md and
docs/*.md leads to a file of the repository, and to a heading of it when it names one
(`file.md#anchor`, `#anchor`); nothing points outside the repository, such as the
project's `../shared` folder, which a clone does not have."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests.support import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`+[^`\n]*`+")
_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.MULTILINE)
_HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")


def prose(text: str) -> str:
    """The text without code blocks and code spans, where brackets are not links."""
    return _CODE.sub("", _FENCE.sub("", text))


def links(text: str) -> list[str]:
    return _LINK.findall(prose(text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text in lower case, links and code marks
    taken off, every character but letters, digits, spaces, '-' and '_' dropped,
    spaces made hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    kept = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    found: set[str] = set()
    seen: Counter[str] = Counter()
    for _, heading in _HEADING.findall(text):
        base = slug(heading)
        found.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
        seen[base] += 1
    return found | set(_HTML_ANCHOR.findall(text))


def broken_links(document: Path, root: Path = ROOT) -> list[str]:
    """Each relative link of ``document`` that leads nowhere or out of ``root``, with
    the reason."""
    problems = []
    for target in links(document.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path_part, _, anchor = target.partition("#")
        linked = (document.parent / path_part).resolve() if path_part else document
        if not linked.is_relative_to(root.resolve()):
            problems.append(f"{target}: outside the repository")
        elif not linked.exists():
            problems.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{target}: no heading with that anchor in {linked.name}")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_leads_to_a_file_and_heading_of_the_repository(document):
    assert [] == broken_links(document)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_nothing_points_to_the_shared_folder_outside_the_repository(document):
    """Neither a link nor a mention in the text: a reader of a clone has no ../shared."""
    text = document.read_text(encoding="utf-8")
    assert [] == [line for line in text.splitlines() if "../shared" in line]


def test_the_documents_have_links_to_check():
    """The checks above read real links: README.md links to every page of docs/, and
    the pages link to each other's headings."""
    readme = set(links((ROOT / "README.md").read_text(encoding="utf-8")))
    assert {f"docs/{page.name}" for page in DOCUMENTS[1:]} <= readme
    assert sum("#" in target for page in DOCUMENTS for target in links(page.read_text(encoding="utf-8"))) > 20


def test_a_missing_file_a_missing_heading_and_a_way_out_are_reported(tmp_path):
    """The link check itself, on a page with one good and three bad links (and two
    in code, which are not links)."""
    docs = tmp_path / "repository" / "docs"
    docs.mkdir(parents=True)
    (docs / "deployment.md").write_text((ROOT / "docs" / "deployment.md").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    text = ("[ok](deployment.md#2-run-it-with-systemd) [gone](nowhere.md) "
            "[no heading](deployment.md#no-such-heading) [out](../../shared/spec/protocol.md) "
            "`[in code](nowhere.md)`\n```\n[in a block](nowhere.md)\n```\n")
    probe = docs / "probe.md"
    probe.write_text(text, encoding="utf-8")
    assert ["nowhere.md: no such file",
            "deployment.md#no-such-heading: no heading with that anchor in deployment.md",
            "../../shared/spec/protocol.md: outside the repository"] == broken_links(
        probe, tmp_path / "repository")


def test_anchors_follow_github_s_rule():
    """Headings of the kinds our pages have, and the anchors GitHub gives them."""
    assert "publish-needs-role-publish" == slug("publish (needs role `publish`)")
    assert "idempotency-what-to-do-when-no-ack-arrives" == slug("Idempotency: what to do when no ack arrives")
    assert "example-1-passenger-alert-bamako--casablanca--paris" == slug(
        "Example 1: passenger alert Bamako → Casablanca → Paris")
    assert "relays-choices-in-one-list" == slug("Relay's choices in one list")
    assert "2-run-it-with-systemd" == slug("2. Run it with systemd")
