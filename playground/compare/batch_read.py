"""Reading a batch table (CSV, TSV, XLSX, JSONL) into rows of strings, with a plain
message for every way a file can be unusable.

Errors are raised as InvalidInput before anything runs, so a bad file never leaves a
half-made run behind.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from playground import text_decoding
from playground.errors import InvalidInput

SUPPORTED = (".csv", ".tsv", ".xlsx", ".jsonl")
ROW_LIMIT_ENV = "PLAYGROUND_BATCH_ROW_LIMIT"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SAVE_AS_UTF8 = (
    "In Excel use File → Save As → “CSV UTF-8”; in other editors choose the UTF-8 encoding, then upload it again."
)


@dataclass(frozen=True)
class Table:
    """An uploaded table: its column names, its non-blank rows, and how it was read."""

    filename: str
    columns: list[str]
    rows: list[dict[str, str]]
    notes: list[str] = field(default_factory=list)  # e.g. the encoding that was assumed

    @property
    def row_count(self) -> int:
        return len(self.rows)


def read_table(
    path: str | Path, filename: str | None = None, *, row_limit: int | None = None, variables: Sequence[str] = ()
) -> list[dict[str, str]]:
    """The rows of a table file, each a {column: value} dict of strings."""
    table = load_table(path, filename)
    check_table(table, row_limit=row_limit, variables=variables)
    return table.rows


def load_table(path: str | Path, filename: str | None = None) -> Table:
    """Read the file, choosing the format by the extension of ``filename`` (else of ``path``)."""
    path = Path(path)
    name = filename or path.name
    suffix = Path(name).suffix.lower()
    if suffix == ".xls":
        raise InvalidInput(
            f"{name} is an old-style Excel file (.xls). Save it as .xlsx (Excel workbook) or CSV UTF-8 and upload that."
        )
    if suffix not in SUPPORTED:
        raise InvalidInput(f"{name} is not a table Playground can read. Upload a .csv, .tsv, .xlsx or .jsonl file.")
    if not path.is_file():
        raise InvalidInput(f"The file {name} could not be found; upload it again.")
    data = path.read_bytes()
    if not data.strip():
        raise InvalidInput(f"{name} is empty.")
    if suffix == ".xlsx":
        columns, rows, notes = _read_xlsx(path, name)
    elif suffix == ".jsonl":
        columns, rows, notes = _read_jsonl(data, name)
    else:
        columns, rows, notes = _read_delimited(data, name, tab=suffix == ".tsv")
    if not rows:
        raise InvalidInput(f"{name} has a header row but no rows of values.")
    return Table(name, columns, rows, notes)


def check_table(table: Table, *, row_limit: int | None = None, variables: Sequence[str] = ()) -> dict[str, str]:
    """Refuse a table that is too long or lacks a column for a template variable; returns
    which column fills each variable."""
    if row_limit is not None and table.row_count > row_limit:
        raise InvalidInput(
            f"This file has {table.row_count} rows; the limit is {row_limit} ({ROW_LIMIT_ENV}). Nothing was run."
        )
    mapping = match_variables(table.columns, variables)
    missing = [v for v in variables if v not in mapping]
    if missing:
        raise InvalidInput(
            f"The file has no column for: {', '.join(missing)}. Its columns are: {', '.join(table.columns)}."
        )
    return mapping


def match_variables(columns: Sequence[str], variables: Iterable[str]) -> dict[str, str]:
    """Which column fills each template variable: the same name, or else the only column
    whose name matches ignoring case, spaces and dashes ("Product Name" → product_name)."""
    mapping: dict[str, str] = {}
    for variable in variables:
        if variable in columns:
            mapping[variable] = variable
            continue
        loose = [c for c in columns if _loose(c) == _loose(variable)]
        if len(loose) == 1:
            mapping[variable] = loose[0]
    return mapping


def _loose(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


# ---- formats ---------------------------------------------------------------------------
def _rows_from_records(
    records: Iterable[tuple[int, Sequence[Any]]], name: str, what: str
) -> tuple[list[str], list[dict[str, str]]]:
    """Header + value rows (each with its line/row number for messages) into dicts."""
    columns: list[str] | None = None
    rows: list[dict[str, str]] = []
    for number, record in records:
        values = [_cell_text(v) for v in record]
        if not any(v.strip() for v in values):
            continue  # fully blank lines are skipped, header or not
        if columns is None:
            columns = _header(values, name)
            continue
        extra = [v for v in values[len(columns) :] if v.strip()]
        if extra:
            raise InvalidInput(
                f"{what} {number} of {name} has {len(values)} values but the header names {len(columns)} columns. "
                "A value that contains the separator (e.g. a comma) must be in double quotes."
            )
        values += [""] * (len(columns) - len(values))
        rows.append(dict(zip(columns, values)))
    if columns is None:
        raise InvalidInput(f"{name} is empty.")
    return columns, rows


def _header(values: list[str], name: str) -> list[str]:
    while values and not values[-1].strip():
        values = values[:-1]  # trailing empty header cells (a stray separator) are not columns
    columns = [v.strip() or f"column_{i + 1}" for i, v in enumerate(values)]
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise InvalidInput(
                f"The column name “{column}” appears twice in the header of {name}; give each column its own name."
            )
        seen.add(column)
    return columns


def _decode_text(data: bytes, name: str) -> tuple[str, list[str]]:
    if data[:4] == b"PK\x03\x04":
        raise InvalidInput(
            f"{name} is a zip or Excel workbook, not a text table. If it is an Excel file, name it .xlsx (or export it as CSV UTF-8)."
        )
    try:
        decoded = text_decoding.decode_text(data, fallbacks=("cp1252",), scan_bytes=65536)
    except text_decoding.BinaryData as err:
        raise InvalidInput(
            f"{name} is not a text table: it contains binary data. Upload the table itself, saved as CSV UTF-8, XLSX or JSONL."
        ) from err
    except text_decoding.UndecodableText as err:
        raise InvalidInput(
            f"{name} is not UTF-8 text, and it is not Windows-1252 text either. Please save it as UTF-8. {_SAVE_AS_UTF8}"
        ) from err
    if decoded.encoding == text_decoding.UTF16:
        return decoded.text, ["Read as UTF-16 text."]
    if not decoded.is_utf8:
        return decoded.text, [
            f"{name} is not UTF-8, so it was read as Windows-1252 (Western European). If accented letters look wrong below, save it as UTF-8 and upload it again."
        ]
    return decoded.text, []


def _read_delimited(data: bytes, name: str, *, tab: bool) -> tuple[list[str], list[dict[str, str]], list[str]]:
    text, notes = _decode_text(data, name)
    if _CONTROL.search(text[:65536]):
        raise InvalidInput(
            f"{name} is not a text table: it contains binary data. Upload the table itself, saved as CSV UTF-8, XLSX or JSONL."
        )
    delimiter = "\t" if tab else _guess_delimiter(text)
    if delimiter != "," and not tab:
        notes.append(f"Columns are separated by “{'tab' if delimiter == chr(9) else delimiter}”.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns, rows = _rows_from_records(((reader.line_num, rec) for rec in reader), name, "Line")
    except csv.Error as err:
        raise InvalidInput(f"{name} is not a well-formed table near line {reader.line_num}: {err}.") from err
    return columns, rows, notes


def _guess_delimiter(text: str) -> str:
    """Comma, unless the header line has none but has semicolons or tabs (Excel in many
    European locales saves "CSV" with semicolons)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    if "," in header:
        return ","
    for candidate in (";", "\t", "|"):
        if candidate in header:
            return candidate
    return ","


