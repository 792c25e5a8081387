"""Alert files written by officers: JSON or TOML, with the line of every field.

:func:`load_alert_file` reads a ``.json`` or ``.toml`` file (chosen by its suffix) and
returns a :class:`LoadedAlert`: the alert as the relay would receive it, and the line in
the file where each field's value starts. A problem the relay's validation names by its
dotted path (``subjects[0].document.number``, ``distribution.countries[2]``) is then shown
at its line by :func:`describe_problems`; a field that is missing is shown at the line of
the nearest enclosing field that is in the file (``subjects[0]``, then ``subjects``).

The file is taken as it is: nothing is added (``sent_at`` included: the relay does not
compare it with its own clock, docs/alerts.md "Timestamps and dates"), nothing is
validated here (that is :func:`clients.local_check.check_alert`'s job).

Formats:

- **JSON** (RFC 8259, UTF-8): parsed by a small recursive reader that notes where each
  value starts and hands scalars to :class:`json.JSONDecoder`. A key that appears twice
  in one object is an error (the relay would silently keep the last one).
- **TOML** (1.0, read by :mod:`tomllib`): every alert field can be written. TOML
  date-times, dates and times, quoted or not, become RFC 3339 strings, the form alerts
  carry: ``sent_at = 2026-11-23T08:00:00Z`` is read as ``"2026-11-23T08:00:00Z"`` and
  ``date = 2026-11-23`` as ``"2026-11-23"``. A local date-time (no offset) becomes a
  string without offset, which the relay refuses with its own problem. Lists of
  subjects and seized items are written as arrays of tables (``[[subjects]]``) or
  as arrays of inline tables. Since no TOML library gives positions, the lines come
  from a scan of the text (table headers, ``key = value`` lines, dotted keys, inline
  tables and arrays, on one line or several).

Errors: :class:`AlertFileError`, whose :meth:`~AlertFileError.describe` gives the
reason in English or French, with the line and column of a syntax error.
"""

from __future__ import annotations

import bisect
import codecs
import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Final

from clients.errors import file_error_text
from clients.i18n import Translator, register
from relay.contract.problems import Problem
from relay.contract.problems_fr import problem_text

__all__ = ["MAX_DEPTH", "AlertFileError", "LoadedAlert", "describe_problems", "load_alert_file",
           "syntax_reason"]

MAX_DEPTH: Final = 100  # nesting of JSON maps and lists; an alert needs 4

register({
    "file.unsupported": (
        "{file}: unsupported file type: an alert file ends in .json or .toml",
        "{file} : type de fichier non pris en charge : un fichier d'alerte se termine "
        "par .json ou .toml"),
    "file.unreadable": (
        "{file}: cannot be read: {reason}",
        "{file} : lecture impossible : {reason}"),
    "file.not_utf8": (
        "{file}:{line}: not UTF-8 text; save the file in UTF-8",
        "{file}:{line}: ce n'est pas du texte UTF-8 ; enregistrez le fichier en UTF-8"),
    "file.syntax": (
        "{file}:{line}:{column}: {format} syntax error: {detail}",
        "{file}:{line}:{column}: erreur de syntaxe {format} : {detail}"),
    "file.duplicate_key": (
        "{file}:{line}:{column}: the key {name} appears twice in the same object",
        "{file}:{line}:{column}: la clé {name} apparaît deux fois dans le même objet"),
    "file.too_deep": (
        "{file}:{line}:{column}: nested more than {limit} levels deep",
        "{file}:{line}:{column}: imbrication de plus de {limit} niveaux"),
    "file.problem": (
        "{file}:{line}: {field}: {problem}",
        "{file}:{line}: {field} : {problem}"),
    "file.problem_no_line": (
        "{file}: {field}: {problem}",
        "{file} : {field} : {problem}"),
    # The parsers' own reasons for a syntax error (json and tomllib, in English).
    "syntax.value": ("a value is expected", "une valeur est attendue"),
    "syntax.key_name": ("a key in double quotes is expected", "une clé entre guillemets doubles est attendue"),
    "syntax.colon": ("':' is expected", "':' est attendu"),
    "syntax.comma": ("',' is expected", "',' est attendu"),
    "syntax.unterminated": ("unterminated string", "chaîne non terminée"),
    "syntax.control": ("invalid control character", "caractère de contrôle invalide"),
    "syntax.escape": ("invalid escape sequence", "séquence d'échappement invalide"),
    "syntax.extra": ("extra data after the end", "données en trop après la fin"),
    "syntax.statement": ("invalid statement", "instruction invalide"),
    "syntax.equals": ("'=' is expected after a key", "'=' est attendu après une clé"),
    "syntax.invalid_value": ("invalid value", "valeur invalide"),
    "syntax.unclosed_array": ("unclosed array", "liste non fermée"),
    "syntax.unclosed_table": ("unclosed inline table", "table en ligne non fermée"),
    "syntax.overwrite": ("a value is defined twice", "une valeur est définie deux fois"),
    "syntax.twice": ("{name} is declared twice", "{name} est déclaré deux fois"),
    "syntax.table_end": ("']' is expected at the end of the table header",
                         "']' est attendu à la fin de l'en-tête de table"),
    "syntax.array_end": ("']]' is expected at the end of the array header",
                         "']]' est attendu à la fin de l'en-tête de liste"),
    "syntax.key_start": ("invalid first character for a key", "premier caractère de clé invalide"),
    "syntax.date": ("invalid date or date-time", "date ou date-heure invalide"),
    "syntax.character": ("invalid character {name}", "caractère invalide {name}"),
    "syntax.expected": ("{name} is expected", "{name} est attendu"),
    "syntax.namespace": ("the table {name} cannot be changed here",
                         "la table {name} ne peut pas être modifiée ici"),
})

