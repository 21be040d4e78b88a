"""Reading a batch table (CSV, TSV, XLSX, JSONL) into rows of strings, with a plain
message for every way a file can be unusable.

Errors are raised as InvalidInput before anything runs, so a bad file never leaves a
half-made run behind. Files are read row by row: past the row limit rows are only counted
(up to ``COUNT_BEYOND_LIMIT`` times the limit), never kept, so a long file costs little.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from playground import text_decoding, text_stream
from playground.compare.batch_xlsx import first_sheet, sheet_records
from playground.errors import InvalidInput
from playground.i18n import Text, t
from playground.jsonl import json_objects
from playground.text_stream import Encoding
from playground.zip_safety import ArchiveLimits

SUPPORTED = (".csv", ".tsv", ".xlsx", ".jsonl")
ROW_LIMIT_ENV = "PLAYGROUND_BATCH_ROW_LIMIT"
COUNT_BEYOND_LIMIT = 10  # rows past the limit are counted for the message up to this many times the limit


class TooManyRows(InvalidInput):
    """More rows than the limit, found while reading: the rest of the file was not read."""

    def __init__(self, count: int, limit: int, exact: bool):
        self.count, self.limit, self.exact = count, limit, exact
        super().__init__(row_limit_text(count, limit, exact))


def row_limit_text(count: int, limit: int, exact: bool = True, env: str = ROW_LIMIT_ENV) -> Text:
    """A batch table's refusal for having more rows than the limit, in the reader's language."""
    counted: Text | int = count if exact else Text("compare.more_than", {"n": count})
    return t("compare.rows_over_limit", count=counted, limit=limit, env=env)


def row_limit_message(
    count: int, limit: int, exact: bool = True, env: str = ROW_LIMIT_ENV, after: str = "Nothing was run."
) -> str:
    counted = f"{count}" if exact else f"more than {count}"
    return f"This file has {counted} rows; the limit is {limit} ({env}). {after}"


@dataclass(frozen=True)
class Table:
    """An uploaded table: its column names, its non-blank rows, and how it was read."""

    filename: str
    columns: list[str]
    rows: list[dict[str, str]]
    notes: list[Text | str] = field(default_factory=list)  # e.g. the encoding that was assumed

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


def load_table(
    path: str | Path,
    filename: str | None = None,
    *,
    row_limit: int | None = None,
    archive: ArchiveLimits | None = None,
    text_fallback: Callable[[Path], Encoding | None] | None = None,
) -> Table:
    """Read the file, choosing the format by the extension of ``filename`` (else of ``path``).
    ``row_limit``: refuse (``TooManyRows``) a file with more rows, without reading it all.
    ``archive``: what an .xlsx may unpack to. ``text_fallback``: the encoding of a CSV/TSV
    that is not UTF-8 (default: assume Windows-1252)."""
    path = Path(path)
    name = filename or path.name
    suffix = Path(name).suffix.lower()
    if suffix == ".xls":
        raise InvalidInput(t("compare.old_excel", name=name))
    if suffix not in SUPPORTED:
        raise InvalidInput(t("compare.not_a_table", name=name))
    if not path.is_file():
        raise InvalidInput(t("compare.file_missing", name=name))
    if text_stream.is_blank(path):
        raise InvalidInput(t("compare.file_empty", name=name))
    if suffix == ".xlsx":
        columns, rows, notes = _read_xlsx(path, name, row_limit, archive or ArchiveLimits())
    elif suffix == ".jsonl":
        columns, rows, notes = _read_jsonl(path, name, row_limit)
    else:
        fallback = (lambda: text_fallback(path)) if text_fallback is not None else _assume_cp1252(name)
        columns, rows, notes = _read_delimited(path, name, tab=suffix == ".tsv", row_limit=row_limit, fallback=fallback)
    if not rows:
        raise InvalidInput(t("compare.header_only", name=name))
    return Table(name, columns, rows, notes)


def check_table(table: Table, *, row_limit: int | None = None, variables: Sequence[str] = ()) -> dict[str, str]:
    """Refuse a table that is too long or lacks a column for a template variable; returns
    which column fills each variable."""
    if row_limit is not None and table.row_count > row_limit:
        raise InvalidInput(row_limit_text(table.row_count, row_limit))
    mapping = match_variables(table.columns, variables)
    missing = [v for v in variables if v not in mapping]
    if missing:
        raise InvalidInput(t("compare.no_column_for", missing=", ".join(missing), columns=", ".join(table.columns)))
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
    records: Iterable[tuple[int, Sequence[Any]]], name: str, what: str, row_limit: int | None = None
) -> tuple[list[str], list[dict[str, str]]]:
    """Header + value rows (each with its line/row number for messages) into dicts; past
    ``row_limit`` rows are only counted, and reading stops at ``RowCounter``'s cap."""
    columns: list[str] | None = None
    rows: list[dict[str, str]] = []
    counter = RowCounter(row_limit)
    for number, record in records:
        if columns is not None and counter.full(len(rows)):
            counter.count(any(_cell_text(v).strip() for v in record))
            continue
        values = [_cell_text(v) for v in record]
        if not any(v.strip() for v in values):
            continue  # fully blank lines are skipped, header or not
        if columns is None:
            columns = _header(values, name)
            continue
        extra = [v for v in values[len(columns) :] if v.strip()]
        if extra:
            word = Text(f"compare.{what.lower()}_word") if what in ("Line", "Row") else what
            values_found = {"what": word, "number": number, "name": name, "count": len(values), "columns": len(columns)}
            raise InvalidInput(t("compare.too_many_values", **values_found))
        values += [""] * (len(columns) - len(values))
        rows.append(dict(zip(columns, values)))
    if columns is None:
        raise InvalidInput(t("compare.file_empty", name=name))
    counter.finish()
    return columns, rows


