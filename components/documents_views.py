"""How the Documents tab shows what the service returns: table rows, Markdown and the Ask outputs.

Pure formatting, no Gradio: the controller in ``components.documents_tab`` calls these.
"""

from __future__ import annotations

from collections.abc import Sequence

from components.i18n import request_language, say, text
from playground.formatting import format_usage
from playground.i18n import Text
from playground.models.load_times import WAITING_FOR_MODEL
from playground.rag.answering import answer_markdown, sources_markdown
from playground.rag.asking import AskUpdate
from playground.rag.embedder_choice import AUTO
from playground.rag.evaluation import EvalQuestion
from playground.rag.ingesting import FileOutcome
from playground.rag.notes import language_text
from playground.rag.service import CollectionInfo, CollectionView
from playground.rendering import inert_inline, inert_markdown

ICONS = {"indexed": "✅", "skipped": "⏭️", "failed": "❌", "cancelled": "⏹️"}


# Cell values that are identifiers (stored as they are, read by API callers), shown in the
# reader's language: a document's status, a saved evaluation's kind, a question's mode, a fusion.
CELL_KEYS = {
    "status": {"ready": "documents.cell_ready", "indexing": "documents.cell_indexing"},
    "kind": {"single": "documents.cell_single", "sweep": "documents.cell_sweep", "weights": "documents.cell_weights"},
    "mode": {"with": "documents.cell_with", "compare": "documents.cell_compare"},
    "fusion": {"rrf": "documents.cell_rrf", "weighted": "documents.cell_weighted"},
    "keep": {"yes": "documents.cell_yes"},
}


def table(data: list[list], headers: Sequence[str]) -> dict:
    """A Dataframe's value with its column names in the reader's language: the browser does not
    translate a table's headers, so the handler filling it sends them (English: the names as built).

    Decimal numbers are shown as the reader writes them (0,667 in Portuguese) through the
    Dataframe's display values, while the cells keep the numbers, so a column still sorts as numbers."""
    value: dict = {"headers": [text(header_key(h)) for h in headers], "data": data}
    if any(isinstance(cell, float) for row in data for cell in row):
        shown = [[_shown(cell) for cell in row] for row in data]
        value["metadata"] = {"display_value": shown, "styling": [[""] * len(row) for row in data]}
    return value


def _shown(cell: object) -> str:
    return text("format.number", value=cell) if isinstance(cell, float) else ("" if cell is None else str(cell))


def listing(dicts: list[dict], headers: list[str]) -> dict:
    """The service's rows (dicts) as a table in the reader's language."""
    return table(rows(dicts, headers), headers)


def header_key(header: str) -> str:
    """The catalogue key of a table column ("file" → "documents.column_file")."""
    return f"documents.column_{header}"


def rows(dicts: list[dict], headers: list[str]) -> list[list]:
    """Table rows; a cell holding a catalogue Text (notes, warnings) or an identifier (a status)
    in the reader's language."""
    return [[_cell(h, d.get(h, "")) for h in headers] for d in dicts]


def _cell(column: str, value: object) -> object:
    if isinstance(value, Text):
        return say(value)
    key = CELL_KEYS.get(column, {}).get(value) if isinstance(value, str) else None
    return text(key) if key else value


def collection_choices(collections: Sequence[CollectionInfo]) -> list[tuple[str, int]]:
    return [(text("documents.collection_choice", name=c.name, documents=c.documents), c.id) for c in collections]


def collection_summary(view: CollectionView) -> str:
    """The collection's embedder and language, in a line."""
    if view.embed_model in ("", AUTO):
        embedder = text("documents.summary_auto")
    else:
        embedder = f"`{view.embed_model}`"
    language = say(language_text(view.language)) if view.language else text("documents.summary_language_unknown")
    return text("documents.summary_line", embedder=embedder, language_name=language)


def upload_report(outcomes: Sequence[FileOutcome]) -> str:
    return "\n\n".join(
        f"{ICONS[o.status]} **{inert_inline(o.filename)}** — {inert_inline(say(o.text) if o.text else o.message)}"
        for o in outcomes
    )


def question_rows(questions: Sequence[EvalQuestion]) -> list[list]:
    """Rows for the editable questions table, each kept until the user says no."""
    return [
        [q.question, q.expected_file, q.expected_page if q.expected_page is not None else "", _cell("keep", "yes")]
        for q in questions
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
        "documents.evaluation_average",
        count=len(result["rows"]),
        top_k=top_k,
        precision=avg["precision"],
        recall=avg["recall"],
        ndcg=avg["ndcg"],
    )


def sweep_rows(grid: Sequence[dict]) -> list[list]:
    return [
        [g["chunk_size"], g["top_k"], g["chunks"], round(g["precision"], 3), round(g["recall"], 3), round(g["ndcg"], 3)]
        for g in grid
    ]


def weights_rows(grid: Sequence[dict]) -> list[list]:
    return [
        [
            _cell("fusion", g["fusion"]),
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
        "documents.weights_best_line",
        weight=best["keyword_weight"],
        fusion=fusion,
        top_k=best["top_k"],
        recall=best["recall"],
        ndcg=best["ndcg"],
        stemmer=language,
    )


def question_detail_markdown(q) -> str:
    """A saved question with both answers and the sources the model was given."""
    parts = [
        f"### {inert_inline(q.question)}",
        f"{q.created_at:%Y-%m-%d %H:%M} · {inert_inline(q.collection_name)} · {inert_inline(q.model_key)}",
        text("documents.detail_with"),
        answer_markdown(q.answer, q.sources, request_language()) or text("documents.detail_empty"),
    ]
    if q.answer_without is not None:
        parts += [text("documents.detail_without"), inert_markdown(q.answer_without) or text("documents.detail_empty")]
    parts += [text("documents.detail_sources"), sources_markdown(q.sources, q.citations, request_language())]
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
            else (f"❌ {inert_inline(say(u.error))}" if u.error else format_usage(u.usage, request_language()))
        )
        if u.phase == "with":
            self.answer = answer_markdown(u.text, u.sources, request_language())
            self.sources = sources_markdown(u.sources, u.citations, request_language())
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
