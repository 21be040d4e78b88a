"""Turn an uploaded file into pages of plain text, with headings and warnings for the preview.

Every way a file can be unusable ends in an ``InvalidInput`` with a sentence the user can
act on (empty, too large, encrypted, corrupt, binary, unknown encoding, all scripts...).
The containers (PDF, Word) are read here; the text formats in ``playground.rag.text_formats``,
and what a parsed file is lives in ``playground.rag.parsed``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from pathlib import Path

from playground.errors import InvalidInput
from playground.formatting import bytes_text
from playground.i18n import t
from playground.rag.notes import Note
from playground.rag.parsed import (  # callers import these from here too
    DEFAULT_MAX_PDF_PAGES,
    MIN_PAGE_CHARS,
    PDF_PAGES_ENV,
    ParsedDocument,
    ParsedPage,
    ParseLimits,
)
from playground.rag.text_formats import (  # noqa: F401 - decode_text is re-exported
    decode_text,
    guess_headings,
    parse_csv,
    parse_html,
    parse_markdown,
    parse_text,
    visible,
)
from playground.zip_safety import WORD_DOCUMENT, ArchiveLimits, check_archive

log = logging.getLogger(__name__)

FORMATS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
}
SUPPORTED = "PDF, DOCX, TXT, Markdown, HTML or CSV"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_upload(path: str | Path, max_bytes: int, filename: str | None = None) -> tuple[str, bytes]:
    """The file's display name and bytes, refusing missing, empty and oversized files."""
    file = Path(path)
    name = filename or file.name
    if not file.is_file():
        raise InvalidInput(t("documents.upload_gone", name=name))
    size = file.stat().st_size
    if size == 0:
        raise InvalidInput(t("documents.file_empty", name=name))
    if size > max_bytes:
        raise InvalidInput(t("documents.file_too_big", name=name, size=bytes_text(size), limit=bytes_text(max_bytes)))
    return name, file.read_bytes()


def detect_format(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix == ".doc":
        raise InvalidInput(t("documents.old_doc", filename=filename))
    if suffix not in FORMATS:
        raise InvalidInput(
            t("documents.unsupported_type", filename=filename, suffix=suffix or "(no extension)", supported=SUPPORTED)
        )
    return FORMATS[suffix]


def parse_bytes(filename: str, data: bytes, limits: ParseLimits | None = None) -> ParsedDocument:
    if not data:
        raise InvalidInput(t("documents.file_empty", name=filename))
    fmt = detect_format(filename)
    limits = limits or ParseLimits()
    if fmt == "pdf":
        pages, headings, warnings = _parse_pdf(filename, data, limits.max_pdf_pages)
    elif fmt == "docx":
        pages, headings, warnings = _parse_docx(filename, data, limits.archive)
    else:
        parser = {"txt": parse_text, "md": parse_markdown, "html": parse_html, "csv": parse_csv}[fmt]
        pages, headings, warnings = parser(filename, data)
    doc = ParsedDocument(filename, fmt, len(data), content_hash(data), pages, headings, warnings)
    if not any(len(p.text.strip()) >= 1 for p in doc.pages):
        raise InvalidInput(t("documents.no_extractable_text", filename=filename))
    return doc


def parse_file(
    path: str | Path, max_bytes: int, filename: str | None = None, limits: ParseLimits | None = None
) -> ParsedDocument:
    name, data = read_upload(path, max_bytes, filename)
    return parse_bytes(name, data, limits)


# ---- text encodings ----------------------------------------------------------------


# ---- formats -------------------------------------------------------------------------


def _parse_pdf(filename: str, data: bytes, max_pages: int = DEFAULT_MAX_PDF_PAGES):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise InvalidInput(t("documents.not_pdf", filename=filename))
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as err:
                raise InvalidInput(t("documents.pdf_encryption", filename=filename)) from err
            if not opened:
                raise InvalidInput(t("documents.pdf_password", filename=filename))
        _check_page_count(filename, _declared_pages(reader), max_pages)  # before the page tree is walked
        _check_page_count(filename, len(reader.pages), max_pages)  # the tree itself, in case /Count lied
        page_objects = list(reader.pages)
    except InvalidInput:
        raise
    except FileNotDecryptedError as err:
        raise InvalidInput(t("documents.pdf_password", filename=filename)) from err
    except Exception as err:
        log.info("PDF %s could not be read: %s", filename, err)
        raise InvalidInput(t("documents.pdf_damaged", filename=filename, error=type(err).__name__)) from err
    if not page_objects:
        raise InvalidInput(t("documents.no_pages", filename=filename))
    pages, empty = [], []
    for number, page in enumerate(page_objects, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as err:  # noqa: BLE001 - one broken page should not lose the rest
            log.info("PDF %s page %d: %s", filename, number, err)
            text = ""
        text = text.replace("\x00", "")
        if visible(text) < MIN_PAGE_CHARS:
            empty.append(number)
        pages.append(ParsedPage(number, text))
    warnings: list[Note] = []
    if len(empty) == len(pages):
        raise InvalidInput(t("documents.pdf_scanned", filename=filename, pages=len(pages)))
    if empty:
        shown = ", ".join(map(str, empty[:20])) + ("…" if len(empty) > 20 else "")
        warnings.append(t("documents.note_pdf_empty_pages", pages=shown))
    return pages, guess_headings(pages), warnings


def _declared_pages(reader) -> int:
    """The page count the PDF's page tree declares (its root /Count), read without walking the tree."""
    try:
        return int(reader.trailer["/Root"]["/Pages"]["/Count"])
    except Exception:  # noqa: BLE001 - a missing or odd /Count: the walked tree is checked next
        return 0


def _check_page_count(filename: str, pages: int, max_pages: int) -> None:
    if pages > max_pages:
        log.warning("PDF %s refused: %d pages, limit %d", filename, pages, max_pages)
        raise InvalidInput(
            t(
                "documents.pdf_page_limit",
                filename=filename,
                pages=pages,
                limit=max_pages,
                variable=PDF_PAGES_ENV,
            )
        )


def _parse_docx(filename: str, data: bytes, archive_limits: ArchiveLimits | None = None):
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InvalidInput(t("documents.not_docx", filename=filename))
    check_archive(io.BytesIO(data), filename, WORD_DOCUMENT, archive_limits or ArchiveLimits())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if "word/document.xml" not in archive.namelist():
            raise InvalidInput(t("documents.zip_not_docx", filename=filename))
    import docx
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:
        log.info("DOCX %s could not be read: %s", filename, err)
        raise InvalidInput(t("documents.docx_damaged", filename=filename, error=type(err).__name__)) from err
    pages: list[list[str]] = [[]]
    headings: list[str] = []
    body = document.element.body
    for block in body.iterchildren():
        if block.tag == qn("w:p"):
            paragraph = Paragraph(block, document)
            text = paragraph.text.strip()
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            if text:
                if style.startswith(("Heading", "Title")):
                    headings.append(text)
                pages[-1].append(text)
            breaks = block.findall(".//" + qn("w:br"))
            if any(b.get(qn("w:type")) == "page" for b in breaks):
                pages.append([])
        elif block.tag == qn("w:tbl"):
            table = docx.table.Table(block, document)
            for row in table.rows:
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    pages[-1].append(" | ".join(cells))
    while len(pages) > 1 and not pages[-1]:
        pages.pop()
    parsed = [ParsedPage(i, "\n\n".join(parts)) for i, parts in enumerate(pages, start=1)]
    warnings: list[Note] = [t("documents.note_docx_pages")] if len(parsed) > 1 else []
    return parsed, headings, warnings