# The English reasons of json.JSONDecodeError and tomllib.TOMLDecodeError, by prefix.
_SYNTAX: Final = (
    (re.compile(r"Expecting value"), "syntax.value"),
    (re.compile(r"Expecting property name"), "syntax.key_name"),
    (re.compile(r"Expecting ':'"), "syntax.colon"),
    (re.compile(r"Expecting ','"), "syntax.comma"),
    (re.compile(r"Unterminated string"), "syntax.unterminated"),
    (re.compile(r"Invalid control character"), "syntax.control"),
    (re.compile(r"Invalid \\(u[0-9A-Fa-fX]{4} )?escape|Invalid hex value|Unescaped '\\'|"
                r"Escaped character"), "syntax.escape"),
    (re.compile(r"Extra data"), "syntax.extra"),
    (re.compile(r"Invalid statement"), "syntax.statement"),
    (re.compile(r"Expected '=' after a key"), "syntax.equals"),
    (re.compile(r"Invalid value"), "syntax.invalid_value"),
    (re.compile(r"Unclosed array"), "syntax.unclosed_array"),
    (re.compile(r"Unclosed inline table"), "syntax.unclosed_table"),
    (re.compile(r"Cannot overwrite a value"), "syntax.overwrite"),
    (re.compile(r"Cannot declare (?P<name>.+) twice|Duplicate inline table key (?P<key>.+)"),
     "syntax.twice"),
    (re.compile(r"Expected '\]' at the end"), "syntax.table_end"),
    (re.compile(r"Expected '\]\]' at the end"), "syntax.array_end"),
    (re.compile(r"Invalid initial character for a key"), "syntax.key_start"),
    (re.compile(r"Invalid date or datetime"), "syntax.date"),
    (re.compile(r"(?:Illegal|Found invalid) character (?P<name>.+)"), "syntax.character"),
    (re.compile(r"Expected (?P<name>.+)"), "syntax.expected"),
    (re.compile(r"Cannot (?:mutate immutable|redefine) namespace (?P<name>.+)"), "syntax.namespace"),
)


def syntax_reason(detail: str, t: Translator) -> str:
    """A parser's reason for a syntax error in t's language; as it is if not known."""
    for pattern, key in _SYNTAX:
        found = pattern.match(detail)
        if found is not None:
            names = {name: value for name, value in found.groupdict().items() if value}
            return t(key, name=names.get("name", names.get("key", "")))
    return detail


