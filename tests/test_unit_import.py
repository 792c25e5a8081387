"""relay units import: the CSV file read and checked without the database."""

from __future__ import annotations

from relay.cli.unit_import import MAX_FILE_CHARACTERS, parse_units_csv

HEADER = "unit_id,country,airport,name,roles\n"


def problems_of(text: str) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in parse_units_csv(text)[1]]


def test_a_good_file_gives_every_unit_with_its_roles_split_on_semicolons_or_bars():
    units, problems = parse_units_csv("\ufeff" + HEADER + 'ML-BKO-JAITF,ML,BKO,"Bamako, CAAT",publish;subscribe\n'
                                      "\nML-BKO-AUDIT,ML,,,audit|admin\n")
    assert [] == problems
    assert [("ML-BKO-JAITF", "BKO", "Bamako, CAAT", ["publish", "subscribe"], 2),
            ("ML-BKO-AUDIT", None, "", ["audit", "admin"], 4)] == [
        (u.unit_id, u.airport, u.name, u.roles, u.line) for u in units]


def test_lines_are_the_files_lines_even_after_a_name_on_several_lines():
    text = HEADER + 'ML-BKO-ONE,ML,,"first\nsecond\nthird",publish\nML-BKO-TWO,XX,,,publish\n'
    assert [("line 2.name", "control_character"), ("line 5.country", "bad_country")] == problems_of(text)


def test_every_bad_line_is_named_and_nothing_is_kept():
    text = HEADER + "bad id,ML,,,publish\nML-A-1,ML,QQQ,,fly\nML-A-1,ML,,,publish\nML-A-2,ML,,x\n"
    assert [("line 2.unit_id", "bad_unit_id"), ("line 3.airport", "unknown_airport"),
            ("line 3.roles[0]", "not_one_of"), ("line 4.unit_id", "repeated_in_file"),
            ("line 5", "column_count")] == problems_of(text)


def test_a_wrong_header_an_empty_file_a_broken_quote_and_a_huge_file_are_refused():
    assert [("line 1", "bad_header")] == problems_of("id,country\nML-A-1,ML\n")
    assert [("line 1", "bad_header")] == problems_of("")
    assert [("line 2", "required")] == problems_of(HEADER)
    assert ("not_csv",) == tuple(code for _, code in problems_of(HEADER + "ML-A-1,ML,,\"x" + "y" * 200_000))
    assert [("file", "length")] == problems_of("x" * (MAX_FILE_CHARACTERS + 1))
    assert [("line 2.name", "control_character")] == problems_of(HEADER + "ML-A-1,ML,,\x1b[2J,publish\n")
