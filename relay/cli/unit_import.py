"""``relay units import FILE.csv``: the file read and checked, without the database.

The file has a header line ``unit_id,country,airport,name,roles`` and one unit a line;
``roles`` are separated by ``;`` or ``|`` (a comma would split the CSV field). Every bad
row is named by its line number, and nothing is added unless every row is good.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from relay.contract.problems import Problem
from relay.store.admin import new_unit_problems

__all__ = ["HEADER", "MAX_FILE_CHARACTERS", "ImportedUnit", "parse_units_csv"]

HEADER = ("unit_id", "country", "airport", "name", "roles")
MAX_FILE_CHARACTERS = 10_000_000  # some 100,000 units: far beyond a country's
_ROLE_SEPARATOR = re.compile(r"[;|]")


@dataclass(frozen=True, slots=True)
class ImportedUnit:
    line: int
    unit_id: str
    country: str
    airport: str | None
    name: str
    roles: list[str]


def parse_units_csv(text: str) -> tuple[list[ImportedUnit], list[Problem]]:
    """The units of the file and, if any, the problems of its lines (field ``line N.KEY``,
    N the line of the file where the unit's record starts)."""
    if len(text) > MAX_FILE_CHARACTERS:
        return [], [Problem("file", "length", {"low": 1, "high": MAX_FILE_CHARACTERS})]
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))  # a spreadsheet's BOM
    problems: list[Problem] = []
    units: list[ImportedUnit] = []
    first_line: dict[str, int] = {}
    try:
        header = next(reader, None)
        if header is None or tuple(cell.strip().lower() for cell in header) != HEADER:
            return [], [Problem("line 1", "bad_header", {"expected": ",".join(HEADER)})]
        last = reader.line_num
        for row in reader:
            number, last = last + 1, reader.line_num  # where the record starts
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            if len(row) != len(HEADER):
                problems.append(Problem(f"line {number}", "column_count",
                                        {"expected": len(HEADER), "found": len(row)}))
                continue
            unit = _unit(number, row, problems)
            if unit.unit_id in first_line:
                problems.append(Problem(f"line {number}.unit_id", "repeated_in_file",
                                        {"line": first_line[unit.unit_id]}))
            first_line.setdefault(unit.unit_id, number)
            units.append(unit)
    except csv.Error:  # an unclosed quote, a field over the csv module's limit
        problems.append(Problem(f"line {reader.line_num}", "not_csv"))
    if not units and not problems:
        problems.append(Problem("line 2", "required"))
    return units, problems


def _unit(number: int, row: list[str], problems: list[Problem]) -> ImportedUnit:
    unit_id, country, airport, name, roles_text = (cell.strip() for cell in row)
    roles = [role.strip() for role in _ROLE_SEPARATOR.split(roles_text) if role.strip()]
    unit = ImportedUnit(number, unit_id, country, airport or None, name, roles)
    for problem in new_unit_problems(unit_id, country, unit.airport, name, roles):
        problems.append(Problem(f"line {number}.{problem.field}", problem.code, problem.params))
    return unit
