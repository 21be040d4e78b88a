"""Cost and time estimates for the tabs: what a batch run, an Arena pre-generation or a Judge
run will cost before it starts, and what it actually used after, each from the database (the
models' recent answers; the run's own answers). The UI calls only this; the figures come from
``playground.estimates``. A run keeps its estimate in its ``runs.meta["estimate"]``, so a run
reopened later still shows it against what it used."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from playground import estimates_plans as plans
from playground.compare.columns import ColumnConfig
from playground.errors import InvalidInput, ModelNotFound
from playground.estimates import (
    ModelFacts,
    PastCall,
    PlannedCall,
    RunActual,
    RunEstimate,
    TokenCounter,
    UsedCall,
    actual_run,
    estimate_run,
)
from playground.i18n import t
from playground.models.base import chat_messages
from playground.models.registry import ModelRegistry
from playground.models.types import GenerationParams, Message, ModelSpec
from playground.statuses import GenerationStatus
from storage import Generation, UnitOfWork

if TYPE_CHECKING:
    from playground.compare.batch import BatchService, Table
    from playground.judge.service import JudgeService

log = logging.getLogger(__name__)
RECENT_ANSWERS = 50  # a model's history for its speed and lengths: its last answers, not all of them


def past_call(generation: Generation) -> PastCall:
    """One stored answer as the estimates read it: its prompt's characters as the model saw them."""
    params = GenerationParams.from_dict(generation.params or {})
    messages = [Message(str(m.get("role", "")), str(m.get("content", ""))) for m in generation.messages or []]
    chars = sum(len(m["content"]) for m in chat_messages(messages, params))
    return PastCall(
        prompt_chars=chars,
        prompt_tokens=generation.prompt_tokens,
        completion_tokens=generation.completion_tokens,
        max_tokens=params.max_tokens,
        ttft_s=generation.ttft_s,
        tokens_per_s=generation.tokens_per_s,
        tokens_reported=not generation.tokens_estimated,
    )


def used_call(generation: Generation) -> UsedCall:
    return UsedCall(
        model_key=generation.model_key,
        model_name=generation.model_name,
        prompt_tokens=generation.prompt_tokens,
        completion_tokens=generation.completion_tokens,
        cost_usd=generation.cost_usd,
        total_s=generation.total_s,
        started_at=generation.created_at,
        finished_at=generation.finished_at,
    )


