"""History: every saved run, to list, search, read, reopen, re-run, delete and export.

Runs are shown from what was stored (the model name snapshot in each generation, the
column settings in the run's meta), so a run still opens after its model was removed.
"""

from __future__ import annotations

import csv
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from playground.compare.columns import ColumnConfig
from playground.compare.fanout import ColumnState
from playground.compare.service import CompareService
from playground.compare.templates import TemplateService
from playground.errors import InvalidInput, ModelNotFound
from playground.formatting import cost_text, csv_cell, shorten
from playground.history_detail import local_time, run_detail
from playground.i18n import DEFAULT_LANGUAGE, Text, t
from playground.models.registry import ModelRegistry
from playground.models.types import PriceSource
from playground.statuses import GenerationStatus
from storage import UnitOfWork

log = logging.getLogger(__name__)

# Every kind a run is recorded with (Recorder.start_run / runs.add): the filter offers each one.
KINDS = ("compare", "batch", "repeat", "try", "finetune_compare", "rag", "rag_questions", "judge", "arena")
LIST_LIMIT = 200  # newest runs shown in the list; search narrows it further
# Generation columns exported as they are; "settings" (params), "messages" and the run's fields are added.
GENERATION_FIELDS = (
    "position turn attempt row_index model_key model_name backend output status error prompt_tokens completion_tokens "
    "tokens_estimated ttft_s total_s tokens_per_s cost_usd finish_reason rating feedback_note"
).split()
RUN_FIELDS = ["run_id", "run_kind", "run_title", "run_created_at", "template", "generation_id"]
EXPORT_FIELDS = [*RUN_FIELDS, *GENERATION_FIELDS, "settings", "messages", "created_at", "finished_at"]
UNKNOWN_COST = "unknown"  # a total cost with an unknown price in it (the table shows it in the reader's language)


@dataclass(frozen=True)
class RunSummary:
    id: int
    created_at: str  # local time, "YYYY-MM-DD HH:MM"
    kind: str
    title: str
    models: str
    template: str  # "name v3", or "" when no saved template was used
    answers: int
    errors: int
    cost: str  # total cost, or UNKNOWN_COST when any answer's price is unknown
    cost_text: Text | None = None  # the same, to show in the reader's language (None: nothing measured)

    def row(self) -> list[Any]:
        return [
            self.id,
            self.created_at,
            self.kind,
            self.title,
            self.models,
            self.template,
            self.answers,
            self.errors,
            self.cost,
        ]


@dataclass(frozen=True)
class RerunUpdate:
    run_id: int  # the NEW run
    column_names: list[str]
    states: list[ColumnState]