def _read_xlsx(path: Path, name: str) -> tuple[list[str], list[dict[str, str]], list[str]]:
    from openpyxl import load_workbook  # only batch uploads need it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as err:
        raise InvalidInput(
            f"{name} is not a readable Excel workbook (.xlsx): it may be damaged or another kind of file. Open it in Excel and save it again as .xlsx or CSV UTF-8."
        ) from err
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise InvalidInput(f"{name} has no worksheets.")
        notes = (
            [f"Read the first sheet, “{sheet.title}” (the workbook has {len(workbook.worksheets)})."]
            if len(workbook.worksheets) > 1
            else []
        )
        try:
            records = list(enumerate(sheet.iter_rows(values_only=True), start=1))
        except Exception as err:
            raise InvalidInput(
                f"{name} could not be read: the workbook looks damaged ({type(err).__name__}). Save it again and upload it."
            ) from err
    finally:
        workbook.close()
    columns, rows = _rows_from_records(records, name, "Row")
    return columns, rows, notes


def json_type_name(value: Any) -> str:
    """What a JSON value is, in words for a message."""
    if isinstance(value, bool):
        return "true/false value"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    return "object" if isinstance(value, dict) else "list"


def json_objects(
    text: str, name: str, example: str, after: str = "", bare_key: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object with trimmed keys) for each non-blank line of a JSON Lines text;
    a plain message naming the line for one that is not a JSON object. ``example`` shows
    what a line should look like; ``after`` ends every message. With ``bare_key``, a line
    that is just a JSON string stands for ``{bare_key: that string}``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise InvalidInput(
                f"Line {number} of {name} is not valid JSON ({err.msg} at character {err.colno}). Each line must be one object like {example}.{after}"
            ) from err
        if bare_key is not None and isinstance(value, str):
            value = {bare_key: value}
        if not isinstance(value, dict):
            raise InvalidInput(
                f"Line {number} of {name} is a {json_type_name(value)}, not an object like {example}.{after}"
            )
        yield number, {str(k).strip(): v for k, v in value.items()}


def _read_jsonl(data: bytes, name: str) -> tuple[list[str], list[dict[str, str]], list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidInput(f"{name} is not UTF-8 text (JSON Lines must be). Please save it as UTF-8.") from err
    columns: list[str] = []
    objects: list[dict[str, Any]] = []
    for _, value in json_objects(text, name, '{"product": "…", "review": "…"}'):
        for key in value:
            if key and key not in columns:
                columns.append(key)
        objects.append(value)
    if not objects:
        raise InvalidInput(f"{name} is empty.")
    rows = [{c: _cell_text(obj.get(c), json_values=True) for c in columns} for obj in objects]
    rows = [row for row in rows if any(v.strip() for v in row.values())]
    return columns, rows, []


def _cell_text(value: Any, json_values: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 4 as 4.0
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if json_values and isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def preview_rows(table: Table, limit: int = 5) -> list[list[str]]:
    return [[row.get(c, "") for c in table.columns] for row in table.rows[:limit]]


def first_blank_values(
    rows: Sequence[Mapping[str, str]], mapping: Mapping[str, str], limit: int = 5
) -> dict[str, list[int]]:
    """For each variable, the (1-based) rows where its column is blank."""
    blanks: dict[str, list[int]] = {}
    for number, row in enumerate(rows, start=1):
        for variable, column in mapping.items():
            if not str(row.get(column, "")).strip():
                found = blanks.setdefault(variable, [])
                if len(found) < limit:
                    found.append(number)
    return blanks
