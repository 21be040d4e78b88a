"""The first sheet of an uploaded .xlsx, opened safely and read one row at a time.

A workbook is a ZIP package (checked by ``playground.zip_safety`` before openpyxl opens it),
and a few KB of sheet XML can claim 16,384 columns, row numbers in the billions (openpyxl
fills the rows skipped with blank ones) or a million styled empty rows. So rows are read at
most ``XLSX_MAX_COLUMNS`` wide, and reading ends after ``XLSX_BLANK_RUN`` blank rows in a row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playground.errors import InvalidInput
from playground.i18n import t
from playground.zip_safety import ArchiveLimits, check_archive

XLSX_MAX_COLUMNS = 1000  # a workbook row is read this wide, whatever width a cell far right claims
XLSX_BLANK_RUN = 100_000  # blank rows in a row after which the rest of a sheet is not read


@contextmanager
def first_sheet(path: Path, name: str, archive: ArchiveLimits) -> Iterator[tuple[Any, list[str]]]:
    """The workbook's first read-only sheet and the notes about it; closed afterwards."""
    check_archive(path, name, "Excel workbook", archive)
    from openpyxl import load_workbook  # only batch and dataset uploads need it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as err:
        raise InvalidInput(t("compare.unreadable_workbook", name=name)) from err
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise InvalidInput(t("compare.no_worksheets", name=name))
        notes = (
            [f"Read the first sheet, “{sheet.title}” (the workbook has {len(workbook.worksheets)})."]
            if len(workbook.worksheets) > 1
            else []
        )
        yield sheet, notes
    finally:
        workbook.close()


def sheet_records(sheet: Any, name: str, notes: list[str]) -> Iterator[tuple[int, Sequence[Any]]]:
    """(row number, values up to the last one) of the rows of a read-only sheet that hold a value."""
    sheet.reset_dimensions()  # a declared size is not trusted: rows and the rows skipped are read as they are
    blank_run = 0
    for number, values in enumerate(sheet.iter_rows(values_only=True, max_col=XLSX_MAX_COLUMNS + 1), start=1):
        if values.count(None) == len(values):  # the cheap test first: most blank rows are all None
            blank_run += 1
            if blank_run >= XLSX_BLANK_RUN:
                notes.append(
                    f"Stopped reading at row {number:,}: it ends {XLSX_BLANK_RUN:,} blank rows in a row, "
                    "and anything further down was not read."
                )
                return
            continue
        blank_run = 0
        if values[-1] is not None and str(values[-1]).strip():
            raise InvalidInput(t("compare.too_many_xlsx_columns", number=number, name=name, limit=XLSX_MAX_COLUMNS))
        last = next(i for i in range(len(values) - 1, -1, -1) if values[i] is not None)
        yield number, values[: last + 1]  # as wide as its last value, for the messages
