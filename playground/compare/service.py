"""What the Compare tab can do: run a prompt in all columns at once, follow up, repeat,
give feedback, and reopen a saved run."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from playground.compare.columns import MAX_COLUMNS, ColumnConfig
from playground.compare.fanout import ColumnState, StreamRequest, stream_requests
from playground.compare.stability import Stability, stability_of
from playground.compare.templates import TemplateService, render_template
from playground.errors import InvalidInput
from playground.generation import GenerationRecorder
from playground.i18n import Text, t
from playground.models.registry import ModelRegistry
from playground.models.types import Message
from playground.progress import OnProgress, complete, notify
from playground.statuses import GenerationStatus
from storage import UnitOfWork

log = logging.getLogger(__name__)
History = list[dict[str, str]]  # one column's conversation: [{"role", "content"}, ...]


@dataclass(frozen=True)
class SavedRun:
    """A Compare run as saved: enough to show it again and to put it back into the columns."""

    run_id: int
    title: str
    columns: list[ColumnConfig]
    histories: list[History]
    column_names: list[str]
    states: list[list[dict]]  # per column, per turn: output, status, error, figures
    template_version_id: int | None
    variables: dict[str, str]
    prompt: str
    removed_models: tuple[str, ...] = ()  # names of the models it used that are gone (filled by reopen_run)


@dataclass(frozen=True)
class Turn:
    """The next message of a conversation: its run, the rendered text, and every column's
    history before it (all empty when the message starts a new run)."""

    run_id: int
    user_text: str
    histories: list[History]


def empty_histories() -> list[History]:
    return [[] for _ in range(MAX_COLUMNS)]


class CompareService:
    def __init__(
        self,
        registry: ModelRegistry,
        recorder: GenerationRecorder,
        uow_factory: Callable[[], UnitOfWork],
        templates: TemplateService,
    ):
        self.registry = registry
        self.recorder = recorder
        self.uow_factory = uow_factory
        self.templates = templates

    # ---- checks ------------------------------------------------------------------
    def check_columns(self, columns: Sequence[ColumnConfig]) -> None:
        if not columns:
            raise InvalidInput(t("compare.no_columns"))
        if len(columns) > MAX_COLUMNS:
            raise InvalidInput(t("compare.too_many_columns", n=MAX_COLUMNS))
        for _index, column in enumerate(columns, start=1):
            self.registry.get_spec(column.model_key)  # ModelNotFound has a plain message

    def build_prompt(self, body: str, variables: dict[str, str] | None) -> str:
        if not (body or "").strip():
            raise InvalidInput(t("compare.no_prompt"))
        return render_template(body, variables or {})

    # ---- live runs ---------------------------------------------------------------
    def start_run(
        self,
        columns: Sequence[ColumnConfig],
        prompt_body: str,
        variables: dict[str, str] | None = None,
        template_name: str = "",
    ) -> tuple[int, str]:
        """Check everything, then open a run; returns (run_id, the rendered prompt)."""
        self.check_columns(columns)
        prompt = self.build_prompt(prompt_body, variables)
        version_id = self.templates.matching_version(template_name, prompt_body)
        names = [self.registry.get_spec(c.model_key).name for c in columns]
        meta = {
            "columns": [c.to_dict() for c in columns],
            "column_names": names,
            "prompt_body": prompt_body,
            "variables": dict(variables or {}),
        }
        run_id = self.recorder.start_run("compare", title=prompt, meta=meta, template_version_id=version_id)
        log.info("Compare run %s with %s", run_id, ", ".join(names))
        return run_id, prompt

    def open_turn(
        self,
        run_id: int | None,
        columns: Sequence[ColumnConfig],
        histories: Sequence[History] | None,
        prompt_body: str,
        variables: dict[str, str] | None,
        template_name: str = "",
    ) -> Turn:
        """A follow-up in the conversation the columns already hold, or a new run when they
        hold none (a first message, or after New conversation)."""
        copied = [list(h) for h in (histories or empty_histories())]
        if run_id is None or not any(copied[: len(columns)]):
            run_id, text = self.start_run(columns, prompt_body, variables, template_name)
            return Turn(run_id, text, empty_histories())
        return Turn(run_id, self.build_prompt(prompt_body, variables), copied)

    def stream_turn(
        self,
        run_id: int,
        columns: Sequence[ColumnConfig],
        histories: Sequence[History],
        user_text: str,
        cancel: threading.Event | None = None,
    ) -> Iterator[list[ColumnState]]:
        """One user message to every column, each with its own history; streams together."""
        if not (user_text or "").strip():
            raise InvalidInput(t("compare.no_message"))
        self.check_columns(columns)
        turn = len(histories[0]) // 2 if histories else 0
        jobs = [
            StreamRequest(
                position=index,
                model_key=column.model_key,
                messages=tuple(
                    Message(m["role"], m["content"]) for m in (histories[index] if index < len(histories) else [])
                )
                + (Message("user", user_text),),
                params=column.params(),
                turn=turn,
            )
            for index, column in enumerate(columns)
        ]
        yield from stream_requests(self.recorder, run_id, jobs, cancel)

    # ---- repeat ×N ---------------------------------------------------------------
    def repeat(
        self,
        column: ColumnConfig,
        history: History,
        user_text: str,
        times: int,
        cancel: threading.Event | None = None,
        on_progress: OnProgress | None = None,
    ) -> tuple[list[ColumnState], Stability]:
        """Run the same input ``times`` times, one after another (so latencies are not
        distorted by each other), and measure how much the answers vary."""
        if not (user_text or "").strip():
            raise InvalidInput(t("compare.repeat_no_prompt"))
        if not 2 <= int(times) <= 20:
            raise InvalidInput(t("compare.repeat_range"))
        self.check_columns([column])
        run_id = self.recorder.start_run(
            "repeat", title=user_text, meta={"columns": [column.to_dict()], "times": int(times)}
        )
        messages = tuple(Message(m["role"], m["content"]) for m in history) + (Message("user", user_text),)
        results: list[ColumnState] = []
        notify(on_progress, 0, int(times), t("compare.repeating"))
        for attempt in range(int(times)):
            if cancel is not None and cancel.is_set():
                break
            job = StreamRequest(
                position=0, model_key=column.model_key, messages=messages, params=column.params(), attempt=attempt
            )
            final = complete(stream_requests(self.recorder, run_id, [job], cancel))
            results.append(final[0])
            notify(on_progress, attempt + 1, int(times), t("compare.repeat_progress", n=attempt + 1, total=int(times)))
        good = [r for r in results if r.status == GenerationStatus.OK]
        stats = stability_of(
            [r.text for r in good],
            [r.usage.completion_tokens if r.usage else None for r in good],
            [r.usage.total_s if r.usage else None for r in good],
            failures=len(results) - len(good),
        )
        return results, stats

    # ---- feedback ----------------------------------------------------------------
    def feedback(self, generation_id: int | None, rating: int | None, note: str = "") -> Text:
        if not generation_id:
            raise InvalidInput(t("compare.nothing_to_rate"))
        if rating not in (1, -1, None):
            raise InvalidInput(t("compare.bad_rating"))
        with self.uow_factory() as uow:
            gen = uow.generations.get(int(generation_id))
            if gen is None:
                raise InvalidInput(t("compare.answer_gone"))
            uow.generations.update(gen.id, rating=rating, feedback_note=(note or "").strip() or None)
        return t("compare.feedback_saved")

    # ---- saved runs --------------------------------------------------------------
    def reopen_run(self, run_id: int) -> SavedRun:
        """A saved run to put back into the columns, naming the models it used that are gone."""
        saved = self.load_run(run_id)
        available = {spec.key for spec in self.registry.list_specs()}
        removed = tuple(
            name for column, name in zip(saved.columns, saved.column_names) if column.model_key not in available
        )
        return replace(saved, removed_models=removed)

    def load_run(self, run_id: int) -> SavedRun:
        with self.uow_factory() as uow:
            run = uow.runs.get(int(run_id))
            if run is None:
                raise InvalidInput(t("compare.run_gone", run_id=run_id))
            meta = dict(run.meta or {})
            columns = [ColumnConfig.from_dict(c) for c in meta.get("columns", [])]
            generations = sorted(run.generations, key=lambda g: (g.turn, g.position, g.attempt, g.id))
            title, template_version_id = run.title, run.template_version_id
        histories: list[History] = [[] for _ in columns]
        states: list[list[dict]] = [[] for _ in columns]
        for gen in generations:
            if gen.position >= len(columns) or gen.attempt or gen.row_index is not None:
                continue
            user = next((m["content"] for m in reversed(gen.messages) if m["role"] == "user"), "")
            histories[gen.position] += [{"role": "user", "content": user}, {"role": "assistant", "content": gen.output}]
            states[gen.position].append(
                {
                    "generation_id": gen.id,
                    "output": gen.output,
                    "status": gen.status,
                    "error": gen.error,
                    "model_name": gen.model_name,
                    "usage": {
                        "prompt_tokens": gen.prompt_tokens,
                        "completion_tokens": gen.completion_tokens,
                        "ttft_s": gen.ttft_s,
                        "total_s": gen.total_s,
                        "cost_usd": gen.cost_usd,
                        "price_source": gen.price_source,  # "local": shown as "local: $0, by choice"
                        "tokens_estimated": gen.tokens_estimated,
                        "finish_reason": gen.finish_reason,
                    },
                }
            )
        return SavedRun(
            run_id=int(run_id),
            title=title,
            columns=columns,
            histories=histories,
            column_names=list(meta.get("column_names", [c.model_key for c in columns])),
            states=states,
            template_version_id=template_version_id,
            variables=dict(meta.get("variables", {})),
            prompt=str(meta.get("prompt_body", title)),
        )
