"""clients.alert_file: JSON and TOML alert files, and the line of every problem."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clients.alert_file import AlertFileError, describe_problems, load_alert_file
from clients.fill_in import expired, fill_in
from clients.i18n import Translator
from clients.local_check import check_alert
from relay.contract.problems import Problem
from relay.contract.problems_fr import FRENCH
from tests.alert_examples import passenger_alert, seizure_alert

CONFIG = Path(__file__).resolve().parent.parent / "config"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problem_lines(path: Path) -> dict[str, int | None]:
    """Each problem the relay's rules find in the file, and the line it is shown at."""
    loaded = load_alert_file(path)
    _, problems = check_alert(loaded.alert)
    return {problem.field: loaded.line_of(problem.field) for problem in problems}


# -- valid files --------------------------------------------------------------------------

README_UNITS = re.findall(r"relay units add ([A-Z0-9-]+)", (CONFIG.parent / "README.md").read_text())


@pytest.mark.parametrize(("name", "kind"), [("example-alert.toml", "passenger"),
                                            ("example-alert.json", "seizure")])
def test_the_example_files_are_valid_alerts_of_today_to_the_readmes_units(name, kind):
    """config/ holds one passenger alert and one seizure alert that the relay accepts
    whenever they are posted (their times are relative, filled in by relay-post), not
    expired, addressed by name to units the README's quick start creates."""
    loaded = load_alert_file(CONFIG / name)
    filled = fill_in(loaded.alert)
    normalised, problems = check_alert(filled)
    assert ([], kind, False) == (problems, (normalised or {}).get("kind"), expired(filled))
    units = filled["distribution"]["units"]
    assert (True, set()) == (bool(units), set(units) - set(README_UNITS)), README_UNITS
    assert set(filled["distribution"]) == {"units"}


def test_a_json_file_holds_the_alert_as_json_reads_it(tmp_path):
    """The position-tracking reader gives the very value json.loads gives."""
    text = json.dumps(passenger_alert(), indent=2)
    loaded = load_alert_file(write(tmp_path, "alert.json", text))
    assert json.loads(text) == loaded.alert
    assert [] == check_alert(loaded.alert)[1]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children,
                                                                        max_size=4),
    max_leaves=20,
)


@given(value=JSON_VALUES, indent=st.sampled_from([None, 0, 2, "\t"]))
def test_any_json_document_reads_as_json_loads_reads_it(tmp_path_factory, value, indent):
    """Maps, lists, escapes, numbers and literals, on one line or many."""
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    path = write(tmp_path_factory.getbasetemp(), "any.json", text)
    assert json.loads(text) == load_alert_file(path).alert


def test_a_toml_file_with_arrays_of_tables_holds_the_same_alert_as_json(tmp_path):
    """[[subjects]] and [[seizures]] are lists of maps, [subjects.document] the last one's."""
    text = """\
kind = "passenger"
priority = "flash"
tlp = "amber"
sent_at = "2026-11-23T08:00:00Z"
summary = "Two couriers on AT571."
requested_action = "intercept"
distribution = { units = ["FR-CDG-OFAST"] }
flight = { number = "AT571", origin = "BKO", destination = "CDG" }

[[subjects]]
role = "courier"
surname = "DOE"

[[subjects]]
role = "courier"
surname = "ROE"

[subjects.document]
type = "passport"
number = "AA0000000"
"""
    expected = {
        "kind": "passenger", "priority": "flash", "tlp": "amber",
        "sent_at": "2026-11-23T08:00:00Z", "summary": "Two couriers on AT571.",
        "requested_action": "intercept", "distribution": {"units": ["FR-CDG-OFAST"]},
        "flight": {"number": "AT571", "origin": "BKO", "destination": "CDG"},
        "subjects": [{"role": "courier", "surname": "DOE"},
                     {"role": "courier", "surname": "ROE",
                      "document": {"type": "passport", "number": "AA0000000"}}],
    }
    loaded = load_alert_file(write(tmp_path, "alert.toml", text))
    assert expected == loaded.alert
    assert [] == check_alert(loaded.alert)[1]


def test_toml_dates_and_times_become_rfc_3339_strings(tmp_path):
    """Alerts carry strings: unquoted TOML date-times and dates are written as RFC 3339."""
    text = """\
sent_at = 2026-11-23T09:00:00+01:00
expires_at = 2026-11-23T17:00:00Z
occurred_at = 2026-11-23 07:55:00.5Z
quoted = "2026-11-23T08:00:00Z"
local = 2026-11-23T08:00:00
flight = { date = 2026-11-23 }
"""
    expected = {
        "sent_at": "2026-11-23T09:00:00+01:00", "expires_at": "2026-11-23T17:00:00Z",
        "occurred_at": "2026-11-23T07:55:00.500000Z", "quoted": "2026-11-23T08:00:00Z",
        "local": "2026-11-23T08:00:00", "flight": {"date": "2026-11-23"},
    }
    assert expected == load_alert_file(write(tmp_path, "times.toml", text)).alert


