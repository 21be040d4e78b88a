"""Reading the text formats (plain text, Markdown, HTML, CSV): their encoding, pages,
headings and notes. Called by ``playground.rag.parsing.parse_bytes``."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

from playground import text_decoding
from playground.errors import InvalidInput
from playground.i18n import t
from playground.rag.notes import Note
from playground.rag.parsed import MIN_PAGE_CHARS, ParsedPage

MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")


def decode_text(filename: str, data: bytes) -> tuple[str, list[Note]]:
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
    return decoded.text, [t("documents.note_not_utf8", encoding=decoded.encoding)]


def visible(text: str) -> int:
    return len(re.sub(r"\s+", "", text))


def guess_headings(pages: list[ParsedPage]) -> list[str]:
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


def parse_text(filename: str, data: bytes):
    text, warnings = decode_text(filename, data)
    pages = [ParsedPage(i, part) for i, part in enumerate(text.split("\f"), start=1)]  # form feed = page break
    if not any(p.text.strip() for p in pages):
        raise InvalidInput(t("documents.blank_only", filename=filename))
    return pages, guess_headings(pages), warnings


def parse_markdown(filename: str, data: bytes):
    text, warnings = decode_text(filename, data)
    if not text.strip():
        raise InvalidInput(t("documents.blank_only", filename=filename))
    headings, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else MD_HEADING.match(line)
        if match:
            headings.append(match.group(2))
    return [ParsedPage(1, text)], headings, warnings


class HTMLText(HTMLParser):
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


def parse_html(filename: str, data: bytes):
    source, warnings = decode_text(filename, data)
    parser = HTMLText()
    try:
        parser.feed(source)
        parser.close()
    except Exception as err:
        raise InvalidInput(t("documents.html_unreadable", filename=filename, error=type(err).__name__)) from err
    text = parser.text()
    if visible(text) < MIN_PAGE_CHARS:
        if parser.skipped_scripts:
            raise InvalidInput(t("documents.html_no_text_scripts", filename=filename, scripts=parser.skipped_scripts))
        raise InvalidInput(t("documents.html_no_text", filename=filename))
    if parser.skipped_scripts and len(text) < len(source) // 20:
        warnings.append(t("documents.note_mostly_scripts", scripts=parser.skipped_scripts, characters=len(text)))
    return [ParsedPage(1, text)], parser.headings, warnings


def parse_csv(filename: str, data: bytes):
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
    warnings.append(t("documents.note_csv_rows", rows=len(body), columns=columns))
    return [ParsedPage(1, "\n".join(lines))], [], warnings
