"""What parsing a file gives: its pages of plain text, headings and notes, and the limits a
file may make the parser work within (see ``playground.rag.parsing``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.rag.notes import Note
from playground.zip_safety import ArchiveLimits

MIN_PAGE_CHARS = 20  # fewer visible characters than this: the page is treated as having no text
PDF_PAGES_ENV = "PLAYGROUND_RAG_MAX_PDF_PAGES"
DEFAULT_MAX_PDF_PAGES = 2000


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
    warnings: list[Note] = field(default_factory=list)  # catalogue Texts, shown in the reader's language

    @property
    def char_count(self) -> int:
        return sum(len(p.text) for p in self.pages)
