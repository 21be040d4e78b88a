"""How the Documents tab shows what the service returns: table rows, Markdown and the Ask outputs.

Pure formatting, no Gradio: the controller in ``components.documents_tab`` calls these.
"""

from __future__ import annotations

from collections.abc import Sequence

from components.i18n import say, text
from playground.formatting import format_usage
from playground.models.load_times import WAITING_FOR_MODEL
from playground.rag.answering import answer_markdown, sources_markdown
from playground.rag.asking import AskUpdate
from playground.rag.embedder_choice import AUTO, language_name
from playground.rag.evaluation import EvalQuestion
from playground.rag.ingesting import FileOutcome
from playground.rag.service import CollectionInfo, CollectionView
from playground.rendering import inert_inline, inert_markdown

ICONS = {"indexed": "✅", "skipped": "⏭️", "failed": "❌", "cancelled": "⏹️"}


def rows(dicts: list[dict], headers: list[str]) -> list[list]:
    return [[d.get(h, "") for h in headers] for d in dicts]


def collection_choices(collections: Sequence[CollectionInfo]) -> list[tuple[str, int]]:
    return [(text("documents.collection_choice", name=c.name, documents=c.documents), c.id) for c in collections]


def collection_summary(view: CollectionView) -> str:
    """The collection's embedder and language, in a line."""
    if view.embed_model in ("", AUTO):
        embedder = text("documents.summary_auto")
    else:
        embedder = f"`{view.embed_model}`"
    language = language_name(view.language) if view.language else text("documents.summary_language_unknown")
    return text("documents.summary_line", embedder=embedder, language_name=language)


def upload_report(outcomes: Sequence[FileOutcome]) -> str:
    return "\n\n".join(
        f"{ICONS[o.status]} **{inert_inline(o.filename)}** — {inert_inline(say(o.text) if o.text else o.message)}"
        for o in outcomes
    )


def question_rows(questions: Sequence[EvalQuestion]) -> list[list]:
    """Rows for the editable questions table, each kept until the user says no."""
    return [
        [q.question, q.expected_file, q.expected_page if q.expected_page is not None else "", "yes"] for q in questions
    ]


def evaluation_rows(result: dict) -> list[list]:
    return [
        [
            r["question"],
            r["expected_file"],
            r["expected_page"] or "",
            round(r["precision"], 3),
            round(r["recall"], 3),
            round(r["ndcg"], 3),
            "; ".join(r["retrieved"]),
        ]
        for r in result["rows"]
    ]


def evaluation_summary(result: dict, top_k: int) -> str:
    avg = result["average"]
    return text(
        "documents.evaluation_summary",
        count=len(result["rows"]),
        top_k=top_k,
        precision=f"{avg['precision']:.3f}",
        recall=f"{avg['recall']:.3f}",
        ndcg=f"{avg['ndcg']:.3f}",
    )


def sweep_rows(grid: Sequence[dict]) -> list[list]:
    return [
        [g["chunk_size"], g["top_k"], g["chunks"], round(g["precision"], 3), round(g["recall"], 3), round(g["ndcg"], 3)]
        for g in grid
    ]


def weights_rows(grid: Sequence[dict]) -> list[list]:
    return [
        [
            g["fusion"],
            g["keyword_weight"],
            g["top_k"],
            round(g["precision"], 3),
            round(g["recall"], 3),
            round(g["ndcg"], 3),
        ]
        for g in grid
    ]


def weights_summary(result: dict) -> str:
    """The best setting in a sentence, and how the collection's language was searched."""
    best = result["best"]
    fusion = text("documents.fusion_rrf") if best["fusion"] == "rrf" else text("documents.fusion_weighted")
    language = result.get("language") or "en"
    return text(
        "documents.weights_best",
        weight=best["keyword_weight"],
        fusion=fusion,
        top_k=best["top_k"],
        recall=f"{best['recall']:.3f}",
        ndcg=f"{best['ndcg']:.3f}",
        stemmer=language,
    )


def question_detail_markdown(q) -> str:
    """A saved question with both answers and the sources the model was given."""
    parts = [
        f"### {inert_inline(q.question)}",
        f"{q.created_at:%Y-%m-%d %H:%M} · {inert_inline(q.collection_name)} · {inert_inline(q.model_key)}",
        text("documents.detail_with"),
        answer_markdown(q.answer, q.sources) or text("documents.detail_empty"),
    ]
    if q.answer_without is not None:
        parts += [text("documents.detail_without"), inert_markdown(q.answer_without) or text("documents.detail_empty")]
    parts += [text("documents.detail_sources"), sources_markdown(q.sources, q.citations)]
    return "\n\n".join(parts)


def _citations(numbers: Sequence[int]) -> str:
    return ", ".join(f"[{n}]" for n in numbers)


class AskView:
    """The four Ask outputs (answer, figures, sources, answer without documents), built up
    from the stream of updates: the second phase must not wipe what the first one showed."""

    def __init__(self, with_without: bool):
        self.answer, self.figures, self.sources = "", "", ""
        self.without = "" if with_without else "—"

    def searching(self, waiting: str = WAITING_FOR_MODEL) -> tuple[str, str, str, str]:
        """Before the first word: the search, and the model's first load when it has one to do."""
        loading = "" if waiting == WAITING_FOR_MODEL else f" · {waiting}"
        return "", text("documents.searching", loading=loading), "", self.without

    def show(self, u: AskUpdate) -> tuple[str, str, str, str]:
        status = (
            text("documents.answering")
            if not u.done
            else (f"❌ {inert_inline(u.error)}" if u.error else format_usage(u.usage))
        )
        if u.phase == "with":
            self.answer = answer_markdown(u.text, u.sources)
            self.sources = sources_markdown(u.sources, u.citations)
            self.figures = self._figures(u, status) if u.done else status
        else:
            self.without = inert_markdown(u.text) + ("" if not u.done else f"\n\n<small>{status}</small>")
        return self.answer, self.figures, self.sources, self.without

    @staticmethod
    def _figures(u: AskUpdate, status: str) -> str:
        missing = _citations(u.invalid_citations)
        bad = text("documents.figures_missing", citations=missing) if u.invalid_citations else ""
        cited = _citations(u.citations) or text("documents.figures_cited_none")
        return text("documents.figures_cited", status=status, citations=cited, bad=bad)