class RowCounter:
    """Counts the rows past a limit without keeping them, and stops the count at
    ``COUNT_BEYOND_LIMIT`` times the limit, so a million-row file is never read through."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self.over = 0

    def full(self, kept: int) -> bool:
        return self.limit is not None and kept >= self.limit

    def count(self, non_blank: bool) -> None:
        if not non_blank or self.limit is None:
            return
        self.over += 1
        cap = self.limit * COUNT_BEYOND_LIMIT
        if self.limit + self.over > cap:
            raise TooManyRows(cap, self.limit, exact=False)

    def finish(self) -> None:
        if self.over and self.limit is not None:
            raise TooManyRows(self.limit + self.over, self.limit, exact=True)


def _header(values: list[str], name: str) -> list[str]:
    while values and not values[-1].strip():
        values = values[:-1]  # trailing empty header cells (a stray separator) are not columns
    columns = [v.strip() or f"column_{i + 1}" for i, v in enumerate(values)]
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise InvalidInput(t("compare.duplicate_column", column=column, name=name))
        seen.add(column)
    return columns


def _binary(name: str) -> InvalidInput:
    return InvalidInput(t("compare.binary_file", name=name))


def _assume_cp1252(name: str) -> Callable[[], Encoding]:
    note = t("compare.read_as_cp1252", name=name)
    return lambda: Encoding("cp1252", note, strict_controls=True)


def _read_delimited(
    path: Path, name: str, *, tab: bool, row_limit: int | None, fallback: Callable[[], Encoding | None]
) -> tuple[list[str], list[dict[str, str]], list[Text | str]]:
    start = text_stream.head(path)
    if start[:4] == b"PK\x03\x04":
        raise InvalidInput(t("compare.zip_not_text", name=name))

    def read(lines: Iterator[str], encoding: Encoding):
        columns, rows, notes = _parse_delimited(lines, name, tab=tab, row_limit=row_limit)
        return columns, rows, ([encoding.note] if encoding.note else []) + notes

    try:
        return text_stream.read_with(path, text_stream.candidates(start, fallback, "Read as UTF-16 text."), read)
    except (text_decoding.BinaryData, text_decoding.ControlCharacters) as err:
        raise _binary(name) from err
    except text_stream.WrongEncoding as err:
        if start.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise _binary(name) from err
        raise InvalidInput(t("compare.not_utf8_nor_cp1252", name=name)) from err


def _parse_delimited(
    lines: Iterator[str], name: str, *, tab: bool, row_limit: int | None
) -> tuple[list[str], list[dict[str, str]], list[Text | str]]:
    first: list[str] = []
    for line in lines:  # up to the header, to choose the separator from it
        first.append(line)
        if line.strip():
            break
    delimiter = "\t" if tab else _guess_delimiter("".join(first[-1:]))
    notes: list[Text | str] = []
    if delimiter != "," and not tab:
        shown = t("compare.separator_tab") if delimiter == "\t" else delimiter
        notes.append(t("compare.columns_separated_by", separator=shown))
    reader = csv.reader(itertools.chain(first, lines), delimiter=delimiter)
    try:
        columns, rows = _rows_from_records(((reader.line_num, rec) for rec in reader), name, "Line", row_limit)
    except csv.Error as err:
        raise InvalidInput(t("compare.malformed_table", name=name, line=reader.line_num, error=err)) from err
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


def _read_xlsx(
    path: Path, name: str, row_limit: int | None, archive: ArchiveLimits
) -> tuple[list[str], list[dict[str, str]], list[Text | str]]:
    with first_sheet(path, name, archive) as (sheet, notes):
        try:
            columns, rows = _rows_from_records(sheet_records(sheet, name, notes), name, "Row", row_limit)
        except InvalidInput:
            raise
        except Exception as err:
            raise InvalidInput(t("compare.damaged_workbook", name=name, kind=type(err).__name__)) from err
    return columns, rows, list(notes)


def _read_jsonl(
    path: Path, name: str, row_limit: int | None
) -> tuple[list[str], list[dict[str, str]], list[Text | str]]:
    columns: list[str] = []
    kept: list[dict[str, Any]] = []  # objects with a value in a named column
    seen = False
    counter = RowCounter(row_limit)
    lines = text_stream.lines(path, text_stream.UTF8, scan_chars=0)
    try:
        for _, value in json_objects(lines, name, '{"product": "…", "review": "…"}'):
            seen = True
            non_blank = any(k and _cell_text(v, json_values=True).strip() for k, v in value.items())
            if counter.full(len(kept)):
                counter.count(non_blank)
                continue
            columns.extend(k for k in value if k and k not in columns)
            if non_blank:
                kept.append(value)
    except UnicodeDecodeError as err:
        raise InvalidInput(t("compare.jsonl_not_utf8", name=name)) from err
    counter.finish()
    if not seen:
        raise InvalidInput(t("compare.file_empty", name=name))
    return columns, [{c: _cell_text(obj.get(c), json_values=True) for c in columns} for obj in kept], []


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