class EstimateService:
    def __init__(
        self,
        registry: ModelRegistry,
        uow_factory: Callable[[], UnitOfWork],
        count: TokenCounter | None = None,
        *,
        batch: BatchService | None = None,
        judge: JudgeService | None = None,
    ):
        """``count``: a prompt's tokens by the model's own tokenizer (``PromptTokenCounter``)."""
        self.registry = registry
        self.uow_factory = uow_factory
        self.count = count
        self.batch = batch
        self.judge = judge

    # ---- before ------------------------------------------------------------------------------
    def estimate(
        self, calls: Sequence[PlannedCall], *, parallel: bool = False, skip_missing: bool = False
    ) -> RunEstimate:
        """The calls' estimate per model, from each model's recent answers in the database.
        A model gone from the registry is refused (ModelNotFound), or with ``skip_missing`` left
        out: a run that sets such a model aside makes no calls to it."""
        cap = self.registry.settings.max_tokens  # the recorder lowers every max tokens to it
        calls = [replace(c, max_tokens=min(c.max_tokens, cap)) for c in calls]
        specs = self._specs(list(dict.fromkeys(c.model_key for c in calls)), skip_missing)
        calls = [c for c in calls if c.model_key in specs]
        keys = list(specs)
        with self.uow_factory() as uow:
            after = uow.speed.last_generation_id()
            history = {
                key: [past_call(g) for g in uow.speed.recent(key, GenerationStatus.OK, RECENT_ANSWERS)] for key in keys
            }
        facts = {key: ModelFacts(spec, history[key], self._load_seconds(key)) for key, spec in specs.items()}
        estimate = estimate_run(calls, facts, self.count, parallel=parallel, after_generation_id=after)
        log.info("Estimated %d call(s) over %d model(s)", estimate.calls, len(estimate.models))
        return estimate

    def _specs(self, keys: Sequence[str], skip_missing: bool) -> dict[str, ModelSpec]:
        specs = {}
        for key in keys:
            try:
                specs[key] = self.registry.get_spec(key)
            except ModelNotFound:
                if not skip_missing:
                    raise
        return specs

    def _load_seconds(self, key: str) -> float | None:
        """The model's last load time when a run would have to load it first."""
        if self.registry.is_loaded(key):
            return None
        return self.registry.expected_load_seconds(key)

    def for_batch(
        self, columns: Sequence[ColumnConfig], template_body: str, table: Table | Sequence[Mapping[str, str]]
    ) -> RunEstimate:
        """A batch's estimate; refuses what the run itself would refuse (``BatchService.prepare``)."""
        assert self.batch is not None, "EstimateService made without the batch service"
        plan = self.batch.prepare(columns, template_body, table)
        return self.estimate(plans.batch_calls(plan), parallel=True)

    def for_pregen(self, evaluation_id: int | None) -> RunEstimate:
        """What starting (or resuming) pre-generation would still generate."""
        try:
            wanted = int(evaluation_id)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InvalidInput(t("estimate.pick_evaluation")) from None
        return self.estimate(plans.pregen_calls(self.uow_factory, wanted), skip_missing=True)

    def for_judge(self, judge_key: str | None, mode: str, kind: str, target_id: Any, rubric_id: Any) -> RunEstimate:
        """A judging run's estimate; refuses what the run would refuse (no judge, no target)."""
        from playground.judge.service import PAIRWISE

        assert self.judge is not None, "EstimateService made without the judge service"
        self.judge.check_judge_model(judge_key)
        if mode == PAIRWISE and kind != "arena":
            target_id = None  # as run_judge: pairwise judges an Arena evaluation's battles only
        self.judge.check_target(mode, kind, target_id)
        key = str(judge_key)
        if mode == PAIRWISE:
            return self.estimate(plans.pairwise_calls(self.uow_factory, key, int(target_id)))
        rubric = self.judge.get_rubric(rubric_id)
        return self.estimate(plans.grading_calls(self.uow_factory, key, rubric, kind, int(target_id)))

    # ---- after -------------------------------------------------------------------------------
    def actual(self, run_id: int, after_generation_id: int = 0) -> RunActual:
        """What the run's answers (after ``after_generation_id``) used, from their stored usage."""
        with self.uow_factory() as uow:
            answers = uow.speed.run_answers(int(run_id), after_generation_id)
            return actual_run([used_call(g) for g in answers])

    def stored(self, run_id: int | None) -> RunEstimate | None:
        """The estimate kept with a run, if it has one."""
        if run_id is None:
            return None
        with self.uow_factory() as uow:
            run = uow.runs.get(int(run_id))
            data = (run.meta or {}).get("estimate") if run is not None else None
        return RunEstimate.from_dict(data) if isinstance(data, dict) else None

    def against(self, run_id: int | None) -> tuple[RunEstimate, RunActual] | None:
        """A run's stored estimate and what it used since; None when it kept no estimate."""
        estimate = self.stored(run_id)
        if estimate is None or run_id is None:
            return None
        return estimate, self.actual(int(run_id), estimate.after_generation_id)

    def pregen_run_id(self, evaluation_id: int | None) -> int | None:
        """The run an evaluation's pre-generation records its answers in (None before the first start)."""
        if evaluation_id in (None, ""):
            return None
        with self.uow_factory() as uow:
            evaluation = uow.arena.get_evaluation(int(evaluation_id))
            return evaluation.run_id if evaluation is not None else None

    def judge_run_id(self, job_id: int | None) -> int | None:
        if job_id in (None, ""):
            return None
        with self.uow_factory() as uow:
            job = uow.judge.get_job(int(job_id))
            return job.run_id if job is not None else None