def parse_day(value: Any, label: str) -> date | None:
    """``label``: "from" or "to" (which filter the date is)."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        which = Text(f"history.date_label_{label}")
        raise InvalidInput(t("history.bad_date", label=which, text=repr(text))) from err


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in this computer's time zone, as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day).astimezone().astimezone(UTC)


def _total_cost_text(gens: Sequence) -> Text | None:
    """The run's total cost as it reads (formatting.cost_text): unknown as soon as one answer's
    price is; "local: $0, by choice" when every answer ran locally; None when nothing was measured."""
    measured = [g for g in gens if g.total_s is not None]
    if not measured:
        return None
    if any(g.cost_usd is None for g in measured):
        return t("models.cost_unknown_short")
    local = all(g.price_source == PriceSource.LOCAL for g in measured)
    return cost_text(sum(g.cost_usd for g in measured), PriceSource.LOCAL if local else None)


def _total_cost(gens: Sequence) -> str:
    measured = [g for g in gens if g.total_s is not None]
    if not measured:
        return "—"
    if any(g.cost_usd is None for g in measured):
        return UNKNOWN_COST
    return str(_total_cost_text(measured))


class HistoryService:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        registry: ModelRegistry,
        compare_service: CompareService,
        templates: TemplateService,
        exports_dir: Path | None = None,
    ):
        self.uow_factory = uow_factory
        self.registry = registry
        self.compare = compare_service
        self.templates = templates
        self.exports_dir = Path(exports_dir) if exports_dir else registry.settings.home / "exports"

    # ---- choices -------------------------------------------------------------------
    def _template_labels(self, uow: UnitOfWork) -> dict[int, str]:
        return {v.id: f"{t.name} v{v.version}" for t in uow.templates.list() for v in t.versions}

    def template_choices(self) -> list[str]:
        with self.uow_factory() as uow:
            return [t.name for t in uow.templates.list()]

    def model_choices(self, language: str = DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
        """(label, key) for every model that answered in a saved run, removed ones included."""
        with self.uow_factory() as uow:
            names = uow.run_search.distinct_models()
        choices = [
            (name if self.is_available(key) else Text("history.model_removed", {"name": name}).render(language), key)
            for key, name in names
        ]
        return sorted(choices, key=lambda c: c[0].lower())

    def is_available(self, model_key: str) -> bool:
        try:
            self.registry.get_spec(model_key)
            return True
        except ModelNotFound:
            return False

    # ---- listing ---------------------------------------------------------------------
    def search(
        self,
        text: str = "",
        model_key: str | None = None,
        template_name: str | None = None,
        date_from: str = "",
        date_to: str = "",
        kinds: Sequence[str] | None = None,
    ) -> list[RunSummary]:
        """The newest LIST_LIMIT runs matching every filter given; dates are local days, both ends included."""
        start, end = parse_day(date_from, "from"), parse_day(date_to, "to")
        if start and end and start > end:
            raise InvalidInput(t("history.dates_swapped", start=start, end=end))
        unknown = [k for k in (kinds or []) if k not in KINDS]
        if unknown:
            raise InvalidInput(t("history.unknown_kinds", kinds=", ".join(unknown), known=", ".join(KINDS)))
        with self.uow_factory() as uow:
            template_id = None
            wanted_template = (template_name or "").strip()
            if wanted_template:
                template = uow.templates.by_name(wanted_template)
                if template is None:
                    return []
                template_id = template.id
            runs = uow.run_search.search(
                kinds=list(kinds) if kinds else None,
                text=text or "",
                model_key=model_key or None,
                template_id=template_id,
                since=local_midnight(start) if start else None,
                until=local_midnight(end + timedelta(days=1)) if end else None,
                limit=LIST_LIMIT,
            )
            labels = self._template_labels(uow)
        summaries = []
        for run in runs:
            gens = run.generations
            names = list(dict.fromkeys(g.model_name for g in sorted(gens, key=lambda g: (g.position, g.id))))
            if not names and (run.meta or {}).get("column_names"):
                names = list(run.meta["column_names"])
            template_label = labels.get(run.template_version_id, "") if run.template_version_id else ""
            answers, errors = (
                sum(1 for g in gens if g.status == GenerationStatus.OK),
                sum(1 for g in gens if g.status == GenerationStatus.ERROR),
            )
            summaries.append(
                RunSummary(
                    run.id,
                    local_time(run.created_at),
                    run.kind,
                    shorten(run.title),
                    ", ".join(names),
                    template_label,
                    answers,
                    errors,
                    _total_cost(gens),
                    _total_cost_text(gens),
                )
            )
        return summaries

    # ---- one run ------------------------------------------------------------------------
    def _load(self, run_id: Any):
        try:
            ident = int(run_id)
        except (TypeError, ValueError):
            ident = 0
        if ident <= 0:
            raise InvalidInput(t("history.pick_a_run"))
        with self.uow_factory() as uow:
            run = uow.runs.get(ident)
            if run is None:
                raise InvalidInput(t("history.run_gone", run_id=ident))
            template = self._template_labels(uow).get(run.template_version_id, "") if run.template_version_id else ""
        return run, template

    def detail(self, run_id: Any, language: str = DEFAULT_LANGUAGE) -> str:
        """The run as Markdown, its headings and figures in ``language``."""
        run, template = self._load(run_id)
        return run_detail(run, template, self.is_available, language)

    # ---- delete, export -----------------------------------------------------------------
    @staticmethod
    def _ids(run_ids: Any) -> list[int]:
        if run_ids in (None, "") or (isinstance(run_ids, (list, tuple)) and not run_ids):
            return []
        values = run_ids if isinstance(run_ids, (list, tuple, set)) else [run_ids]
        try:
            return sorted({int(v) for v in values})
        except (TypeError, ValueError) as err:
            raise InvalidInput(t("history.bad_ids")) from err

    def delete(self, run_ids: Any) -> int:
        ids = self._ids(run_ids)
        if not ids:
            raise InvalidInput(t("history.nothing_to_delete"))
        with self.uow_factory() as uow:
            count = uow.run_search.delete_runs(ids)
        log.info("Deleted runs %s", ids)
        return count

    def export(self, run_ids: Any, fmt: str = "jsonl") -> Path:
        fmt = (fmt or "").lower().strip(". ")
        if fmt not in ("jsonl", "csv"):
            raise InvalidInput(t("history.bad_format"))
        ids = self._ids(run_ids)
        if not ids:
            raise InvalidInput(t("history.nothing_to_export"))
        records = []
        with self.uow_factory() as uow:
            labels = self._template_labels(uow)
            for run_id in ids:
                run = uow.runs.get(run_id)
                if run is not None:
                    records += [
                        self._record(run, gen, labels)
                        for gen in sorted(
                            run.generations, key=lambda g: (g.row_index or 0, g.turn, g.attempt, g.position, g.id)
                        )
                    ]
        self.exports_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = self.exports_dir / f"history-{stamp}.{fmt}"
        if fmt == "jsonl":
            with path.open("w", encoding="utf-8") as out:
                for record in records:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            with path.open("w", encoding="utf-8-sig", newline="") as out:  # the BOM lets Excel read UTF-8
                writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
                writer.writeheader()
                for record in records:
                    writer.writerow({k: csv_cell(v) for k, v in record.items()})
        log.info("Exported %d answers of %d runs to %s", len(records), len(ids), path)
        return path

    @staticmethod
    def _record(run, gen, labels: dict[int, str]) -> dict[str, Any]:
        template = labels.get(run.template_version_id, "") if run.template_version_id else ""
        record = dict(zip(RUN_FIELDS, [run.id, run.kind, run.title, run.created_at.isoformat(), template, gen.id]))
        record.update({name: getattr(gen, name) for name in GENERATION_FIELDS})
        record.update(
            settings=dict(gen.params or {}), messages=list(gen.messages or []), created_at=gen.created_at.isoformat()
        )
        record["finished_at"] = gen.finished_at.isoformat() if gen.finished_at else None
        return record

    # ---- re-run -------------------------------------------------------------------------
    def rerun(self, run_id: Any, cancel: threading.Event | None = None) -> Iterator[RerunUpdate]:
        """Run a saved Compare run's first prompt again, same columns, as a new run."""
        run, _ = self._load(run_id)
        if run.kind != "compare":
            raise InvalidInput(t("history.rerun_not_compare", run_id=run.id, kind=run.kind))
        saved = self.compare.load_run(run.id)
        if not saved.columns:
            raise InvalidInput(t("history.rerun_no_columns", run_id=run.id))
        for index, column in enumerate(saved.columns):
            if not self.is_available(column.model_key):
                name = saved.column_names[index] if index < len(saved.column_names) else column.model_key
                raise InvalidInput(t("history.rerun_model_removed", run_id=run.id, n=index + 1, name=name))
        template_name = ""
        if saved.template_version_id is not None:
            info = self.templates.version(saved.template_version_id)
            template_name = info.name if info else ""
        columns: list[ColumnConfig] = list(saved.columns)
        new_id, text = self.compare.start_run(columns, saved.prompt, saved.variables, template_name)
        names = [self.registry.get_spec(c.model_key).name for c in columns]
        log.info("Re-running run %s as run %s", run.id, new_id)
        for states in self.compare.stream_turn(new_id, columns, [[] for _ in columns], text, cancel):
            yield RerunUpdate(new_id, names, states)