def test_the_suffix_is_read_without_regard_to_case_and_a_byte_order_mark_is_allowed(tmp_path):
    """ALERT.JSON saved by a Windows editor, with a BOM, reads like alert.json."""
    path = tmp_path / "ALERT.JSON"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(seizure_alert()).encode())
    assert seizure_alert() == load_alert_file(path).alert


# -- files that are not alerts ------------------------------------------------------------

def test_a_json_syntax_error_names_its_line_and_column(tmp_path):
    """The missing comma after line 3's value is found at the start of line 4; the
    parser's reason is told in the officer's words, in either language."""
    path = write(tmp_path, "alert.json", '{\n  "kind": "seizure",\n  "tlp": "green"\n  "x": 1\n}\n')
    with pytest.raises(AlertFileError) as refused:
        load_alert_file(path)
    expected = (4, 3, f"{path}:4:3: JSON syntax error: ',' is expected",
                f"{path}:4:3: erreur de syntaxe JSON : ',' est attendu")
    assert expected == (refused.value.line, refused.value.column, str(refused.value),
                        refused.value.describe(Translator("fr")))


def test_a_toml_syntax_error_names_its_line_and_column_in_french_too(tmp_path):
    """tomllib's place, taken out of its message, leads the sentence in either language."""
    path = write(tmp_path, "alert.toml", 'kind = "seizure"\n\n[flight]\nnumber = AT571\n')
    with pytest.raises(AlertFileError) as refused:
        load_alert_file(path)
    expected = (4, 10, f"{path}:4:10: erreur de syntaxe TOML : valeur invalide")
    assert expected == (refused.value.line, refused.value.column,
                        refused.value.describe(Translator("fr")))


def test_a_toml_error_at_the_end_of_the_file_names_the_last_line(tmp_path):
    """An array left open: the place is the end of the document."""
    path = write(tmp_path, "alert.toml", 'kind = "seizure"\nindicators = ["one_way",\n')
    with pytest.raises(AlertFileError) as refused:
        load_alert_file(path)
    assert (3, 1) == (refused.value.line, refused.value.column)


def test_a_key_given_twice_in_a_json_object_is_an_error(tmp_path):
    """The relay would keep the second silently; the officer is told where it is."""
    path = write(tmp_path, "alert.json", '{"kind": "seizure",\n "tlp": "green",\n "kind": "x"}')
    with pytest.raises(AlertFileError) as refused:
        load_alert_file(path)
    expected = f'{path}:3:2: the key "kind" appears twice in the same object'
    assert expected == str(refused.value)


def test_json_nested_deeper_than_any_alert_is_an_error_not_a_crash(tmp_path):
    """Thousands of brackets end in an error naming the place, not a RecursionError."""
    path = write(tmp_path, "alert.json", "[" * 5000 + "]" * 5000)
    with pytest.raises(AlertFileError) as refused:
        load_alert_file(path)
    expected = f"{path}:1:101: nested more than 100 levels deep"
    assert expected == str(refused.value)


@pytest.mark.parametrize("name", ["alert.yaml", "alert", "alert.json.txt"])
def test_a_file_that_is_neither_json_nor_toml_is_refused_by_its_name(tmp_path, name):
    """The suffix decides; nothing is guessed from the content."""
    path = write(tmp_path, name, "{}")
    with pytest.raises(AlertFileError) as refused:
        load_alert_file(path)
    expected = [f"{path}: unsupported file type: an alert file ends in .json or .toml",
                f"{path} : type de fichier non pris en charge : un fichier d'alerte se "
                "termine par .json ou .toml"]
    assert expected == [refused.value.describe(Translator("en")),
                        refused.value.describe(Translator("fr"))]


def test_a_missing_file_and_a_file_that_is_not_utf8_are_errors(tmp_path):
    """Both name the file; bad bytes also name their line."""
    bad = tmp_path / "latin1.json"
    bad.write_bytes('{"summary":\n "Saisie à Lomé"}'.encode("latin-1"))
    errors = []
    for path in (tmp_path / "missing.json", bad):
        with pytest.raises(AlertFileError) as refused:
            load_alert_file(path)
        errors.append((str(refused.value), refused.value.describe(Translator("fr"))))
    expected = [(f"{tmp_path / 'missing.json'}: cannot be read: it does not exist",
                 f"{tmp_path / 'missing.json'} : lecture impossible : il n'existe pas"),
                (f"{bad}:2: not UTF-8 text; save the file in UTF-8",
                 f"{bad}:2: ce n'est pas du texte UTF-8 ; enregistrez le fichier en UTF-8")]
    assert expected == errors


# -- problems at their lines ----------------------------------------------------------------

