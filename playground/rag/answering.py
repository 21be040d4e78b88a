"""The prompt that numbers the retrieved chunks, and reading the [n] citations back.

Source ``n`` in the prompt is ``sources[n - 1]``, always: the sources panel, the saved
history and the citation links are all built from that same list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from playground.models.types import Message
from playground.rendering import inert_attribute, inert_inline, inert_markdown, inert_quote

SYSTEM_PROMPT = (
    "You answer questions using only the numbered sources given. After each fact, write the number of the "
    "source it comes from in square brackets, like [1]. If the sources do not contain the answer, say you "
    "could not find it in the documents."
)
_CITATION = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")


def source_label(source: dict) -> str:
    page = source.get("page_number")
    return f"{source.get('filename', '?')}" + (f", page {page}" if page else "")


def rag_messages(question: str, sources: Sequence[dict]) -> list[Message]:
    blocks = [f"[{n}] ({source_label(s)})\n{s['text'].strip()}" for n, s in enumerate(sources, start=1)]
    user = (
        "Sources:\n\n"
        + "\n\n".join(blocks)
        + f"\n\nQuestion: {question.strip()}\nAnswer using the sources and cite them like [1]."
    )
    return [Message("system", SYSTEM_PROMPT), Message("user", user)]


def plain_messages(question: str) -> list[Message]:
    return [Message("user", question.strip())]


def parse_citations(answer: str, source_count: int) -> tuple[list[int], list[int]]:
    """(valid source numbers in order of first use, numbers that name no source)."""
    valid: list[int] = []
    invalid: list[int] = []
    for match in _CITATION.finditer(answer):
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            number = int(part)
            target = valid if 1 <= number <= source_count else invalid
            if number not in target:
                target.append(number)
    return valid, invalid


def answer_markdown(answer: str, sources: Sequence[dict]) -> str:
    """The answer, made inert (``playground.rendering``), with each [n] turned into a hoverable
    marker showing its source."""

    def replace(match: re.Match) -> str:
        marks = []
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            number = int(part)
            if 1 <= number <= len(sources):
                source = sources[number - 1]
                snippet = " ".join(source["text"].split())[:300]  # one line: a newline would end the HTML in Markdown
                tip = inert_attribute(f"{source_label(source)}: {snippet}")
                marks.append(f'<span class="rag-cite" title="{tip}">[{number}]</span>')
            else:
                marks.append(
                    f'<span class="rag-cite-missing" title="No source {number} was given to the model">[{number}?]</span>'
                )
        return "".join(marks)

    return _CITATION.sub(replace, inert_markdown(answer))


def sources_markdown(sources: Sequence[dict], cited: Sequence[int] = ()) -> str:
    if not sources:
        return "_No sources._"
    parts = []
    for n, source in enumerate(sources, start=1):
        flag = " · **cited**" if n in cited else ""
        head = (
            f"**[{n}] {inert_inline(source_label(source))}**{flag}  \n"
            f"score {source['score']:.3f} · keyword {source['keyword_score']:.3f} (BM25 {source['bm25']:.2f}) · vector {source['vector_score']:.3f}"
        )
        if source.get("heading"):
            head += f" · section “{inert_inline(source['heading'])}”"
        parts.append(f"{head}\n\n{inert_quote(source['text'])}")
    return "\n\n---\n\n".join(parts)
