"""Turn an uploaded file into pages of plain text, with headings and warnings for the preview.

Every way a file can be unusable ends in an ``InvalidInput`` with a sentence the user can
act on (empty, too large, encrypted, corrupt, binary, unknown encoding, all scripts...).
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from playground import text_decoding
from playground.errors import InvalidInput
from playground.formatting import format_bytes
from playground.i18n import t
from playground.zip_safety import ArchiveLimits, check_archive

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
MIN_PAGE_CHARS = 20  # fewer visible characters than this: the page is treated as having no text
PDF_PAGES_ENV = "PLAYGROUND_RAG_MAX_PDF_PAGES"
DEFAULT_MAX_PDF_PAGES = 2000
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class ParseLimits:
    """What a file may make the parser do: how many PDF pages it reads, what a DOCX may unpack to."""

    max_pdf_pages: int = DEFAULT_MAX_PDF_PAGES
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)

    @classmethod
    def from_settings(cls, settings: object) -> ParseLimits:
        pages = getattr(settings, "rag_max_pdf_pages", DEFAULT_MAX_PDF_PAGES)
        return cls(max_pdf_pages=int(pages), archive=ArchiveLimits.from_settings(settings))


@dataclass
class ParsedPage:
    number: int  # 1-based
    text: str


@dataclass
class ParsedDocument:
    filename: str
    format: str
    size_bytes: int
    content_hash: str
    pages: list[ParsedPage]
    headings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def char_count(self) -> int:
        return sum(len(p.text) for p in self.pages)


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
        raise InvalidInput(
            t("documents.file_too_big", name=name, size=format_bytes(size), limit=format_bytes(max_bytes))
        )
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
        parser = {"txt": _parse_text, "md": _parse_markdown, "html": _parse_html, "csv": _parse_csv}[fmt]
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


def decode_text(filename: str, data: bytes) -> tuple[str, list[str]]:
    """Text from bytes: UTF-8 if it is, else the detected encoding (with a warning)."""
    try:
        decoded = text_decoding.decode_text(data, stray_controls=True)
    except text_decoding.BinaryData as err:
        raise InvalidInput(t("documents.binary_nul", filename=filename)) from err
    except text_decoding.UnknownEncoding as err:
        raise InvalidInput(t("documents.unknown_encoding", filename=filename)) from err
    except text_decoding.ControlCharacters as err:
        raise InvalidInput(t("documents.binary", filename=filename)) from err
    if decoded.is_utf8:
        return decoded.text, []
    return decoded.text, [
        f"Not UTF-8: read as {decoded.encoding}. Check the preview; if the text looks wrong, save the file as UTF-8."
    ]


def _visible(text: str) -> int:
    return len(re.sub(r"\s+", "", text))


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
        if _visible(text) < MIN_PAGE_CHARS:
            empty.append(number)
        pages.append(ParsedPage(number, text))
    warnings = []
    if len(empty) == len(pages):
        raise InvalidInput(t("documents.pdf_scanned", filename=filename, pages=len(pages)))
    if empty:
        shown = ", ".join(map(str, empty[:20])) + ("…" if len(empty) > 20 else "")
        warnings.append(f"No extractable text on page(s) {shown} (scanned or image-only?); those pages are skipped.")
    return pages, _guess_headings(pages), warnings


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
                "documents.pdf_too_many_pages",
                filename=filename,
                pages=f"{pages:,}",
                limit=f"{max_pages:,}",
                variable=PDF_PAGES_ENV,
            )
        )


def _guess_headings(pages: list[ParsedPage]) -> list[str]:
    """Short title-like lines in text that carries no markup (PDF, plain text)."""
    found: list[str] = []
    for page in pages:
        for line in page.text.splitlines():
            line = line.strip()
            if (
                3 <= len(line) <= 70
                and line[0].isupper()
                and not line.endswith((".", ",", ";", ":", "?", "!"))
                and len(line.split()) <= 9
                and not line.replace(" ", "").isdigit()
            ):
                if re.match(r"^(\d+(\.\d+)*\.?\s+)?[A-Z][\w'’\- ,&/()]*$", line) and line not in found:
                    found.append(line)
    return found[:200]


def _parse_docx(filename: str, data: bytes, archive_limits: ArchiveLimits | None = None):
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InvalidInput(t("documents.not_docx", filename=filename))
    check_archive(io.BytesIO(data), filename, "Word document", archive_limits or ArchiveLimits())
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
    warnings = (
        ["Word files have no fixed pages: page numbers follow the document's explicit page breaks."]
        if len(parsed) > 1
        else []
    )
    return parsed, headings, warnings


def _parse_text(filename: str, data: bytes):
    text, warnings = decode_text(filename, data)
    pages = [ParsedPage(i, t) for i, t in enumerate(text.split("\f"), start=1)]  # form feed = page break
    if not any(p.text.strip() for p in pages):
        raise InvalidInput(t("documents.blank_only", filename=filename))
    return pages, _guess_headings(pages), warnings


def _parse_markdown(filename: str, data: bytes):
    text, warnings = decode_text(filename, data)
    if not text.strip():
        raise InvalidInput(t("documents.blank_only", filename=filename))
    headings, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else _MD_HEADING.match(line)
        if match:
            headings.append(match.group(2))
    return [ParsedPage(1, text)], headings, warnings


class _HTMLText(HTMLParser):
    SKIP = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object"}
    BLOCK = {
        "p",
        "div",
        "section",
        "article",
        "br",
        "li",
        "tr",
        "table",
        "ul",
        "ol",
        "pre",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "footer",
        "main",
        "nav",
        "dd",
        "dt",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.headings: list[str] = []
        self.skipping = 0
        self.skipped_scripts = 0
        self.heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
            self.skipped_scripts += tag == "script"
        elif tag in self.BLOCK:
            self.parts.append("\n\n" if tag not in ("br", "li", "tr") else "\n")
            if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                self.heading = []
        elif tag in ("td", "th"):
            self.parts.append(" | ")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK:
            if self.heading is not None and tag.startswith("h") and tag[1:].isdigit():
                title = " ".join("".join(self.heading).split())
                if title:
                    self.headings.append(title)
                self.heading = None
            self.parts.append("\n\n" if tag != "li" else "\n")

    def handle_data(self, data):
        if self.skipping:
            return
        self.parts.append(data)
        if self.heading is not None:
            self.heading.append(data)

    def text(self) -> str:
        raw = "".join(self.parts)
        lines = [" ".join(line.split()) for line in raw.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _parse_html(filename: str, data: bytes):
    source, warnings = decode_text(filename, data)
    parser = _HTMLText()
    try:
        parser.feed(source)
        parser.close()
    except Exception as err:
        raise InvalidInput(t("documents.html_unreadable", filename=filename, error=type(err).__name__)) from err
    text = parser.text()
    if _visible(text) < MIN_PAGE_CHARS:
        if parser.skipped_scripts:
            raise InvalidInput(t("documents.html_no_text_scripts", filename=filename, scripts=parser.skipped_scripts))
        raise InvalidInput(t("documents.html_no_text", filename=filename))
    if parser.skipped_scripts and len(text) < len(source) // 20:
        warnings.append(
            f"Mostly scripts: {parser.skipped_scripts} script(s) were dropped and only {len(text)} characters of text remain."
        )
    return [ParsedPage(1, text)], parser.headings, warnings


def _parse_csv(filename: str, data: bytes):
    text, warnings = decode_text(filename, data)
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(cell.strip() for cell in r)]
    if not rows:
        raise InvalidInput(t("documents.csv_no_rows_file", filename=filename))
    header, body = rows[0], rows[1:]
    if not body:
        return [ParsedPage(1, " | ".join(header))], [], warnings
    lines = []
    for row in body:  # each row becomes one self-describing line, so a chunk never loses its column names
        pairs = [
            f"{(header[i] if i < len(header) else f'column {i + 1}').strip()}: {cell.strip()}"
            for i, cell in enumerate(row)
            if cell.strip()
        ]
        lines.append("; ".join(pairs))
    columns = ", ".join(h.strip() for h in header if h.strip())
    warnings.append(f"{len(body)} row(s) read; each row is indexed as one line naming its columns ({columns}).")
    return [ParsedPage(1, "\n".join(lines))], [], warnings
