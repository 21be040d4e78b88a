"""How the Documents tab shows what the service returns: table rows, Markdown and the Ask outputs.

Pure formatting, no Gradio: the controller in ``components.documents_tab`` calls these.
"""

from __future__ import annotations

from collections.abc import Sequence

from playground.formatting import format_usage
from playground.models.load_times import WAITING_FOR_MODEL
from playground.rag.answering import answer_markdown, sources_markdown
from playground.rag.asking import AskUpdate
from playground.rag.evaluation import EvalQuestion
from playground.rag.ingesting import FileOutcome
from playground.rag.service import CollectionInfo
from playground.rendering import inert_inline, inert_markdown

ICONS = {"indexed": "✅", "skipped": "⏭️", "failed": "❌", "cancelled": "⏹️"}


def rows(dicts: list[dict], headers: list[str]) -> list[list]:
    return [[d.get(h, "") for h in headers] for d in dicts]


def collection_choices(collections: Sequence[CollectionInfo]) -> list[tuple[str, int]]:
    return [(f"{c.name} ({c.documents} files)", c.id) for c in collections]


def upload_report(outcomes: Sequence[FileOutcome]) -> str:
    return "\n\n".join(
        f"{ICONS[o.status]} **{inert_inline(o.filename)}** — {inert_inline(o.message)}" for o in outcomes
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
    return (
        f"**Average over {len(result['rows'])} question(s)** at k = {top_k}: "
        f"precision {avg['precision']:.3f} · recall {avg['recall']:.3f} · nDCG {avg['ndcg']:.3f} (saved)"
    )


def sweep_rows(grid: Sequence[dict]) -> list[list]:
    return [
        [g["chunk_size"], g["top_k"], g["chunks"], round(g["precision"], 3), round(g["recall"], 3), round(g["ndcg"], 3)]
        for g in grid
    ]


def question_detail_markdown(q) -> str:
    """A saved question with both answers and the sources the model was given."""
    parts = [
        f"### {inert_inline(q.question)}",
        f"{q.created_at:%Y-%m-%d %H:%M} · {inert_inline(q.collection_name)} · {inert_inline(q.model_key)}",
        "**Answer with documents**",
        answer_markdown(q.answer, q.sources) or "_(empty)_",
    ]
    if q.answer_without is not None:
        parts += ["**Answer without documents**", inert_markdown(q.answer_without) or "_(empty)_"]
    parts += ["**Sources given to the model**", sources_markdown(q.sources, q.citations)]
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
        return "", f"Searching the documents…{loading}", "", self.without

    def show(self, u: AskUpdate) -> tuple[str, str, str, str]:
        status = "Answering…" if not u.done else (f"❌ {inert_inline(u.error)}" if u.error else format_usage(u.usage))
        if u.phase == "with":
            self.answer = answer_markdown(u.text, u.sources)
            self.sources = sources_markdown(u.sources, u.citations)
            self.figures = self._figures(u, status) if u.done else status
        else:
            self.without = inert_markdown(u.text) + ("" if not u.done else f"\n\n<small>{status}</small>")
        return self.answer, self.figures, self.sources, self.without

    @staticmethod
    def _figures(u: AskUpdate, status: str) -> str:
        bad = f" · ⚠️ cites missing source(s) {_citations(u.invalid_citations)}" if u.invalid_citations else ""
        return f"{status} · cited {_citations(u.citations) or 'none'}{bad}"
