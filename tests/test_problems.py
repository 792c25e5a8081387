"""relay.contract.problems: every problem has a stable code, params and an English sentence."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from relay.contract.errors import InvalidAlert
from relay.contract.problems import PROBLEM_CODES, Problem, quoted, span

ROOT = Path(__file__).resolve().parent.parent

# Typical params of each code, as the relay gives them.
PARAMS = {
    "required_for_kind": {"kind": "seizure", "field": "seizures", "low": 1, "high": 50},
    "not_one_of": {"allowed": ["a", "b"]}, "item_count": {"low": 1, "high": 50},
    "length": {"low": 1, "high": 200}, "string_length": {"low": 1, "high": 64},
    "min_integer": {"low": 0}, "integer_range": {"low": 1, "high": 500},
    "too_large": {"size": 70000, "limit": 65536}, "cannot_encode": {"reason": "too big"},
    "unknown_airport": {"value": "QQQ"}, "bad_country": {"value": "fr"},
    "bad_language_tag": {"value": "xx-yy"}, "unknown_unit": {"value": "XX-NOBODY"},
    "unknown_region": {"value": "ATLANTIS", "known": ["G5-SAHEL"]},
    "bad_seizure_unit": {"units": ["kg", "g"]},
    "currency_only_for_cash": {"unit": "EUR", "units": ["kg", "g"]},
    "not_a_real_moment": {"value": "2026-02-30T00:00:00Z"},
    "not_a_real_date": {"value": "2026-02-30"}, "not_after": {"other": "sent_at"},
    "references_required": {"msg_type": "update"},
    "route_end": {"end": "origin", "expected": "BKO"}, "kind_of_referenced": {"kind": "seizure"},
    "beyond_head": {"head": 12}, "control_character": {"character": "U+0001"},
    "too_deep": {"limit": 32}, "too_slow": {"seconds": 10.0},
    "already_exists": {"value": "ML-BKO-JAITF"}, "unit_suspended": {"value": "ML-BKO-JAITF"},
    "not_suspended": {"value": "ML-BKO-JAITF"}, "unknown_token": {"value": "tok_abc"},
    "already_revoked": {"value": "tok_abc"}, "bad_header": {"expected": "unit_id,country"},
    "column_count": {"expected": 5, "found": 4}, "repeated_in_file": {"line": 3},
    "unknown_peer": {"value": "SN"}, "peer_revoked": {"value": "SN"},
}


@pytest.mark.parametrize("code", sorted(PROBLEM_CODES))
def test_every_code_renders_a_sentence_and_travels_with_its_params(code):
    """No code lacks a sentence or fails on the params the relay gives it."""
    problem = Problem("field", code, PARAMS.get(code, {}))
    sentence = problem.problem
    assert sentence and "{" not in sentence.replace('{"all"', "")
    assert {"field": "field", "problem": sentence, "code": code,
            "params": PARAMS.get(code, {})} == problem.as_dict()


def test_an_unknown_code_is_refused_at_once():
    """A typo in a code is a defect found where the problem is made, not on the wire."""
    with pytest.raises(ValueError, match="no sentence"):
        Problem("field", "no_such_code")


def codes_in_the_code_base() -> set[str]:
    """Every string literal given as the code of a Problem or checker.bad() in relay/,
    read by a Python process of its own: CPython 3.11 counts the depth of AST construction
    once per interpreter, and another thread of this one parsing at the same moment makes
    ``ast.parse`` fail with "AST constructor recursion depth mismatch" (SystemError,
    python/cpython#106905; it failed a full run once)."""
    scan = "import json; from tests.test_problems import parsed_codes; print(json.dumps(sorted(parsed_codes())))"
    result = subprocess.run([sys.executable, "-c", scan], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=True)
    return set(json.loads(result.stdout))


def parsed_codes() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "relay").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            code = node.args[1]
            if name in ("Problem", "bad") and isinstance(code, ast.Constant) and isinstance(code.value, str):
                found.add(code.value)
    return found


def test_every_code_the_relay_gives_has_a_sentence_and_none_is_unused():
    """The catalogue and the code base name the same codes."""
    used = codes_in_the_code_base()
    assert set() == used - PROBLEM_CODES
    assert set() == PROBLEM_CODES - used - {"set_by_relay"}  # chosen in specs.Record.check_keys


def test_quoted_values_are_cut_and_spans_read_naturally():
    """Values over 40 characters end with an ellipsis; spans say 'at most', 'to', 'at least'."""
    assert "'abc'" == quoted("abc")
    assert quoted("x" * 41).endswith("'…") and len(quoted("x" * 41)) == 43
    assert ["at most 50 items", "1 to 50 items", "at least 2 items"] == [
        span({"high": 50}, "items"), span({"low": 1, "high": 50}, "items"),
        span({"low": 2}, "items")]


def test_an_invalid_alert_lists_each_problem_with_code_and_params_on_the_wire():
    """The error body carries code and params beside field and problem."""
    error = InvalidAlert("the alert has 1 problem",
                         [Problem("priority", "not_one_of", {"allowed": ["routine", "urgent"]})])
    assert {"type": "error", "id": "p-1", "code": "invalid_alert",
            "message": "the alert has 1 problem",
            "details": [{"field": "priority", "problem": "must be one of routine, urgent",
                         "code": "not_one_of", "params": {"allowed": ["routine", "urgent"]}}],
            } == error.body("p-1")


def test_every_code_is_documented_with_its_params_in_the_protocol_guide():
    """docs/protocol.md's table lists each code once, with the params the relay gives it,
    so a partner writing a client can translate every problem it may receive."""
    rows = {}
    for line in (ROOT / "docs" / "protocol.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0][1:-1] in PROBLEM_CODES:
            rows[cells[0][1:-1]] = cells[1]
    assert set() == PROBLEM_CODES - set(rows)
    for code, params in rows.items():
        documented = set() if params == "—" else {p.strip(" `") for p in params.split(",")}
        assert set(PARAMS.get(code, {})) == documented, code