class AlertFileError(Exception):
    """A file that cannot be read as an alert: unsupported suffix, unreadable, not UTF-8,
    a syntax error, a JSON key given twice, or nesting deeper than :data:`MAX_DEPTH`.

    ``line`` and ``column`` (1-based) are set for errors at a place in the file; every
    syntax error has both. ``str()`` is the English sentence.
    """

    def __init__(self, key: str, *, file: str, line: int | None = None,
                 column: int | None = None, **values: object) -> None:
        self.key = key
        self.line = line
        self.column = column
        self.values: dict[str, object] = {"file": file, "line": line, "column": column, **values}
        super().__init__(self.describe(Translator("en")))

    def describe(self, t: Translator) -> str:
        """The reason, with the file's name and the place, in ``t``'s language."""
        values = dict(self.values)
        reason, detail = values.get("reason"), values.get("detail")
        if isinstance(reason, OSError):
            values["reason"] = file_error_text(reason, t)
        if isinstance(detail, str):
            values["detail"] = syntax_reason(detail, t)
        return t(self.key, **values)


@dataclass(frozen=True, slots=True)
class LoadedAlert:
    """An alert read from a file, and the line where each of its fields starts.

    ``alert`` is what the file holds (a dict for any sensible file; validation says
    otherwise). ``lines`` maps dotted paths, spelled as the relay's validation spells
    them, to 1-based line numbers.
    """

    path: Path
    alert: object
    lines: Mapping[str, int] = field(repr=False)

    @property
    def name(self) -> str:
        """The file as the officer named it, for messages."""
        return str(self.path)

    def line_of(self, dotted_path: str) -> int | None:
        """The line of ``dotted_path`` or, if absent, of its nearest enclosing path.

        ``subjects[0].document.number`` falls back to ``subjects[0].document``, then
        ``subjects[0]``, then ``subjects``; None when nothing enclosing is in the file
        (a problem of the whole alert, or a required top-level field that is missing).
        """
        current: str | None = dotted_path
        while current:
            line = self.lines.get(current)
            if line is not None:
                return line
            current = _parent(current)
        return None


