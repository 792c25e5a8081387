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

__all__ = ["HEADER", "ImportedUnit", "parse_units_csv"]

HEADER = ("unit_id", "country", "airport", "name", "roles")
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
    """The units of the file and, if any, the problems of its lines (field ``line N.KEY``)."""
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))  # a spreadsheet's BOM
    problems: list[Problem] = []
    if not rows or tuple(cell.strip().lower() for cell in rows[0]) != HEADER:
        return [], [Problem("line 1", "bad_header", {"expected": ",".join(HEADER)})]
    units: list[ImportedUnit] = []
    first_line: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) != len(HEADER):
            problems.append(Problem(f"line {number}", "column_count", {"expected": len(HEADER),
                                                                      "found": len(row)}))
            continue
        unit_id, country, airport, name, roles_text = (cell.strip() for cell in row)
        roles = [role.strip() for role in _ROLE_SEPARATOR.split(roles_text) if role.strip()]
        unit = ImportedUnit(number, unit_id, country, airport or None, name, roles)
        for problem in new_unit_problems(unit_id, country, unit.airport, name, roles):
            problems.append(Problem(f"line {number}.{problem.field}", problem.code, problem.params))
        if unit_id in first_line:
            problems.append(Problem(f"line {number}.unit_id", "repeated_in_file",
                                    {"line": first_line[unit_id]}))
        first_line.setdefault(unit_id, number)
        units.append(unit)
    if not units and not problems:
        problems.append(Problem("line 2", "required"))
    return units, problems
