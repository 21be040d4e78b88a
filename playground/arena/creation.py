"""A new evaluation: its checks and names before anything is stored, then its rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from playground.arena.leaks import words_for_model
from playground.arena.live import LIVE_MODE
from playground.arena.prompts import PromptItem, from_texts
from playground.arena.reveal import check_policy, default_policy, new_policy_problem
from playground.arena.room import live_cap as parse_live_cap
from playground.arena.room import votes_needed
from playground.arena.schedule import Slot
from playground.errors import InvalidInput
from playground.i18n import t
from playground.models.types import GenerationParams, ModelSpec
from storage import ArenaAnswer, ArenaBattle, ArenaContestant, ArenaPrompt, UnitOfWork

LEAK_ACTIONS = ("redact", "exclude")


def check_evaluation_name(name: str | None) -> None:
    """The new evaluation's name (spaces tidied, as it is stored) must be there and not too long."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(t("arena.name_blank"))
    if len(name) > 200:
        raise InvalidInput(t("arena.name_long"))


def check_model_keys(keys: Sequence[str] | None) -> None:
    """At least two different models (an empty pick or a model picked twice counts once)."""
    if len({k for k in keys or [] if k}) < 2:
        raise InvalidInput(t("arena.two_models"))


def check_new_evaluation(
    name: str,
    prompts: Sequence[PromptItem],
    keys: Sequence[str],
    params: GenerationParams,
    leak_action: str,
    repeat_fraction: float,
    mode: str,
) -> None:
    """Refuse, in plain words, the settings an evaluation cannot be made from."""
    check_evaluation_name(name)
    check_model_keys(keys)
    if leak_action not in LEAK_ACTIONS:
        raise InvalidInput(t("arena.leak_action_unknown"))
    if not 0 <= repeat_fraction <= 0.5:
        raise InvalidInput(t("arena.repeat_range"))
    if params.max_tokens < 1:
        raise InvalidInput(t("arena.max_tokens_low"))
    if mode not in ("prompt_set", LIVE_MODE):
        raise InvalidInput(t("arena.mode_unknown"))
    if mode == "prompt_set" and not prompts:
        raise InvalidInput(t("arena.prompt_set_empty_short"))
    if prompts:
        from_texts([p.text for p in prompts])  # blank and duplicate prompts, whatever the source


def contestant_labels(specs: Sequence[ModelSpec]) -> list[str]:
    """The models' display names; two entries that share one are told apart by their keys."""
    labels = [s.name for s in specs]
    for i, label in enumerate(labels):  # renaming one as it goes: the last of a shared name keeps it plain
        if labels.count(label) > 1:
            labels[i] = f"{label} ({specs[i].key})"
    return labels


def contestant_words(specs: Sequence[ModelSpec], labels: Sequence[str]) -> list[str]:
    """Each contestant's own names: label, key, an endpoint's remote model, its files' stems."""
    return [
        word
        for spec, label in zip(specs, labels)
        for word in words_for_model(label, spec.key, spec.remote_model, spec.path, spec.gguf_file)
    ]


def room_settings(
    mode: str,
    prompts: int,
    models: int,
    pairs_per_prompt: int | None,
    repeat_fraction: float,
    reveal_policy: str | None,
    votes_per_battle: int | None,
    live_cap: int | None,
    show_together: bool,
) -> dict:
    """The evaluation's reveal policy and room options, checked; refused with the reason."""
    policy = check_policy(reveal_policy or default_policy(mode, prompts))
    problem = new_policy_problem(
        policy,
        prompts=prompts,
        models=models,
        pairs_per_prompt=pairs_per_prompt,
        repeat_fraction=repeat_fraction,
        mode=mode,
    )
    if problem:
        raise InvalidInput(problem)
    return {
        "reveal_policy": policy,
        "votes_per_battle": votes_needed(votes_per_battle),
        "live_cap": parse_live_cap(live_cap),
        "show_together": bool(show_together),
    }


def store_battles(
    uow: UnitOfWork,
    evaluation_id: int,
    prompts: Sequence[PromptItem],
    specs: Sequence[ModelSpec],
    labels: Sequence[str],
    params: GenerationParams,
    slots: Sequence[Slot],
    repeats: Sequence[int],
) -> int:
    """Contestants, prompts, empty answers and the battles (side-swapped repeats last); returns
    how many battles there are."""
    contestants = [
        ArenaContestant(
            evaluation_id=evaluation_id,
            position=i,
            model_key=s.key,
            label=label,
            params=params.to_dict(),
            status="pending",
        )
        for i, (s, label) in enumerate(zip(specs, labels))
    ]
    rows = [
        ArenaPrompt(evaluation_id=evaluation_id, position=i, question_id=p.question_id, text=p.text, source="set")
        for i, p in enumerate(prompts)
    ]
    uow.arena.add_all([*contestants, *rows])
    answers = {
        (pi, ci): ArenaAnswer(prompt_id=p.id, contestant_id=c.id, text="", status="pending", leaks=[])
        for pi, p in enumerate(rows)
        for ci, c in enumerate(contestants)
    }
    uow.arena.add_all(list(answers.values()))
    battles = [
        ArenaBattle(
            evaluation_id=evaluation_id,
            token=uuid.uuid4().hex,
            position=i,
            prompt_id=rows[s.prompt].id,
            answer_a_id=answers[(s.prompt, s.left)].id,
            answer_b_id=answers[(s.prompt, s.right)].id,
        )
        for i, s in enumerate(slots)
    ]
    uow.arena.add_all(battles)
    uow.arena.add_all(swapped_repeats(evaluation_id, battles, repeats))
    return len(battles) + len(repeats)


def swapped_repeats(evaluation_id: int, battles: Sequence[ArenaBattle], repeats: Sequence[int]) -> list[ArenaBattle]:
    """The battles at ``repeats`` again, sides swapped, after all the others (a rater's consistency check)."""
    return [
        ArenaBattle(
            evaluation_id=evaluation_id,
            token=uuid.uuid4().hex,
            position=len(battles) + k,
            prompt_id=battles[i].prompt_id,
            answer_a_id=battles[i].answer_b_id,
            answer_b_id=battles[i].answer_a_id,
            repeat_of_id=battles[i].id,
        )
        for k, i in enumerate(repeats)
    ]
