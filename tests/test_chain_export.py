"""An NDJSON export that proves itself: its lines (relay/store/chain_export.py), their
verification from the file alone, and ``relay audit verify --export`` on exports fetched
from a real relay, untouched, tampered with and filtered.

The first tests drive the pure verifier on chains built with the documented formula; the
others publish alerts and receipts through a relay, fetch the export over HTTP and run
the command as an auditor would, with no database within reach."""

from __future__ import annotations

import asyncio
import json
import string
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from relay.cli import messages  # noqa: F401 - registers the command's sentences
from relay.contract.i18n import CATALOG
from relay.contract.personal import canonical, commitment, content_digest, splice_personal
from relay.store.chain import GENESIS, event_hash, sealed_hash
from relay.store.chain_export import PROBLEM_CODES, export_line, verify_export
from tests.alert_examples import passenger_alert, seizure_alert
from tests.support import create_unit, run_relay, stream_client

Lines = list[bytes]


# -- the pure verifier -------------------------------------------------------------------


SALT = bytes(range(16))
MASKED_AT = "2027-05-25T08:00:00Z"


def chain(count: int, *, sealed_from: int | None = None) -> Lines:
    """Export lines of a log of ``count`` events, every third a receipt. From seq
    ``sealed_from`` on, alerts are sealed as the relay stores them since migration 010
    (chain version 2): the stored body without the subject's surname, its commitment, the
    digest; shown with the surname, or masked (every fourth seq): with masked_at, without it."""
    lines, prev = [], GENESIS
    for seq in range(1, count + 1):
        kind = "receipt" if seq % 3 == 0 else "alert"
        event = {"alert_id": f"a-{seq}", "summary": "café « x » \"y\"", "n": seq, "flag": True}
        if kind == "receipt" or sealed_from is None or seq < sealed_from:
            body = orjson.dumps(event)
            digest = event_hash(prev, seq, kind, body)
            lines.append(export_line(seq=seq, kind=kind, hash=digest, prev_hash=prev, body_json=body))
        else:
            stored = {**event, "tlp": "amber", "subjects": [{"role": "courier"}]}
            commitments = [["subjects[0].surname", commitment(SALT, f"DOE {seq}")]]
            digest, content = sealed_hash(prev, seq, kind, stored, commitments, None)
            shown = ({**stored, "masked_at": MASKED_AT} if seq % 4 == 0
                     else splice_personal(stored, [("subjects[0].surname", f"DOE {seq}")]))
            lines.append(export_line(seq=seq, kind=kind, hash=digest, prev_hash=prev,
                                     body_json=orjson.dumps(shown), stored_body=orjson.dumps(stored),
                                     commitments=canonical(commitments), content_digest=content))
        prev = digest
    return lines


def rehashed(data: dict[str, Any]) -> str:
    """The hash of a line's event over its stated previous hash, by its chain version: of
    a sealed alert, over its stored body and the digest the line states."""
    prev = bytes.fromhex(data["prev_hash"])
    if data.get("chain") == 2:
        return sealed_hash(prev, data["seq"], data["kind"], orjson.loads(data["body"]),
                           data["commitments"], bytes.fromhex(data["content_digest"]))[0].hex()
    return event_hash(prev, data["seq"], data["kind"], data["body"].encode()).hex()


def edit(line: bytes, change: Callable[[dict[str, Any]], None], *, body: bool = False,
         member: bool = True, rehash: bool = False) -> bytes:
    """The line with ``change`` applied to its event (member and/or body; for a sealed
    alert, the body's digest recomputed with it), its hash recomputed over its stated
    previous hash if ``rehash``."""
    data = orjson.loads(line)
    kind = data["kind"]
    if member:
        change(data[kind])
    if body:
        parsed = orjson.loads(data["body"])
        change(parsed)
        data["body"] = orjson.dumps(parsed).decode()
        if data.get("chain") == 2:
            data["content_digest"] = content_digest(parsed, data["commitments"]).hex()
    if rehash:
        data["hash"] = rehashed(data)
    return orjson.dumps(data) + b"\n"


def masked(line: bytes) -> bytes:
    """A sealed alert's line as the export shows it once the alert is masked."""
    data = orjson.loads(line)
    del data["alert"]["subjects"][0]["surname"]
    data["alert"]["masked_at"] = MASKED_AT
    return orjson.dumps(data) + b"\n"


