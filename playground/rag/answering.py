"""The prompt that numbers the retrieved chunks, and reading the [n] citations back.

Source ``n`` in the prompt is ``sources[n - 1]``, always: the sources panel, the saved
history and the citation links are all built from that same list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from playground.i18n import DEFAULT_LANGUAGE, t
from playground.languages import ENGLISH
from playground.models.types import Message
from playground.prompts_i18n import prompt_language, texts
from playground.rendering import inert_attribute, inert_inline, inert_markdown, inert_quote

SYSTEM_PROMPT = texts(ENGLISH).rag.system  # the English prompt; others are in playground.prompts_i18n
_CITATION = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")


def source_label(source: dict, page_word: str = "page") -> str:
    page = source.get("page_number")
    return f"{source.get('filename', '?')}" + (f", {page_word} {page}" if page else "")


def answer_language(question: str, collection_language: str = "") -> str:
    """The language the prompt is written in: the question's; the collection's where the
    question is too short to tell; English where neither is a language with a prompt."""
    return prompt_language(question, fallback=collection_language)


def rag_messages(question: str, sources: Sequence[dict], collection_language: str = "") -> list[Message]:
    """The prompt in the question's language (``answer_language``). Only the words change with
    the language: the sources are numbered [n] the same way, so citations parse alike."""
    rag = texts(answer_language(question, collection_language)).rag
    blocks = [f"[{n}] ({source_label(s, rag.page)})\n{s['text'].strip()}" for n, s in enumerate(sources, start=1)]
    user = f"{rag.sources}\n\n" + "\n\n".join(blocks) + f"\n\n{rag.question} {question.strip()}\n{rag.instruction}"
    return [Message("system", rag.system), Message("user", user)]


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


def answer_markdown(answer: str, sources: Sequence[dict], language: str = DEFAULT_LANGUAGE) -> str:
    """The answer, made inert (``playground.rendering``), with each [n] turned into a hoverable
    marker showing its source (its words in the reader's ``language``)."""
    page = t("documents.source_page").render(language)

    def replace(match: re.Match) -> str:
        marks = []
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            number = int(part)
            if 1 <= number <= len(sources):
                source = sources[number - 1]
                snippet = " ".join(source["text"].split())[:300]  # one line: a newline would end the HTML in Markdown
                tip = inert_attribute(f"{source_label(source, page)}: {snippet}")
                marks.append(f'<span class="rag-cite" title="{tip}">[{number}]</span>')
            else:
                title = inert_attribute(t("documents.cite_missing_title", number=number).render(language))
                marks.append(f'<span class="rag-cite-missing" title="{title}">[{number}?]</span>')
        return "".join(marks)

    return _CITATION.sub(replace, inert_markdown(answer))


def sources_markdown(sources: Sequence[dict], cited: Sequence[int] = (), language: str = DEFAULT_LANGUAGE) -> str:
    """The sources given to the model, with their scores, in the reader's ``language``."""
    if not sources:
        return t("documents.no_sources").render(language)
    page = t("documents.source_page").render(language)
    parts = []
    for n, source in enumerate(sources, start=1):
        flag = t("documents.source_cited").render(language) if n in cited else ""
        scores = t(
            "documents.source_scores",
            score=source["score"],
            keyword=source["keyword_score"],
            bm25=source["bm25"],
            vector=source["vector_score"],
        )
        head = f"**[{n}] {inert_inline(source_label(source, page))}**{flag}  \n{scores.render(language)}"
        if source.get("heading"):
            head += t("documents.source_section", heading=inert_inline(source["heading"])).render(language)
        parts.append(f"{head}\n\n{inert_quote(source['text'])}")
    return "\n\n---\n\n".join(parts)