def load_alert_file(path: str | os.PathLike[str]) -> LoadedAlert:
    """Read a ``.json`` or ``.toml`` alert file (suffix in any case); see the module doc.

    Raises :class:`AlertFileError` for any other suffix, a file that cannot be read or
    is not UTF-8 (a leading byte order mark is allowed), a syntax error (with its line
    and column), a JSON key given twice in one object, or JSON nested too deeply.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise AlertFileError("file.unsupported", file=str(file))
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise AlertFileError("file.unreadable", file=str(file), reason=exc) from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AlertFileError("file.not_utf8", file=str(file),
                             line=data.count(b"\n", 0, exc.start) + 1) from None
    if suffix == ".json":
        alert, lines = _read_json(text, str(file))
    else:
        alert, lines = _read_toml(text, str(file))
    return LoadedAlert(path=file, alert=alert, lines=lines)


def describe_problems(loaded: LoadedAlert, problems: Sequence[Problem], t: Translator) -> list[str]:
    """One line per problem: ``alert.toml:12: flight.number: must be ...``.

    The file's line comes from :meth:`LoadedAlert.line_of`; without one, the line is
    left out. The problem's sentence is the relay's, told from its code in t's language;
    the field's path is the contract's, in every language.
    """
    described = []
    for problem in problems:
        line = loaded.line_of(problem.field)
        key = "file.problem" if line is not None else "file.problem_no_line"
        described.append(t(key, file=loaded.name, line=line, field=problem.field,
                           problem=problem_text(problem.code, problem.params, t.language)))
    return described


# -- dotted paths, spelled as relay.validation spells them -----------------------------

_LAST_INDEX = re.compile(r"\[[0-9]+\]\Z")


def _parent(path: str) -> str | None:
    """``a.b[2]`` → ``a.b`` → ``a`` → None."""
    index = _LAST_INDEX.search(path)
    if index is not None:
        return path[:index.start()]
    head, dot, _ = path.rpartition(".")
    return head if dot else None


def _key_paths(prefix: str, key: str) -> tuple[str, ...]:
    """The path of ``key`` under ``prefix``; first as nested problems spell it.

    relay.validation names an unknown key by its repr when it is not a plain name
    (empty, over 64 characters, not printable); that spelling comes second.
    """
    plain = f"{prefix}.{key}" if prefix else key
    if key and len(key) <= 64 and key.isprintable():
        return (plain,)
    named = repr(key)[:64]
    return (plain, f"{prefix}.{named}" if prefix else named)


class _Lines:
    """1-based line numbers of offsets in a text, lines ending at ``\\n``."""

    def __init__(self, text: str) -> None:
        self._newlines = [match.start() for match in re.finditer("\n", text)]

    def at(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1


class _Misplaced(Exception):
    """A reason (a catalog key) to refuse the file, at an offset of the text."""

    def __init__(self, key: str, offset: int, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.offset = offset
        self.values = values


# -- JSON -------------------------------------------------------------------------------

def _read_json(text: str, file: str) -> tuple[object, dict[str, int]]:
    reader = _JsonReader(text)
    try:
        return reader.document(), reader.found
    except json.JSONDecodeError as exc:
        raise AlertFileError("file.syntax", file=file, line=exc.lineno, column=exc.colno,
                             format="JSON", detail=exc.msg) from None
    except _Misplaced as exc:
        line = reader.lines.at(exc.offset)
        column = exc.offset - text.rfind("\n", 0, exc.offset)
        raise AlertFileError(exc.key, file=file, line=line, column=column,
                             **exc.values) from None


class _JsonReader:
    """A recursive JSON reader that notes the line where each value starts.

    Maps and lists are walked here; strings, numbers and literals are decoded by
    :class:`json.JSONDecoder`, so values and syntax errors are the standard library's.
    """

    _WHITESPACE = " \t\n\r"  # RFC 8259 section 2

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _Lines(text)
        self.found: dict[str, int] = {}
        self._decoder = json.JSONDecoder()

    def document(self) -> object:
        start = self._skip(0)
        value, end = self._value(start, 0)
        end = self._skip(end)
        if end != len(self.text):
            raise json.JSONDecodeError("Extra data", self.text, end)
        return value

    def _skip(self, index: int) -> int:
        text = self.text
        while index < len(text) and text[index] in self._WHITESPACE:
            index += 1
        return index

    def _note(self, paths: tuple[str, ...], index: int) -> None:
        line = self.lines.at(index)
        for path in paths:
            self.found.setdefault(path, line)

    def _value(self, index: int, depth: int, path: str = "") -> tuple[object, int]:
        char = self.text[index:index + 1]
        if char in ("{", "["):
            if depth >= MAX_DEPTH:
                raise _Misplaced("file.too_deep", index, limit=MAX_DEPTH)
            if char == "{":
                return self._object(index, depth + 1, path)
            return self._array(index, depth + 1, path)
        value: object
        value, end = self._decoder.raw_decode(self.text, index)
        return value, end

    def _object(self, index: int, depth: int, path: str) -> tuple[object, int]:
        text = self.text
        result: dict[str, object] = {}
        index = self._skip(index + 1)
        if text.startswith("}", index):
            return result, index + 1
        while True:
            if not text.startswith('"', index):
                raise json.JSONDecodeError(
                    "Expecting property name enclosed in double quotes", text, index)
            key_at = index
            key, index = self._decoder.raw_decode(text, index)
            if key in result:
                raise _Misplaced("file.duplicate_key", key_at, name=json.dumps(key))
            index = self._skip(index)
            if not text.startswith(":", index):
                raise json.JSONDecodeError("Expecting ':' delimiter", text, index)
            index = self._skip(index + 1)
            paths = _key_paths(path, key)
            self._note(paths, index)
            result[key], index = self._value(index, depth, paths[0])
            index = self._skip(index)
            if text.startswith("}", index):
                return result, index + 1
            if not text.startswith(",", index):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
            index = self._skip(index + 1)

    def _array(self, index: int, depth: int, path: str) -> tuple[object, int]:
        text = self.text
        result: list[object] = []
        index = self._skip(index + 1)
        if text.startswith("]", index):
            return result, index + 1
        while True:
            item_path = f"{path}[{len(result)}]"
            self._note((item_path,), index)
            item, index = self._value(index, depth, item_path)
            result.append(item)
            index = self._skip(index)
            if text.startswith("]", index):
                return result, index + 1
            if not text.startswith(",", index):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
            index = self._skip(index + 1)


# -- TOML -------------------------------------------------------------------------------

_TOML_PLACE = re.compile(r"\s*\(at line ([0-9]+), column ([0-9]+)\)\Z")
_TOML_END = re.compile(r"\s*\(at end of document\)\Z")


def _read_toml(text: str, file: str) -> tuple[object, dict[str, int]]:
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_syntax_error(str(exc), text, file) from None
    return _as_alert_values(table), _TomlScanner(text).scan()


def _toml_syntax_error(message: str, text: str, file: str) -> AlertFileError:
    """tomllib (3.11) gives the place only in its message: "... (at line 3, column 7)"."""
    place = _TOML_PLACE.search(message)
    if place is not None:
        line, column = int(place[1]), int(place[2])
        detail = message[:place.start()]
    else:
        line = text.count("\n") + 1
        column = len(text) - text.rfind("\n")
        end = _TOML_END.search(message)
        detail = message[:end.start()] if end is not None else message
    return AlertFileError("file.syntax", file=file, line=line, column=column, format="TOML",
                          detail=detail)


def _as_alert_values(value: object) -> object:
    """TOML date-times, dates and times as RFC 3339 strings (UTC written ``Z``)."""
    if isinstance(value, dict):
        return {key: _as_alert_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_alert_values(item) for item in value]
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-len("+00:00")] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date | time):
        return value.isoformat()
    return value


class _StopScan(Exception):
    """The text is not TOML as the scanner reads it: keep the lines found so far."""


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# Numbers, booleans, dates and times: everything up to a delimiter.
_BARE_VALUE = re.compile(r"[^\s,\]}#]+")
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SPACE_THEN_TIME = re.compile(r" (?=[0-9]{2}:[0-9]{2})")  # RFC 3339 allows a space for T


class _TomlScanner:
    """The lines of the paths of a TOML text that :mod:`tomllib` has already accepted.

    A path named by a table header or a dotted key before its own definition
    (``[a.b]`` before ``[a]``) is noted as implicit; its own definition moves it.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _Lines(text)
        self.found: dict[str, int] = {}
        self._implicit: set[str] = set()
        self._tables_in_array: dict[str, int] = {}  # path of [[x]] -> how many so far

    def scan(self) -> dict[str, int]:
        text = self.text
        table = ""
        index = 0
        try:
            while True:
                index = self._skip(index, newlines=True)
                if index >= len(text):
                    break
                if text.startswith("[[", index):
                    table, index = self._array_table(index)
                elif text.startswith("[", index):
                    table, index = self._table(index)
                else:
                    index = self._key_value(index, table)
        except _StopScan:
            pass
        return self.found

    def _note(self, path: str, index: int, *, implicit: bool = False) -> None:
        if implicit:
            if path not in self.found:
                self.found[path] = self.lines.at(index)
                self._implicit.add(path)
        elif path not in self.found or path in self._implicit:
            self.found[path] = self.lines.at(index)
            self._implicit.discard(path)

    def _skip(self, index: int, *, newlines: bool) -> int:
        """Past spaces, tabs, comments and, if ``newlines``, line ends."""
        text = self.text
        blanks = " \t\r\n" if newlines else " \t"
        while index < len(text):
            if text[index] in blanks:
                index += 1
            elif text[index] == "#":
                end = text.find("\n", index)
                index = len(text) if end < 0 else end
            else:
                break
        return index

    def _expect(self, token: str, index: int) -> int:
        index = self._skip(index, newlines=False)
        if not self.text.startswith(token, index):
            raise _StopScan
        return index + len(token)

    def _keys(self, index: int) -> tuple[list[str], int]:
        """A dotted key: its parts, and the offset after it."""
        text = self.text
        keys: list[str] = []
        while True:
            index = self._skip(index, newlines=False)
            if text[index:index + 1] in ('"', "'"):
                end = self._string_end(index)
                # tomllib decodes the quoted key, escapes and all.
                keys.extend(tomllib.loads(f"{text[index:end]} = 0"))
            else:
                bare = _BARE_KEY.match(text, index)
                if bare is None:
                    raise _StopScan
                keys.append(bare.group())
                end = bare.end()
            index = self._skip(end, newlines=False)
            if not text.startswith(".", index):
                return keys, index
            index += 1

    def _join(self, prefix: str, keys: list[str], index: int, *, resolve: bool) -> str:
        """The path of ``keys`` under ``prefix``; parents are noted as implicit.

        With ``resolve`` (table headers), a key naming an array of tables means its
        last table, as in TOML.
        """
        path = prefix
        for position, key in enumerate(keys):
            paths = _key_paths(path, key)
            path = paths[0]
            if resolve and path in self._tables_in_array:
                path = f"{path}[{self._tables_in_array[path] - 1}]"
            if position < len(keys) - 1:
                for each in paths:
                    self._note(each, index, implicit=True)
            else:
                for alias in paths[1:]:
                    self._note(alias, index)
        return path

    def _table(self, index: int) -> tuple[str, int]:
        keys, end = self._keys(index + 1)
        path = self._join("", keys, index, resolve=True)
        self._note(path, index)
        return path, self._expect("]", end)

    def _array_table(self, index: int) -> tuple[str, int]:
        keys, end = self._keys(index + 2)
        *parents, last = keys
        parent = self._join("", parents, index, resolve=True)
        if parent:
            self._note(parent, index, implicit=True)
        array = self._join(parent, [last], index, resolve=False)
        count = self._tables_in_array.get(array, 0)
        self._tables_in_array[array] = count + 1
        self._note(array, index)
        path = f"{array}[{count}]"
        self._note(path, index)
        return path, self._expect("]]", end)

    def _key_value(self, index: int, table: str) -> int:
        keys, end = self._keys(index)
        path = self._join(table, keys, index, resolve=False)
        start = self._skip(self._expect("=", end), newlines=False)
        return self._value(start, path)

    def _value(self, index: int, path: str) -> int:
        self._note(path, index)
        text = self.text
        char = text[index:index + 1]
        if char == "[":
            return self._array(index, path)
        if char == "{":
            return self._inline_table(index, path)
        if char in ('"', "'"):
            return self._string_end(index)
        bare = _BARE_VALUE.match(text, index)
        if bare is None:
            raise _StopScan
        end = bare.end()
        if _DATE_ONLY.fullmatch(bare.group()) and _SPACE_THEN_TIME.match(text, end):
            time_part = _BARE_VALUE.match(text, end + 1)
            if time_part is not None:
                end = time_part.end()
        return end

    def _array(self, index: int, path: str) -> int:
        text = self.text
        index += 1
        count = 0
        while True:
            index = self._skip(index, newlines=True)
            if text.startswith("]", index):
                return index + 1
            index = self._value(index, f"{path}[{count}]")
            count += 1
            index = self._skip(index, newlines=True)
            if text.startswith(",", index):
                index += 1
            elif not text.startswith("]", index):
                raise _StopScan

    def _inline_table(self, index: int, path: str) -> int:
        text = self.text
        index += 1
        while True:
            index = self._skip(index, newlines=True)
            if text.startswith("}", index):
                return index + 1
            keys, end = self._keys(index)
            inner = self._join(path, keys, index, resolve=False)
            index = self._value(self._skip(self._expect("=", end), newlines=False), inner)
            index = self._skip(index, newlines=True)
            if text.startswith(",", index):
                index += 1
            elif not text.startswith("}", index):
                raise _StopScan

    def _string_end(self, index: int) -> int:
        """The offset after the string that starts at ``index`` (any of the four kinds)."""
        text = self.text
        quote = text[index]
        multiline = text.startswith(quote * 3, index)
        delimiter = quote * 3 if multiline else quote
        position = index + len(delimiter)
        while position < len(text):
            if quote == '"' and text[position] == "\\":
                position += 2
                continue
            if text.startswith(delimiter, position):
                end = position + len(delimiter)
                # Up to two quotes right before the closing three belong to the string.
                for _ in range(2):
                    if multiline and text.startswith(quote, end):
                        end += 1
                return end
            if not multiline and text[position] == "\n":
                break
            position += 1
        raise _StopScan
