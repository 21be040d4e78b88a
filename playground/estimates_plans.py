"""The calls each big run will make, listed before it starts, for its estimate: the same
prompts, built by the same functions the run itself uses, as the model will see them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from playground.arena.pregen import answer_messages
from playground.arena.service import DELETED_EVALUATION
from playground.compare.batch import BatchPlan
from playground.errors import InvalidInput
from playground.estimates import PlannedCall
from playground.judge import items as targets
from playground.judge.prompts import judge_params
from playground.judge.rubric import Rubric
from playground.judge.runner import battle_messages, grade_messages, grade_steps
from playground.models.base import chat_messages
from playground.models.types import GenerationParams, Message
from storage import UnitOfWork


def planned(model_key: str, messages: Sequence[Message], params: GenerationParams) -> PlannedCall:
    """One call, its messages with the system prompt put in as the backend puts it."""
    return PlannedCall(model_key, tuple(chat_messages(messages, params)), params.max_tokens)


def batch_calls(plan: BatchPlan) -> list[PlannedCall]:
    """Every row in every column (``_BatchExecution.start_row`` asks exactly this)."""
    calls: list[PlannedCall] = []
    for row in plan.table.rows:
        prompt = plan.prompt_for(row)
        calls.extend(planned(c.model_key, (Message("user", prompt),), c.params()) for c in plan.columns)
    return calls


def pregen_calls(uow_factory: Callable[[], UnitOfWork], evaluation_id: int) -> list[PlannedCall]:
    """The answers a pre-generation start would make: every contestant on every prompt of the
    set, less those already made (a resume skips them, as ``PregenJobs._run`` does)."""
    with uow_factory() as uow:
        if uow.arena.get_evaluation(evaluation_id) is None:
            raise InvalidInput(DELETED_EVALUATION)  # a deleted one, or an id no page offers
        prompts = [(p.id, p.text) for p in uow.arena.prompts(evaluation_id) if p.source == "set"]
        contestants = [(c.id, c.model_key, dict(c.params)) for c in uow.arena.contestants(evaluation_id)]
        done = {(a.prompt_id, a.contestant_id) for a in uow.arena.answers(evaluation_id) if a.status == "ok"}
    calls: list[PlannedCall] = []
    for contestant_id, model_key, params_dict in contestants:  # model by model, as the run goes
        params = GenerationParams.from_dict(params_dict)
        for prompt_id, text in prompts:
            if (prompt_id, contestant_id) not in done:
                calls.append(planned(model_key, answer_messages(params, text), params))
    return calls


def grading_calls(
    uow_factory: Callable[[], UnitOfWork], judge_key: str, rubric: Rubric, kind: str, target_id: int
) -> list[PlannedCall]:
    """One call per answer and criterion (a reply that does not parse is asked once more: not counted)."""
    params = judge_params()
    steps = grade_steps(targets.items_for(uow_factory, kind, target_id), rubric)
    return [planned(judge_key, grade_messages(item, criterion), params) for _, item, criterion in steps]


def pairwise_calls(uow_factory: Callable[[], UnitOfWork], judge_key: str, evaluation_id: int) -> list[PlannedCall]:
    """Two calls per ready battle, sides swapped."""
    params = judge_params()
    return [
        planned(judge_key, messages, params)
        for battle in targets.battles_for(uow_factory, evaluation_id)
        for _, messages in battle_messages(battle)
    ]
