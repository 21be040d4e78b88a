"""What the judge can grade, collected from the other features' saved work: the answers of a
Compare run or batch grid, of a Documents question (with its cited passages as reference),
and of an Arena evaluation (its answers, and its battles for pairwise judging)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playground.arena.leaks import redact
from playground.errors import InvalidInput
from playground.formatting import shorten
from playground.i18n import t
from storage import UnitOfWork

RUN_KINDS = ("compare", "batch")
TARGET_KINDS = ("run", "rag_question", "rag_collection", "arena")


@dataclass(frozen=True)
class Item:
    """One answer to grade."""

    ref: str  # "g<generation id>" or "a<arena answer id>": where human grades attach
    subject: str  # the model (column, contestant) that wrote it
    group: str  # the input it answers: "row 3", "turn 1", a question id — one row of the score grid
    question: str
    answer: str
    references: tuple[str, ...] = ()
    generation_id: int | None = None
    arena_answer_id: int | None = None


@dataclass(frozen=True)
class Battle:
    """One arena battle to judge pairwise (sides as stored; answers redacted like the raters see them)."""

    battle_id: int
    question: str
    text_a: str
    text_b: str
    subject_a: str
    subject_b: str


def _last_user(messages: list[dict]) -> str:
    return next((m.get("content", "") for m in reversed(messages or []) if m.get("role") == "user"), "")


def list_targets(uow_factory: Callable[[], UnitOfWork], kind: str, limit: int = 100) -> list[tuple[str, int]]:
    """(label, id) choices for one kind of target, newest first."""
    with uow_factory() as uow:
        if kind == "run":
            runs = [r for k in RUN_KINDS for r in uow.runs.list(kind=k, limit=limit)]
            runs.sort(key=lambda r: (r.created_at, r.id), reverse=True)
            return [(f"#{r.id} {r.kind} · {shorten(r.title, 70)}", r.id) for r in runs[:limit]]
        if kind == "rag_question":
            return [
                (f"#{q.id} {q.collection_name} · {shorten(q.question, 70)}", q.id)
                for q in uow.rag_questions.list(None, limit)
            ]
        if kind == "rag_collection":
            return [(f"{c.name} (every saved question)", c.id) for c in uow.rag_collections.list()]
        if kind == "arena":
            return [(e.name, e.id) for e in uow.arena.list_evaluations()]
    raise InvalidInput(t("judge.pick_kind", kinds=", ".join(TARGET_KINDS)))


def target_label(uow_factory: Callable[[], UnitOfWork], kind: str, target_id: int) -> str:
    for label, value in list_targets(uow_factory, kind, limit=1000):
        if value == target_id:
            return label
    raise InvalidInput(t("judge.item_gone"))


def items_for(uow_factory: Callable[[], UnitOfWork], kind: str, target_id: int) -> list[Item]:
    """Every finished answer of the target, in a stable order; InvalidInput when there is none."""
    with uow_factory() as uow:
        if kind == "run":
            items = _run_items(uow, target_id)
        elif kind == "rag_question":
            items = _rag_items(uow, [uow.rag_questions.get(target_id)])
        elif kind == "rag_collection":
            questions = [q for q in uow.rag_questions.list(target_id, 1000)]
            items = _rag_items(uow, sorted(questions, key=lambda q: q.id))
        elif kind == "arena":
            items = _arena_items(uow, target_id)
        else:
            raise InvalidInput(t("judge.pick_kind", kinds=", ".join(TARGET_KINDS)))
    if not items:
        raise InvalidInput(t("judge.nothing_finished"))
    return items


def _run_items(uow: UnitOfWork, run_id: int) -> list[Item]:
    run = uow.runs.get(run_id)
    if run is None or run.kind not in RUN_KINDS:
        raise InvalidInput(t("judge.no_run", run=run_id))
    names = list((run.meta or {}).get("column_names") or [])
    items = []
    for gen in sorted(run.generations, key=lambda g: (g.row_index or 0, g.turn, g.attempt, g.position, g.id)):
        if gen.status != "ok":
            continue
        column = names[gen.position] if gen.position < len(names) else gen.model_name
        subject = f"{gen.position + 1} · {column}"
        group = (
            f"row {gen.row_index + 1}"
            if gen.row_index is not None
            else f"turn {gen.turn + 1}" + (f" · try {gen.attempt + 1}" if gen.attempt else "")
        )
        items.append(Item(f"g{gen.id}", subject, group, _last_user(gen.messages), gen.output, generation_id=gen.id))
    return items


def _rag_items(uow: UnitOfWork, questions: list) -> list[Item]:
    items = []
    for question in questions:
        if question is None:
            raise InvalidInput(t("judge.question_gone"))
        references = tuple(s.get("text", "") for s in question.sources)
        for gen in uow.generations.list_for_run(question.run_id):
            if gen.status != "ok":
                continue
            without = gen.position == 1
            subject = gen.model_name + (" (without documents)" if without else "")
            # Both answers are graded against the passages: that is what "with vs without" is about.
            items.append(
                Item(
                    f"g{gen.id}",
                    subject,
                    f"question {question.id}",
                    question.question,
                    gen.output,
                    references,
                    generation_id=gen.id,
                )
            )
    return items


def _arena_items(uow: UnitOfWork, evaluation_id: int) -> list[Item]:
    evaluation = uow.arena.get_evaluation(evaluation_id)
    if evaluation is None:
        raise InvalidInput(t("judge.evaluation_gone"))
    labels = {c.id: c.label for c in uow.arena.contestants(evaluation_id)}
    prompts = {p.id: p for p in uow.arena.prompts(evaluation_id)}
    items = []
    for answer in uow.arena.answers(evaluation_id):
        if answer.status != "ok":
            continue
        prompt = prompts[answer.prompt_id]
        ref = f"g{answer.generation_id}" if answer.generation_id else f"a{answer.id}"
        text = redact(answer.text, evaluation.leak_words)
        items.append(
            Item(
                ref,
                labels.get(answer.contestant_id, "?"),
                prompt.question_id,
                prompt.text,
                text,
                generation_id=answer.generation_id,
                arena_answer_id=answer.id,
            )
        )
    return items


def battles_for(uow_factory: Callable[[], UnitOfWork], evaluation_id: int) -> list[Battle]:
    """Battles with both answers ready, not the side-swapped repeats (the judge swaps sides itself)."""
    with uow_factory() as uow:
        evaluation = uow.arena.get_evaluation(evaluation_id)
        if evaluation is None:
            raise InvalidInput(t("judge.evaluation_gone"))
        labels = {c.id: c.label for c in uow.arena.contestants(evaluation_id)}
        prompts = {p.id: p.text for p in uow.arena.prompts(evaluation_id)}
        stored = {b.id: b for b in uow.arena.battles(evaluation_id)}
        battles = []
        for row in uow.arena.battle_rows(evaluation_id):
            if row["repeat_of_id"] is not None or row["status_a"] != "ok" or row["status_b"] != "ok":
                continue
            a, b = (
                uow.arena.get_answer(stored[row["id"]].answer_a_id),
                uow.arena.get_answer(stored[row["id"]].answer_b_id),
            )
            if a is None or b is None:  # the evaluation was deleted meanwhile
                raise InvalidInput(t("judge.evaluation_gone"))
            battles.append(
                Battle(
                    row["id"],
                    prompts[row["prompt_id"]],
                    redact(a.text, evaluation.leak_words),
                    redact(b.text, evaluation.leak_words),
                    labels.get(row["contestant_a"], "?"),
                    labels.get(row["contestant_b"], "?"),
                )
            )
    if not battles:
        raise InvalidInput(t("judge.no_ready_battle"))
    return battles
