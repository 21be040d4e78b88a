"""Batch runs: a prompt template filled from every row of a table, run in every column.

Rows run one after another; within a row all columns stream at the same time (through
``stream_requests``, so each answer is recorded with its ``row_index``). The caller gets
snapshots of the grid so far, with progress and an ETA. Everything a user can get wrong
(columns, file, variables, row limit) is checked before the run is created.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from playground.compare.batch_read import (
    Table,
    check_table,
    first_blank_values,
    load_table,
    read_table,
)
from playground.compare.columns import ColumnConfig
from playground.compare.fanout import ColumnState, StreamRequest, stream_requests
from playground.compare.templates import render_template, template_variables
from playground.demo import REVIEW_TEMPLATE, REVIEWS, demo_language, demo_path
from playground.errors import InvalidInput
from playground.i18n import Text, t
from playground.languages import ENGLISH
from playground.models.types import Message
from playground.progress import Progress, tracked_run
from playground.settings import Settings
from playground.statuses import GenerationStatus, RunStatus
from playground.zip_safety import ArchiveLimits

if TYPE_CHECKING:
    from playground.compare.service import CompareService

log = logging.getLogger(__name__)
__all__ = [
    "BatchCell",
    "BatchGrid",
    "BatchPlan",
    "BatchProgress",
    "BatchService",
    "Table",
    "answer_count",
    "demo_files",
    "load_table",
    "read_table",
]

DEMO_TEMPLATE_NAME = "Product reviews (demo)"
DEMO_TEMPLATE_NAMES = {ENGLISH: DEMO_TEMPLATE_NAME, "pt": "Avaliações de produtos (demo)"}
SNAPSHOT_EVERY_S = 0.25  # a grid of hundreds of cells need not be redrawn more often
NOT_RUN = "not_run"  # a cell the batch stopped before (never stored: it has no generation)
FINISHED = (GenerationStatus.OK, GenerationStatus.ERROR, GenerationStatus.CANCELLED)


def demo_files(language: str = ENGLISH) -> tuple[Path, str, str]:
    """(the demo reviews table, the demo template's text, its name), in ``language`` ("en", "pt").
    Each language's template has its own name, so loading one never adds a version to the other."""
    code = demo_language(language)
    return (
        demo_path(REVIEWS, code),
        demo_path(REVIEW_TEMPLATE, code).read_text(encoding="utf-8").strip(),
        DEMO_TEMPLATE_NAMES.get(code, DEMO_TEMPLATE_NAME),
    )


@dataclass(frozen=True)
class BatchCell:
    """One row's answer in one column. ``not_run``: the batch stopped before it."""

    status: str = NOT_RUN  # or a GenerationStatus
    output: str = ""
    error: str | None = None
    generation_id: int | None = None
    model_name: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_estimated: bool = False
    ttft_s: float | None = None
    total_s: float | None = None
    tokens_per_s: float | None = None
    cost_usd: float | None = None  # None = unknown, never 0 by default
    finish_reason: str | None = None

    @property
    def done(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def from_state(cls, state: ColumnState, model_name: str) -> BatchCell:
        usage = state.usage
        return cls(
            status=state.status,
            output=state.text,
            error=str(state.error) if state.error else None,  # kept and exported as the database has it
            generation_id=state.generation_id,
            model_name=model_name,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            tokens_estimated=bool(usage and usage.tokens_estimated),
            ttft_s=usage.ttft_s if usage else None,
            total_s=usage.total_s if usage else None,
            tokens_per_s=usage.tokens_per_s if usage else None,
            cost_usd=usage.cost_usd if usage else None,
            finish_reason=usage.finish_reason if usage else None,
        )


@dataclass(frozen=True)
class BatchGrid:
    """Rows × columns: each row's input values and each column's answer to it."""

    run_id: int
    input_columns: list[str]
    inputs: list[dict[str, str]]
    variable_columns: dict[str, str]  # template variable -> the table column that fills it
    columns: list[ColumnConfig]
    column_names: list[str]
    cells: list[list[BatchCell]]  # [row][column]
    status: str = RunStatus.RUNNING
    template_body: str = ""
    source_filename: str = ""

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for row in self.cells:
            for cell in row:
                result[cell.status] = result.get(cell.status, 0) + 1
        return result


@dataclass(frozen=True)
class BatchProgress:
    run_id: int
    done: int  # finished cells (ok, error or stopped)
    total: int
    elapsed_s: float
    eta_s: float | None
    grid: BatchGrid
    finished: bool = False

    @property
    def status(self) -> str:
        return self.grid.status

    @property
    def progress(self) -> Progress:
        # Imported here because batch_view imports this module.
        from playground.compare.batch_view import format_progress, running_text

        return Progress(self.done, self.total, format_progress(self) if self.finished else running_text(self))


def answer_count(table: Table, column_count: int) -> int:
    """Answers a batch writes: every row in every column. The preview promises this figure
    and a run counts its progress against it."""
    return table.row_count * column_count


@dataclass(frozen=True)
class BatchPlan:
    """A batch that passed every check and may run."""

    columns: list[ColumnConfig]
    column_names: list[str]
    template_body: str
    table: Table
    variable_columns: dict[str, str] = field(default_factory=dict)

    @property
    def answers(self) -> int:
        return answer_count(self.table, len(self.columns))

    def prompt_for(self, row: Mapping[str, str]) -> str:
        return render_template(self.template_body, {v: row.get(c, "") for v, c in self.variable_columns.items()})


class BatchService:
    def __init__(self, compare: CompareService, settings: Settings):
        self.compare = compare  # a CompareService: its registry, recorder, templates and column checks
        self.settings = settings
        self.uow_factory = compare.uow_factory

    # ---- checks --------------------------------------------------------------------
    def load(self, path: str | Path, filename: str | None = None) -> Table:
        limit = self.settings.batch_row_limit
        table = load_table(path, filename, row_limit=limit, archive=ArchiveLimits.from_settings(self.settings))
        check_table(table, row_limit=limit)
        return table

    def prepare(
        self,
        columns: Sequence[ColumnConfig],
        template_body: str,
        table: Table | Sequence[Mapping[str, str]],
        filename: str = "",
    ) -> BatchPlan:
        """Check the columns, the template and the table together; raises InvalidInput."""
        self.compare.check_columns(columns)
        if not (template_body or "").strip():
            raise InvalidInput(t("compare.batch_no_template"))
        variables = template_variables(template_body)
        if not variables:
            raise InvalidInput(t("compare.batch_no_variables"))
        if not isinstance(table, Table):
            rows = [{str(k): "" if v is None else str(v) for k, v in row.items()} for row in table]
            names = list(dict.fromkeys(k for row in rows for k in row))
            table = Table(filename or "rows", names, rows)
        if not table.rows:
            raise InvalidInput(t("compare.batch_no_rows", name=table.filename))
        mapping = check_table(table, row_limit=self.settings.batch_row_limit, variables=variables)
        blanks = first_blank_values(table.rows, mapping)
        if blanks:
            detail: Text | None = None
            for v, numbers in blanks.items():  # "a is empty in row(s) 2; b is empty in row(s) 3"
                part = t("compare.batch_blank_detail", variable=v, rows=", ".join(map(str, numbers)))
                detail = part if detail is None else t("compare.list_join", first=detail, then=part)
            raise InvalidInput(t("compare.batch_blanks", detail=detail))
        names = [self.compare.registry.get_spec(c.model_key).name for c in columns]
        return BatchPlan(list(columns), names, template_body, table, mapping)

    # ---- running -------------------------------------------------------------------
    def run(
        self,
        columns: Sequence[ColumnConfig],
        template_body: str,
        template_name: str,
        rows: Table | Sequence[Mapping[str, str]],
        cancel: threading.Event | None = None,
        *,
        filename: str = "",
        estimate: dict | None = None,
    ) -> Iterator[BatchProgress]:
        """Check, record the run and its rows (and ``estimate``, its cost and time estimate), then
        run every row in every column, yielding the grid as it fills. The last snapshot has ``finished=True``."""
        plan = self.prepare(columns, template_body, rows, filename)
        run_id = self.open_run(plan, template_name, estimate)
        yield from self.execute(run_id, plan, cancel)

    def open_run(self, plan: BatchPlan, template_name: str = "", estimate: dict | None = None) -> int:
        version_id = self.compare.templates.matching_version(template_name, plan.template_body)
        meta = {
            "columns": [c.to_dict() for c in plan.columns],
            "column_names": plan.column_names,
            "template_body": plan.template_body,
            "prompt_body": plan.template_body,
            "template_name": (template_name or "").strip(),
            "source_filename": plan.table.filename,
            "input_columns": plan.table.columns,
            "variable_columns": plan.variable_columns,
            "row_count": plan.table.row_count,
            "status": RunStatus.RUNNING,
            **({"estimate": estimate} if estimate is not None else {}),
        }
        title = f"Batch over {plan.table.filename} ({plan.table.row_count} rows): {plan.template_body.strip()}"
        with self.uow_factory() as uow:  # the run and its input rows appear together or not at all
            run = uow.runs.add(kind="batch", title=title[:500], meta=meta)
            run.template_version_id = version_id
            uow.batch_rows.add_many(run.id, plan.table.rows)
            run_id = run.id
        log.info("Batch run %s: %s rows × %s", run_id, plan.table.row_count, ", ".join(plan.column_names))
        return run_id

    def execute(self, run_id: int, plan: BatchPlan, cancel: threading.Event | None = None) -> Iterator[BatchProgress]:
        cancel = cancel or threading.Event()
        batch = _BatchExecution(run_id, plan)
        last_emit = 0.0
        # A page that goes away mid-stream counts as cancelled: what ran is kept, the rest is "not run".
        with tracked_run(partial(self._close_run, batch)) as outcome:
            yield batch.snapshot(outcome.value)
            for index in range(len(plan.table.rows)):
                if cancel.is_set():
                    break
                for states in stream_requests(self.compare.recorder, run_id, batch.start_row(index), cancel):
                    batch.update_row(index, states)
                    now = time.monotonic()
                    if now - last_emit >= SNAPSHOT_EVERY_S:
                        last_emit = now
                        yield batch.snapshot(outcome.value)
                batch.rows_done = index + 1
            if cancel.is_set() and batch.stopped_early():
                outcome.value = RunStatus.CANCELLED
        yield batch.snapshot(outcome.value, finished=True)

    def _close_run(self, batch: _BatchExecution, status: str) -> None:
        rows_done, elapsed_s = batch.rows_done, batch.elapsed_s()
        with self.uow_factory() as uow:
            run = uow.runs.get(batch.run_id)
            if run is not None:
                run.meta = {
                    **(run.meta or {}),
                    "status": status,
                    "rows_done": rows_done,
                    "elapsed_s": round(elapsed_s, 3),
                }
        log.info("Batch run %s ended: %s after %s row(s) in %.1f s", batch.run_id, status, rows_done, elapsed_s)

    # ---- saved batches -------------------------------------------------------------
    def load_grid(self, run_id: int) -> BatchGrid:
        with self.uow_factory() as uow:
            run = uow.runs.get(int(run_id))
            if run is None or run.kind != "batch":
                raise InvalidInput(t("compare.no_batch_run", run_id=run_id))
            meta = dict(run.meta or {})
            inputs = [dict(r.values) for r in uow.batch_rows.list_for_run(run.id)]
            generations = [g for g in run.generations if g.row_index is not None]
        columns = [ColumnConfig.from_dict(c) for c in meta.get("columns", [])]
        names = list(meta.get("column_names") or [c.model_key for c in columns])
        cells = [[BatchCell(model_name=n) for n in names] for _ in inputs]
        for gen in sorted(generations, key=lambda g: g.id):  # a later attempt wins
            row_index = gen.row_index
            if row_index is not None and 0 <= row_index < len(cells) and 0 <= gen.position < len(names):
                cells[row_index][gen.position] = BatchCell(
                    status=gen.status,
                    output=gen.output,
                    error=gen.error,
                    generation_id=gen.id,
                    model_name=gen.model_name,
                    prompt_tokens=gen.prompt_tokens,
                    completion_tokens=gen.completion_tokens,
                    tokens_estimated=gen.tokens_estimated,
                    ttft_s=gen.ttft_s,
                    total_s=gen.total_s,
                    tokens_per_s=gen.tokens_per_s,
                    cost_usd=gen.cost_usd,
                    finish_reason=gen.finish_reason,
                )
        input_columns = list(meta.get("input_columns") or list(dict.fromkeys(k for row in inputs for k in row)))
        return BatchGrid(
            int(run_id),
            input_columns,
            inputs,
            dict(meta.get("variable_columns", {})),
            columns,
            names,
            cells,
            str(meta.get("status", RunStatus.DONE)),
            str(meta.get("template_body", "")),
            str(meta.get("source_filename", "")),
        )

    def export_csv(self, run_id: int) -> Path:
        from playground.compare.batch_export import write_csv

        return write_csv(self.load_grid(run_id), self._export_path(run_id, "csv"))

    def export_jsonl(self, run_id: int) -> Path:
        from playground.compare.batch_export import write_jsonl

        return write_jsonl(self.load_grid(run_id), self._export_path(run_id, "jsonl"))

    def _export_path(self, run_id: int, extension: str) -> Path:
        folder = self.settings.home / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"batch-{int(run_id)}-{time.strftime('%Y%m%d-%H%M%S')}.{extension}"


class _BatchExecution:
    """One batch while it runs: the cells as answers stream in, and how many rows are finished."""

    def __init__(self, run_id: int, plan: BatchPlan):
        self.run_id = run_id
        self.plan = plan
        self.cells = [[BatchCell(model_name=n) for n in plan.column_names] for _ in plan.table.rows]
        self.total = plan.answers
        self.rows_done = 0
        self.started = time.monotonic()

    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def start_row(self, index: int) -> list[StreamRequest]:
        """Mark a row's cells as waiting; its requests, one per column, recorded with the row."""
        self.cells[index] = [replace(c, status=GenerationStatus.WAITING) for c in self.cells[index]]
        prompt = self.plan.prompt_for(self.plan.table.rows[index])
        return [
            StreamRequest(
                position=p,
                model_key=c.model_key,
                messages=(Message("user", prompt),),
                params=c.params(),
                row_index=index,
            )
            for p, c in enumerate(self.plan.columns)
        ]

    def update_row(self, index: int, states: Sequence[ColumnState]) -> None:
        self.cells[index] = [BatchCell.from_state(s, self.plan.column_names[p]) for p, s in enumerate(states)]

    def stopped_early(self) -> bool:
        """Rows left unrun or answers cut short (a Cancel after the last answer changes nothing)."""
        return self.rows_done < len(self.cells) or any(
            cell.status == GenerationStatus.CANCELLED for row in self.cells for cell in row
        )

    def snapshot(self, status: str, finished: bool = False) -> BatchProgress:
        plan = self.plan
        done = sum(cell.done for row in self.cells for cell in row)
        elapsed = self.elapsed_s()
        eta = None if finished else (elapsed / done * (self.total - done) if done else None)
        grid = BatchGrid(
            self.run_id,
            plan.table.columns,
            plan.table.rows,
            plan.variable_columns,
            plan.columns,
            plan.column_names,
            [list(row) for row in self.cells],
            status,
            plan.template_body,
            plan.table.filename,
        )
        return BatchProgress(self.run_id, done, self.total, elapsed, eta, grid, finished)