def set_key(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda event: event.__setitem__(key, value)


def with_field(line: bytes, key: str, value: Any) -> bytes:
    data = orjson.loads(line)
    data[key] = value
    return orjson.dumps(data) + b"\n"


def without(lines: Lines, *indexes: int) -> Lines:
    return [line for i, line in enumerate(lines) if i not in indexes]


def swapped(lines: Lines, i: int, j: int) -> Lines:
    out = list(lines)
    out[i], out[j] = out[j], out[i]
    return out


def replaced(lines: Lines, i: int, line: bytes) -> Lines:
    out = list(lines)
    out[i] = line
    return out


def relinked(lines: Lines, i: int) -> Lines:
    """Line i given another previous hash and its hash recomputed: it links to neither
    neighbour."""
    data = orjson.loads(lines[i])
    data["prev_hash"] = "ab" * 32
    data["hash"] = rehashed(data)
    return replaced(lines, i, orjson.dumps(data) + b"\n")


def genesis_replaced(lines: Lines) -> Lines:
    data = orjson.loads(lines[0])
    data["prev_hash"] = "ab" * 32
    data["hash"] = rehashed(data)
    return [orjson.dumps(data) + b"\n"]


def respaced(line: bytes) -> bytes:
    """The line's body string with the same JSON value in other bytes."""
    data = orjson.loads(line)
    data["body"] = json.dumps(orjson.loads(data["body"]), ensure_ascii=False, indent=1)
    return orjson.dumps(data) + b"\n"


def set_subject(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda event: event["subjects"][0].__setitem__(key, value)


L = chain(8)  # a log stored before migration 010: every event of chain version 1
S = chain(8, sealed_from=4)  # upgraded after seq 3: alerts 4 and 8 masked, 5 and 7 not
LOGS = pytest.mark.parametrize("log", [L, S], ids=["chain v1", "sealed from seq 4"])
# (what was done, the lines, the line and seq named, the problem's code and parameters)
TAMPERED = [
    ("alert field changed in the member only", replaced(L, 3, edit(L[3], set_key("n", 40))),
     4, 4, "member_differs", {"member": "alert"}),
    ("true changed to 1 (equal in Python, not in JSON)",
     replaced(L, 3, edit(L[3], set_key("flag", 1))), 4, 4, "member_differs", {"member": "alert"}),
    ("receipt changed in the member only", replaced(L, 2, edit(L[2], set_key("n", 0))),
     3, 3, "member_differs", {"member": "receipt"}),
    ("field changed in both member and body", replaced(L, 3, edit(L[3], set_key("n", 40), body=True)),
     4, 4, "hash_mismatch", {}),
    ("a line removed", without(L, 4), 5, 5, "missing_seq", {"previous": 4, "found": 6}),
    ("the first line removed", without(L, 0), 1, 1, "missing_start", {"found": 2}),
    ("two lines swapped", swapped(L, 5, 6), 7, 6, "out_of_order", {"previous": 7}),
    ("the first two lines swapped", swapped(L, 0, 1), 2, 1, "out_of_order", {"previous": 2}),
    ("a line repeated", [*L[:4], L[3], *L[4:]], 5, 4, "out_of_order", {"previous": 4}),
    ("a hash recomputed for one line only",
     replaced(L, 3, edit(L[3], set_key("n", 40), body=True, rehash=True)),
     4, 4, "broken_link", {"next": 5}),
    ("a line's previous hash and hash rewritten", relinked(L, 3),
     4, 4, "relinked", {"previous": 3, "next": 5}),
    ("seq 1 not from the genesis", genesis_replaced(L), 1, 1, "not_genesis", {}),
    ("a truncated last line", [*L[:7], L[7][:50]], 8, None, "not_json", {}),
    ("a line that is not an object", replaced(L, 1, b"[1, 2]\n"), 2, None, "not_json", {}),
    ("no seq", replaced(L, 1, with_field(L[1], "seq", "2")), 2, None, "bad_field", {"field": "seq"}),
    ("an unknown kind", replaced(L, 1, with_field(L[1], "kind", "note")), 2, 2, "bad_field",
     {"field": "kind"}),
    ("a hash that is not hex", replaced(L, 1, with_field(L[1], "hash", "zz" * 32)), 2, 2,
     "bad_field", {"field": "hash"}),
    ("a body that is not a string", replaced(L, 1, with_field(L[1], "body", {"n": 2})), 2, 2,
     "bad_field", {"field": "body"}),
    ("the previous hash unknown", replaced(L, 1, with_field(L[1], "prev_hash", None)), 2, 2,
     "no_prev_hash", {}),
    ("an empty file", [], 0, None, "empty", {}),
    # a sealed alert (chain version 2): the alert shown is checked against its stored body,
    # the digest against the body and commitments, the hash over the kept fields and digest
    ("a sealed alert's field changed in the shown alert only",
     replaced(S, 4, edit(S[4], set_key("n", 50))), 5, 5, "member_differs", {"member": "alert"}),
    ("a sealed alert's true changed to 1 in the shown alert only",
     replaced(S, 6, edit(S[6], set_key("flag", 1))), 7, 7, "member_differs", {"member": "alert"}),
    ("a masked alert's field changed in the shown alert only",
     replaced(S, 3, edit(S[3], set_subject("role", "crew"))), 4, 4, "member_differs",
     {"member": "alert"}),
    ("a sealed alert's content changed in both, its digest recomputed",
     replaced(S, 4, edit(S[4], set_key("n", 50), body=True)), 5, 5, "hash_mismatch", {}),
    ("a sealed alert's kept field changed in both",
     replaced(S, 4, edit(S[4], set_key("tlp", "clear"), body=True)), 5, 5, "hash_mismatch", {}),
    ("a sealed alert's content digest changed only",
     replaced(S, 4, with_field(S[4], "content_digest", "ab" * 32)), 5, 5, "hash_mismatch", {}),
    ("a sealed alert's commitment changed",
     replaced(S, 6, with_field(S[6], "commitments", [["subjects[0].surname", "cd" * 32]])),
     7, 7, "hash_mismatch", {}),
    ("a sealed alert's body in other bytes of the same value",
     replaced(S, 4, respaced(S[4])), 5, 5, "hash_mismatch", {}),
    ("a sealed alert's content digest not hex",
     replaced(S, 4, with_field(S[4], "content_digest", "zz" * 32)), 5, 5, "bad_field",
     {"field": "content_digest"}),
    ("a hash recomputed for one sealed line only",
     replaced(S, 4, edit(S[4], set_key("n", 50), body=True, rehash=True)),
     5, 5, "broken_link", {"next": 6}),
    ("a sealed line's previous hash and hash rewritten", relinked(S, 4),
     5, 5, "relinked", {"previous": 4, "next": 6}),
    ("a sealed line removed", without(S, 6), 7, 7, "missing_seq", {"previous": 6, "found": 8}),
]


@LOGS
def test_an_untouched_export_verifies_and_says_what_it_covered(log):
    """Events counted by kind, first and last seq, and the newest hash."""
    report = verify_export(log)
    last = orjson.loads(log[-1])
    assert (None, 8, 6, 2, 1, 8, last["hash"], 1) == (
        report.problem, report.events, report.alerts, report.receipts, report.first_seq,
        report.last_seq, report.last_hash, report.runs)


def test_a_line_keeps_the_old_fields_first_and_carries_the_exact_body_bytes():
    """seq, hash and alert first, as before; then kind, prev_hash and the body whose UTF-8
    is the hashed bytes, whatever they hold."""
    body = '{"summary":"café «\\u00e9» \\"q\\" \\\\ \\n","n":1.50}'.encode()
    line = export_line(seq=7, kind="alert", hash=b"\x01" * 32, prev_hash=b"\x02" * 32, body_json=body)
    data = json.loads(line)
    assert line.startswith(b'{"seq":7,"hash":"' + b"01" * 32 + b'","alert":' + body + b',"kind":"alert"')
    assert (["seq", "hash", "alert", "kind", "prev_hash", "body"], body, "02" * 32) == (
        list(data), data["body"].encode("utf-8"), data["prev_hash"])


@LOGS
def test_an_export_rewritten_by_a_json_tool_still_verifies(log):
    """Key order, spacing and escapes are not what is hashed: the body string is."""
    rewritten = [json.dumps(json.loads(line), sort_keys=True, indent=None).encode() for line in log]
    assert verify_export([b"\n", *rewritten, b"  \n"]).problem is None


def test_a_sealed_alert_verifies_shown_with_its_personal_fields_and_once_masked():
    """A sealed alert's line shows its personal fields, or once masked masked_at without
    them: the same line verifies either way, with the same hash (masking changes nothing
    hashed), on its own and within its log."""
    unmasked = S[4]
    lines = [unmasked, masked(unmasked), S[3]]
    shown = [orjson.loads(line)["alert"] for line in lines]
    reports = [verify_export([line], filtered=True) for line in lines]
    assert [("DOE 5", None), (None, MASKED_AT), (None, MASKED_AT)] == [
        (alert["subjects"][0].get("surname"), alert.get("masked_at")) for alert in shown]
    assert [None] * 3 == [report.problem for report in reports]
    assert reports[0].last_hash == reports[1].last_hash == orjson.loads(unmasked)["hash"]
    assert verify_export(replaced(S, 4, masked(unmasked))).problem is None


@pytest.mark.parametrize(("done", "lines", "line", "seq", "code", "params"), TAMPERED,
                         ids=[case[0] for case in TAMPERED])
def test_each_tampering_is_named_by_its_line_and_seq(done, lines, line, seq, code, params):
    """The first problem stops the walk and names where it is and why."""
    problem = verify_export(lines).problem
    assert (line, seq, code, params) == (problem.line, problem.seq, problem.code, problem.params)


def test_every_problem_code_is_reached_and_has_a_sentence_in_both_languages():
    """The cases above reach every code, and the command can say each in English and
    French with the same placeholders."""
    def names(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    assert set(PROBLEM_CODES) == {case[4] for case in TAMPERED}
    for code in PROBLEM_CODES:
        english, french = CATALOG[f"relay.export_problem.{code}"]
        params = {key for case in TAMPERED if case[4] == code for key in case[5]}
        assert (params, params) == (names(english), names(french)), code


@LOGS
def test_a_filtered_export_verifies_each_run_and_says_where_the_first_gap_is(log):
    """Gaps and a late start are allowed with filtered=True; the runs are counted."""
    report = verify_export(without(log, 0, 3, 4), filtered=True)
    assert (None, 5, 2, 8, 2, 3) == (report.problem, report.events, report.first_seq,
                                     report.last_seq, report.runs, report.first_gap_after)


@LOGS
def test_a_filtered_export_still_catches_what_lies_within_its_lines(log):
    """Out of order lines, changed bodies and broken links between consecutive seqs."""
    lines = without(log, 0)
    moved = verify_export(swapped(lines, 3, 4), filtered=True).problem
    changed = verify_export(replaced(lines, 2, edit(lines[2], set_key("n", 0), body=True)),
                            filtered=True).problem
    relinked_run = verify_export(replaced(lines, 2, edit(lines[2], set_key("n", 0), body=True,
                                                         rehash=True)), filtered=True).problem
    assert [("out_of_order", 5), ("hash_mismatch", 4), ("broken_link", 4)] == [
        (p.code, p.seq) for p in (moved, changed, relinked_run)]


@LOGS
def test_what_a_filtered_export_cannot_prove_across_a_gap(log):
    """A line rehashed just before a gap verifies when filtered (nothing after it states
    its hash): only the complete export, or the head hash, shows it."""
    lines = replaced(log, 3, edit(log[3], set_key("n", 40), body=True, rehash=True))
    gapped = without(lines, 4)
    assert (None, "missing_seq") == (verify_export(gapped, filtered=True).problem,
                                     verify_export(gapped).problem.code)


# -- end to end: a relay, its export over HTTP, the command --------------------------------


class Story:
    """What the module's relay holds: 8 events, and a moment between the 3rd and 4th."""

    def __init__(self) -> None:
        self.middle: datetime | None = None
        self.token = ""
        self.head = 0
        self.head_hash = ""


@pytest.fixture(scope="module")
async def story(relay, dsn) -> Story:
    """seq 1 seizure, 2 passenger, 3 receipt of 1 | middle | 4 seizure, 5 receipt of 1,
    6 passenger, 7 receipt of 6, 8 seizure."""
    told = Story()
    _, origin = await create_unit(dsn, "ML-BKO-JAITF", country="ML")
    _, lome = await create_unit(dsn, "TG-LFW-CAAT", country="TG")
    _, casablanca = await create_unit(dsn, "MA-CMN-BNPJ", country="MA")
    await create_unit(dsn, "FR-CDG-OFAST", country="FR")
    _, told.token = await create_unit(dsn, "EU-AUDIT", country="BE", roles="audit")
    to_lome = {"countries": ["TG"]}
    async with stream_client(relay, origin) as bko, stream_client(relay, lome) as lfw, \
            stream_client(relay, casablanca) as cmn:
        first = await bko.publish(seizure_alert(distribution=to_lome))
        await bko.publish(passenger_alert())
        await lfw.request({"type": "receipt", "alert_id": first["alert_id"], "status": "received"})
        await asyncio.sleep(0.05)
        told.middle = datetime.now(UTC)
        await asyncio.sleep(0.05)
        await bko.publish(seizure_alert(distribution=to_lome))
        await lfw.request({"type": "receipt", "alert_id": first["alert_id"], "status": "positive",
                           "note": "courier stopped"})
        passenger = await bko.publish(passenger_alert())
        await cmn.request({"type": "receipt", "alert_id": passenger["alert_id"], "status": "in_progress"})
        await bko.publish(seizure_alert(distribution=to_lome))
    status, report = await http_get(relay, told.token, "/v1/audit/verify", {})
    assert (200, True, 8) == (status, orjson.loads(report)["intact"], orjson.loads(report)["head"])
    told.head, told.head_hash = 8, orjson.loads(report)["head_hash"]
    return told


async def http_get(relay, token: str, path: str, params: dict[str, str]) -> tuple[int, bytes]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http, \
            http.get(relay.http + path, params=params) as response:
        return response.status, await response.read()


async def export(relay, story: Story, tmp_path: Path, name: str, **params: str) -> Path:
    status, body = await http_get(relay, story.token, "/v1/audit/export", {"format": "ndjson", **params})
    assert 200 == status, body
    path = tmp_path / f"{name}.ndjson"
    path.write_bytes(body)
    return path


async def verify_cmd(*args: str) -> tuple[int, str]:
    """``relay audit verify --export ...`` with no database within reach: a database URL
    that refuses connections, so that any attempt to use one fails the command."""
    done = await asyncio.to_thread(run_relay, "audit", "verify", *args,
                                   env={"RELAY_DATABASE_URL": "postgresql://relay@127.0.0.1:9/none"})
    return done.returncode, done.stdout + done.stderr


async def test_an_export_of_alerts_and_receipts_verifies_with_the_command(relay, story, tmp_path):
    """Every event, alerts and receipts, in seq order; exit 0 with the count, the seqs and
    the last hash, which is the head hash the relay reports."""
    path = await export(relay, story, tmp_path, "all")
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    code, out = await verify_cmd("--export", str(path))
    assert ([1, 2, 3, 4, 5, 6, 7, 8], ["alert", "alert", "receipt", "alert", "receipt", "alert",
                                       "receipt", "alert"]) == (
        [line["seq"] for line in lines], [line["kind"] for line in lines])
    assert ("0" * 64, "positive") == (lines[0]["prev_hash"], lines[4]["receipt"]["status"])
    assert 0 == code, out
    assert (f"export verified: 8 events (5 alerts, 3 receipts), seq 1 to 8, last hash "
            f"{story.head_hash}\ncomplete from seq 1: compare seq 8 and its hash with a head "
            f"hash recorded elsewhere\n") == out


async def test_the_command_says_it_in_french(relay, story, tmp_path):
    path = await export(relay, story, tmp_path, "all")
    code, out = await verify_cmd("--export", str(path), "--lang", "fr")
    assert (0, f"export vérifié : 8 événements (5 alertes, 3 accusés), seq 1 à 8, dernière "
               f"empreinte {story.head_hash}") == (code, out.splitlines()[0])


def changed_line(lines: Lines, seq: int, *, body: bool, rehash: bool) -> Lines:
    return replaced(lines, seq - 1, edit(lines[seq - 1], set_key("priority", "flash"), body=body,
                                         rehash=rehash))


EXPORT_TAMPERING: list[tuple[str, Callable[[Lines], Lines], str]] = [
    ("an alert's field changed", lambda lines: changed_line(lines, 4, body=False, rehash=False),
     "export broken at seq 4 (line 4): the alert differs from the hashed body"),
    ("a field changed in the body too", lambda lines: changed_line(lines, 4, body=True, rehash=False),
     "export broken at seq 4 (line 4): the hash does not match"),
    ("a line removed", lambda lines: without(lines, 4),
     "export broken at seq 5 (line 5): missing: seq 6 comes right after seq 4"),
    ("a line reordered", lambda lines: swapped(lines, 5, 6),
     "export broken at seq 6 (line 7): it comes after seq 7: the lines were moved"),
    ("a hash recomputed for one line only",
     lambda lines: changed_line(lines, 4, body=True, rehash=True),
     "export broken at seq 4 (line 4): its hash is not the previous hash that seq 5 states"),
]


@pytest.mark.parametrize(("done", "tamper", "expected"), EXPORT_TAMPERING,
                         ids=[case[0] for case in EXPORT_TAMPERING])
async def test_a_tampered_export_fails_naming_the_seq(relay, story, tmp_path, done, tamper, expected):
    """Exit 1, and the first line that does not verify, its seq and why."""
    path = await export(relay, story, tmp_path, "all")
    path.write_bytes(b"".join(tamper(path.read_bytes().splitlines(keepends=True))))
    code, out = await verify_cmd("--export", str(path))
    assert (1, expected) == (code, out[:len(expected)])


async def test_a_rewritten_last_line_is_caught_only_by_the_head_hash_kept_elsewhere(relay, story, tmp_path):
    """Nothing in the file comes after the last line: it verifies, but its hash is no
    longer the head hash the auditor recorded."""
    path = await export(relay, story, tmp_path, "all")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(changed_line(lines, 8, body=True, rehash=True)))
    code, out = await verify_cmd("--export", str(path))
    assert 0 == code and "seq 1 to 8, last hash " in out
    assert story.head_hash not in out


async def test_a_filtered_export_holds_the_receipts_of_its_alerts_and_verifies_as_filtered(
        relay, story, tmp_path):
    """kind=seizure: the seizures and their receipts. It fails as a complete export (seq 2
    is not in it) and verifies with --filtered, in 3 runs."""
    path = await export(relay, story, tmp_path, "seizures", kind="seizure")
    seqs = [orjson.loads(line)["seq"] for line in path.read_bytes().splitlines()]
    complete = await verify_cmd("--export", str(path))
    filtered = await verify_cmd("--export", str(path), "--filtered")
    broken = "export broken at seq 2 (line 2): missing: seq 3 comes right after seq 1"
    verified = "export verified: 5 events (3 alerts, 2 receipts), seq 1 to 8, last hash"
    runs = "3 runs of consecutive seqs (the first gap after seq 1): each event matches its hash"
    assert [1, 3, 4, 5, 8] == seqs
    assert (1, broken) == (complete[0], complete[1][:len(broken)])
    assert (0, verified, runs) == (filtered[0], filtered[1][:len(verified)],
                                   filtered[1].splitlines()[1][:len(runs)])


async def test_a_date_range_export_holds_every_event_of_its_time(relay, story, tmp_path):
    """from=: every event received since, receipts of older alerts included: one run,
    which starts after seq 1 (so it verifies only as filtered)."""
    path = await export(relay, story, tmp_path, "since", **{"from": story.middle.isoformat()})
    seqs = [orjson.loads(line)["seq"] for line in path.read_bytes().splitlines()]
    complete = await verify_cmd("--export", str(path))
    filtered = await verify_cmd("--export", str(path), "--filtered")
    broken = "export broken at seq 1 (line 1): the export starts at seq 4"
    assert [4, 5, 6, 7, 8] == seqs
    assert (1, broken) == (complete[0], complete[1][:len(broken)])
    assert (0, "one run of consecutive seqs from seq 4: the events before it are not in the export") == (
        filtered[0], filtered[1].splitlines()[1])


async def test_csv_exports_stay_one_row_per_alert(relay, story):
    """The CSV keeps its columns and its rows: alerts only."""
    status, body = await http_get(relay, story.token, "/v1/audit/export", {"format": "csv"})
    rows = body.decode().splitlines()
    assert (200, 1 + 5, ["1", "2", "4", "6", "8"]) == (
        status, len(rows), [row.split(",")[0] for row in rows[1:]])


async def test_an_unreadable_file_or_filtered_alone_is_refused(tmp_path):
    missing = await verify_cmd("--export", str(tmp_path / "none.ndjson"))
    alone = await verify_cmd("--filtered")
    assert (1, 2) == (missing[0], alone[0])
    assert f"relay: cannot read {tmp_path / 'none.ndjson'}: No such file or directory" == missing[1].strip()
    assert "relay: --filtered goes with --export FILE.ndjson" == alone[1].strip()
