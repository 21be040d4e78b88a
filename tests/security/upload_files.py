"""Hostile upload files, built small and fast inside the tests.

A zip bomb here is a real DOCX or XLSX whose central directory declares that one entry
unpacks to 10 GiB (the file itself is a few kilobytes), or whose entry really is megabytes
of zeros that deflate about 1000 to 1. Both are what a ZIP-based upload can claim or do."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

TEN_GIB = 10 * 1024**3


def rezip(entries: list[tuple[str, bytes]], declared: dict[str, int] | None = None) -> bytes:
    """A ZIP of ``entries``; an entry named in ``declared`` gets that uncompressed size in the
    central directory (Zip64 when over 4 GiB) whatever its data really holds."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as out:
                out.write(data)
            if declared and name in declared:
                info.file_size = declared[name]  # written to the central directory on close
    return buffer.getvalue()


def entries_of(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def docx_bytes(text: str = "A real Word document about the bakery's opening hours.") -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes(rows: list[list[str]] | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows or [["instruction", "output", "review"], ["Say hi", "Hi!", "Good"]]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def declared_bomb(data: bytes, entry: str, size: int = TEN_GIB) -> bytes:
    """The same package with ``entry`` declaring ``size`` uncompressed bytes."""
    entries = entries_of(data)
    assert entry in [name for name, _ in entries]
    return rezip(entries, {entry: size})


def zeros_bomb(data: bytes, megabytes: int = 8) -> bytes:
    """The same package plus an honest entry of zeros (about 1000:1 when deflated)."""
    return rezip([*entries_of(data), ("word/media/zeros.bin", b"\0" * (megabytes << 20))])


def docx_bomb(path: Path) -> Path:
    path.write_bytes(declared_bomb(docx_bytes(), "word/document.xml"))
    return path


def xlsx_bomb(path: Path) -> Path:
    path.write_bytes(declared_bomb(xlsx_bytes(), "xl/worksheets/sheet1.xml"))
    return path


def xlsx_with_sheet(path: Path, sheet_xml: str) -> Path:
    """A real workbook whose first sheet's XML is replaced (hand-made rows or dimensions)."""
    entries = [(n, sheet_xml.encode() if n == "xl/worksheets/sheet1.xml" else d) for n, d in entries_of(xlsx_bytes())]
    path.write_bytes(rezip(entries))
    return path


def sheet_xml(rows: int, dimension: str = "", last_row: int = 0, tail: str = "") -> str:
    """Sheet XML with a header row and ``rows`` rows of inline strings, made as text (fast);
    ``last_row`` adds one more row that far down (the rows between are simply absent);
    ``tail`` is raw row XML put after them."""
    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>instruction</t></is></c><c r="B1" t="inlineStr"><is><t>output</t></is></c></row>'
    body = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>q{i}</t></is></c><c r="B{i}" t="inlineStr"><is><t>a{i}</t></is></c></row>'
        for i in range(2, rows + 2)
    )
    if last_row:
        body += f'<row r="{last_row}"><c r="A{last_row}" t="inlineStr"><is><t>last</t></is></c></row>'
    body += tail
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{header}{body}</sheetData></worksheet>"
    )


def many_rows_csv(path: Path, rows: int, header: str = "instruction,output,review") -> Path:
    """A CSV with ``rows`` short rows, written in one go."""
    path.write_bytes((header + "\n").encode() + b"Say hi,Hi!,ok\n" * rows)
    return path


def pdf_with_pages(path: Path, pages: int, declared: int | None = None) -> Path:
    """A PDF of ``pages`` pages, each with one line of text; ``declared`` overrides the page
    tree's /Count (a PDF can claim any number of pages)."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, NumberObject

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    if declared is not None:
        writer._root_object["/Pages"][NameObject("/Count")] = NumberObject(declared)
    with path.open("wb") as file:
        writer.write(file)
    return path
