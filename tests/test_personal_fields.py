"""The pure parts of personal-data protection, without a relay: finding the personal
fields (relay/contract/personal.py), sealing and opening them (relay/protection/), and the
key file (relay/protection/keyring.py)."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.contract.personal import (
    AUDIT_FIELDS,
    PERSONAL_PATHS,
    audit_part,
    commitment,
    content_digest,
    content_part,
    has_personal,
    remove_personal,
    splice_personal,
    split_personal,
)
from relay.contract.wire import encode_body
from relay.protection.envelope import SealBroken
from relay.protection.keyring import KeyFileError, KeyMissing, Keyring, key_id_of
from relay.protection.sealing import Sealer
from tests.alert_examples import passenger_alert, seizure_alert

ALERT_ID = "019ab2c4-5e6f-7a8b-9c0d-1e2f3a4b5c70"
OTHER_ID = "019ab2c4-5e6f-7a8b-9c0d-1e2f3a4b5c71"
FULL_SUBJECT = {"role": "courier", "surname": "KEITA", "given_names": "Awa", "nationality": "ML",
                "birth_date": "1990-04-12",
                "document": {"type": "passport", "number": "B1234567", "issuing_country": "ML"},
                "seat": "23C", "pnr_locator": "Q7XK2P", "bag_tags": ["0057123456", "0057123457"]}
NOT_PERSONAL = {"role", "nationality", "document.type", "document.issuing_country"}

text = st.text(min_size=1, max_size=20)
subjects = st.lists(st.fixed_dictionaries(
    {"role": st.sampled_from(["courier", "victim", "passenger"])},
    optional={"surname": text, "given_names": text, "birth_date": text, "seat": text,
              "pnr_locator": text, "nationality": st.just("ML"),
              "bag_tags": st.lists(text, max_size=3),
              "document": st.fixed_dictionaries({"type": st.just("passport")},
                                                optional={"number": text})}), max_size=4)


def body_with(subjects_: list[dict]) -> dict:
    return {**passenger_alert(subjects=subjects_), "alert_id": ALERT_ID, "origin_unit": "ML-BKO-X",
            "received_at": "2026-11-23T08:00:01.204Z"}


def test_the_table_names_every_personal_field_of_protection_md():
    assert set(PERSONAL_PATHS) == {
        "subjects[].surname", "subjects[].given_names", "subjects[].birth_date",
        "subjects[].document.number", "subjects[].seat", "subjects[].pnr_locator",
        "subjects[].bag_tags"}


def test_split_takes_out_exactly_the_personal_fields_with_their_paths():
    body = body_with([FULL_SUBJECT, {"role": "victim", "surname": "DIALLO"}])
    stripped, values = split_personal(body)
    assert body["subjects"][0]["surname"] == "KEITA"  # a copy: the body is untouched
    assert stripped["subjects"] == [{"role": "courier", "nationality": "ML",
                                     "document": {"type": "passport", "issuing_country": "ML"}},
                                    {"role": "victim"}]
    assert dict(values) == {
        "subjects[0].surname": "KEITA", "subjects[1].surname": "DIALLO",
        "subjects[0].given_names": "Awa", "subjects[0].birth_date": "1990-04-12",
        "subjects[0].document.number": "B1234567", "subjects[0].seat": "23C",
        "subjects[0].pnr_locator": "Q7XK2P", "subjects[0].bag_tags": ["0057123456", "0057123457"]}
    assert {k: v for k, v in stripped.items() if k != "subjects"} == \
        {k: v for k, v in body.items() if k != "subjects"}
    assert not has_personal(stripped) and has_personal(body)
    assert not has_personal(seizure_alert())


@settings(max_examples=200, deadline=None)
@given(subjects)
def test_splice_puts_back_what_split_took_out(generated):
    body = body_with(generated)
    stripped, values = split_personal(body)
    assert not has_personal(stripped)
    assert splice_personal(stripped, values) == body
    assert remove_personal(body) == stripped


def test_a_commitment_depends_on_the_salt_and_the_value():
    salt = bytes(16)
    assert commitment(salt, "KEITA") == commitment(bytes(16), "KEITA")
    assert commitment(salt, "KEITA") != commitment(b"\x01" + bytes(15), "KEITA")
    assert commitment(salt, "KEITA") != commitment(salt, "KEITa")
    assert commitment(salt, ["a", "b"]) != commitment(salt, ["b", "a"])


def test_reduction_keeps_the_audit_fields_and_the_digest_covers_the_rest():
    stored = remove_personal(body_with([FULL_SUBJECT]))
    kept = audit_part(stored)
    assert set(kept) <= set(AUDIT_FIELDS) and {"alert_id", "tlp", "distribution"} <= set(kept)
    assert "summary" in content_part(stored) and "alert_id" not in content_part(stored)
    digest = content_digest(stored, [["subjects[0].surname", "ab"]])
    assert digest != content_digest({**stored, "summary": "other"}, [["subjects[0].surname", "ab"]])
    assert digest != content_digest(stored, [["subjects[0].surname", "ac"]])
    assert digest == content_digest({**stored, "tlp": "red"}, [["subjects[0].surname", "ab"]])


# -- sealing ------------------------------------------------------------------------------

@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring.open_or_create(tmp_path / "protection.key")[0]


def sealed_of(sealer: Sealer, body: dict):
    return sealer.seal(body["alert_id"], *encode_body(body))


def test_a_sealed_alert_stores_no_personal_value_and_opens_back(keyring):
    sealer = Sealer(keyring)
    body = body_with([FULL_SUBJECT])
    sealed = sealed_of(sealer, body)
    stored = b"".join([sealed.body_json, sealed.body_msgpack, sealed.commitments or b"",
                       sealed.wrapped_key or b"", sealed.personal or b""])
    for value in ("KEITA", "Awa", "1990-04-12", "B1234567", "23C", "Q7XK2P", "0057123456"):
        assert value.encode() not in stored, value
    assert orjson.loads(sealed.body_json) == remove_personal(body)
    assert sealed.key_id == keyring.current.key_id
    fields = sealer.open(ALERT_ID, sealed.key_id, sealed.wrapped_key, sealed.personal)
    assert dict((p, v) for p, v, _ in fields) == dict(split_personal(body)[1])
    assert all(len(salt) >= 16 for _, _, salt in fields)
    assert len({salt for _, _, salt in fields}) == len(fields)  # one salt per field
    commitments = dict(orjson.loads(sealed.commitments))
    assert sealer.check_commitments(ALERT_ID, sealed.key_id, sealed.wrapped_key, sealed.personal,
                                    commitments) is None
    assert sealer.check_commitments(ALERT_ID, sealed.key_id, sealed.wrapped_key, sealed.personal,
                                    {**commitments, "subjects[0].surname": "0" * 64}) is not None


def test_an_alert_without_personal_fields_is_stored_as_it_came(keyring):
    body = {**seizure_alert(), "alert_id": ALERT_ID, "origin_unit": "TG-LFW-X",
            "received_at": "2026-11-23T08:00:01.204Z"}
    sealed = sealed_of(Sealer(keyring), body)
    assert (sealed.body_json, sealed.personal, sealed.commitments) == (encode_body(body)[0], None, None)


def test_a_sealed_box_opens_only_for_its_alert_intact_and_under_its_key(keyring, tmp_path):
    sealer = Sealer(keyring)
    sealed = sealed_of(sealer, body_with([FULL_SUBJECT]))
    with pytest.raises(SealBroken):  # moved to another alert's row
        sealer.open(OTHER_ID, sealed.key_id, sealed.wrapped_key, sealed.personal)
    flipped = sealed.personal[:-1] + bytes([sealed.personal[-1] ^ 1])
    with pytest.raises(SealBroken):
        sealer.open(ALERT_ID, sealed.key_id, sealed.wrapped_key, flipped)
    with pytest.raises(KeyMissing):
        Sealer(Keyring.open_or_create(tmp_path / "other.key")[0]).open(
            ALERT_ID, sealed.key_id, sealed.wrapped_key, sealed.personal)


def test_rotation_rewraps_a_data_key_under_the_new_key(keyring):
    sealer = Sealer(keyring)
    sealed = sealed_of(sealer, body_with([FULL_SUBJECT]))
    old = keyring.current
    new = keyring.add_key()
    key_id, wrapped = sealer.rewrap(ALERT_ID, old.key_id, sealed.wrapped_key, new)
    assert key_id == new.key_id != old.key_id
    keyring.remove_key(old.key_id)
    assert sealer.values(ALERT_ID, key_id, wrapped, sealed.personal)[0] == ("subjects[0].surname", "KEITA")


def test_history_sealed_in_place_keeps_its_original_bytes(keyring):
    sealer = Sealer(keyring)
    original = encode_body(body_with([FULL_SUBJECT]))[0]
    sealed = sealer.seal_legacy(ALERT_ID, original)
    assert sealed is not None and b"KEITA" not in sealed.body_json
    assert sealer.original(ALERT_ID, sealed.key_id, sealed.wrapped_key, sealed.personal) == original
    assert dict(sealer.values(ALERT_ID, sealed.key_id, sealed.wrapped_key, sealed.personal))[
        "subjects[0].document.number"] == "B1234567"
    assert sealer.seal_legacy(ALERT_ID, encode_body(seizure_alert())[0]) is None


# -- the key file ---------------------------------------------------------------------------

def test_a_new_key_file_is_private_and_holds_one_key(tmp_path):
    keyring, created = Keyring.open_or_create(tmp_path / "keys" / "protection.key")
    assert created and stat.S_IMODE(os.stat(keyring.path).st_mode) == 0o600
    assert [k.key_id for k in keyring.keys] == [key_id_of(keyring.current.key)]
    again, created_again = Keyring.open_or_create(keyring.path)
    assert not created_again and again.current == keyring.current


def test_keys_are_added_and_retired_and_the_current_one_never(keyring):
    first = keyring.current
    second = keyring.add_key()
    assert keyring.current == second and Keyring.open(keyring.path).current == second
    with pytest.raises(KeyFileError, match="current"):
        keyring.remove_key(second.key_id)
    keyring.remove_key(first.key_id)
    assert [k.key_id for k in Keyring.open(keyring.path).keys] == [second.key_id]
    assert stat.S_IMODE(os.stat(keyring.path).st_mode) == 0o600


def test_a_running_reader_sees_a_rotation_within_a_second(keyring):
    reader = Keyring.open(keyring.path)
    new = keyring.add_key()
    deadline = time.monotonic() + 3
    while reader.current != new and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reader.current == new


@pytest.mark.parametrize(("content", "error"), [
    ("", "holds no key"),
    ("k-000000000000 2026-01-01T00:00:00Z\n", "expected 'id created key'"),
    ("k-000000000000 2026-01-01T00:00:00Z AAAA\n", "32-byte key"),
])
def test_a_damaged_key_file_is_refused_naming_it(tmp_path, content, error):
    path = tmp_path / "bad.key"
    path.write_text(content)
    with pytest.raises(KeyFileError, match=error):
        Keyring.open(path)
    with pytest.raises(KeyFileError, match="does not exist"):
        Keyring.open(tmp_path / "missing.key")


def test_every_reason_verify_can_give_is_said_in_english_and_in_french():
    """relay audit verify names why a chain is broken in the operator's language."""
    from relay.cli import messages  # noqa: F401 - registers the command's sentences
    from relay.contract.i18n import Translator
    from relay.store.chain import COLUMNS, REASONS, reason

    english, french = Translator("en"), Translator("fr")
    params = {"event": 7, "what": "facts", "key": "k-0123456789ab", "path": "subjects[0].surname",
              "head": 9, "last": 8}
    for code in REASONS:
        shown = {**params, "what": COLUMNS["facts"]}
        assert english(f"relay.chain.{code}", **shown) == reason(code, params)
        assert french(f"relay.chain.{code}", **shown) != english(f"relay.chain.{code}", **shown)
    for code, text in COLUMNS.items():
        assert english(f"relay.chain.column.{code}") == text
        assert french(f"relay.chain.column.{code}")