BAD_JSON = """\
{
  "kind": "passenger",
  "tlp": "amber",
  "distribution": {
    "countries": ["ML", "SN",
                  "XX"]
  },
  "sent_at": "2026-11-23T08:00:00Z",
  "summary": "Courier on AT571.",
  "requested_action": "intercept",
  "flight": {
    "number": "AT 571",
    "origin": "BKO",
    "destination": "CDG",
    "gate": "B12"
  },
  "subjects": [
    {"role": "courier", "surname": "DOE"},
    {
      "role": "victim",
      "document": {"type": "passport", "number": ""}
    }
  ],
  "ext": {"case": "BKO-2026-117"}
}
"""


def test_each_problem_of_a_json_file_is_at_its_line(tmp_path):
    """Nested lists and maps, a list item on its own line, an unknown field; a missing
    field falls back to its parent (subjects[1]) or, at the top, to no line at all."""
    expected = {
        "priority": None,
        "distribution.countries[2]": 6,
        "flight.number": 12,
        "flight.gate": 15,
        "subjects[1].surname": 19,
        "subjects[1].document.number": 21,
    }
    assert expected == problem_lines(write(tmp_path, "alert.json", BAD_JSON))


def test_a_json_path_not_in_the_file_falls_back_to_the_nearest_enclosing_one(tmp_path):
    """ext.case is where it is; paths under it or beside it fall back step by step."""
    loaded = load_alert_file(write(tmp_path, "alert.json", BAD_JSON))
    expected = [24, 24, 21, 19, 17, None, None]
    assert expected == [loaded.line_of(path) for path in (
        "ext.case", "ext.case.deeper[3]", "subjects[1].document.issuing_country",
        "subjects[1].bag_tags[0]", "subjects[7].role", "seizures[0].quantity", "alert")]


BAD_TOML = """\
kind = "seizure"
tlp = "green"
sent_at = 2026-11-23T09:30:00Z
summary = "Cocaine and cash seized at LFW."
location = "LFW"
occurred_at = 2026-11-23T07:55:00   # no offset
distribution.countries = [
  "TG",
  "XX",  # not a country
]
ext = { case = "LFW-2026-0042", refs = ["a", "b"] }

[[seizures]]
commodity = "cocaine"
quantity = 2.4
unit = "kg"

[[seizures]]
commodity = "gold"
quantity = -1
unit = "EUR"

[[subjects]]
role = "courier"

[subjects.document]
type = "passport"
number = "FZ0000000"
issuing_country = "BRA"
"""


def test_each_problem_of_a_toml_file_is_at_its_line(tmp_path):
    """Arrays of tables are counted, a sub-table belongs to the last one, elements of a
    multi-line array are on their own lines, a missing field falls back to its table."""
    expected = {
        "priority": None,
        "occurred_at": 6,
        "distribution.countries[1]": 9,
        "seizures[1].quantity": 20,
        "seizures[1].unit": 21,
        "subjects[0].surname": 23,
        "subjects[0].document.issuing_country": 29,
    }
    assert expected == problem_lines(write(tmp_path, "alert.toml", BAD_TOML))


def test_toml_inline_tables_dotted_keys_and_headers_have_lines(tmp_path):
    """Every way TOML writes a path gives it a line."""
    loaded = load_alert_file(write(tmp_path, "alert.toml", BAD_TOML))
    expected = [11, 11, 7, 7, 13, 18, 26, 13]
    assert expected == [loaded.line_of(path) for path in (
        "ext.case", "ext.refs[1]", "distribution", "distribution.countries",
        "seizures", "seizures[1]", "subjects[0].document", "seizures[0].description")]


def test_toml_strings_comments_and_a_table_defined_after_its_child_do_not_mislead(tmp_path):
    """Brackets and equals signs inside strings and comments are not structure."""
    text = '''\
# [flight] in a comment
summary = """
[flight]
number = "not a key"
"""
note = 'a = [1]'   # [x]
[flight.extra]
a = 1
[flight]
number = "AT571"
"quoted key" = 1
'''
    loaded = load_alert_file(write(tmp_path, "alert.toml", text))
    expected = [2, 6, 9, 7, 10, 11]
    assert expected == [loaded.line_of(path) for path in (
        "summary", "note", "flight", "flight.extra", "flight.number", "flight.quoted key")]


def test_problems_are_described_with_the_file_and_line_in_either_language(tmp_path):
    """The problem's sentence is told from its code in the officer's language; the
    field's path is the contract's in both."""
    path = write(tmp_path, "alert.json", '{\n  "flight": {\n    "number": "AT 571"\n  }\n}\n')
    loaded = load_alert_file(path)
    problems = [Problem("flight.number", "bad_flight_number"), Problem("summary", "required")]
    flight = Problem("flight.number", "bad_flight_number").problem
    french = FRENCH["bad_flight_number"]
    expected = [
        [f"{path}:3: flight.number: {flight}", f"{path}: summary: is required"],
        [f"{path}:3: flight.number : {french}", f"{path} : summary : est obligatoire"],
    ]
    assert expected == [describe_problems(loaded, problems, Translator("en")),
                        describe_problems(loaded, problems, Translator("fr"))]
