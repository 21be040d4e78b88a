"""Running a judge: one call per answer and criterion (or two per battle, sides swapped),
each through the GenerationRecorder so the judge's own generations are recorded too.

A reply that does not parse is asked again once with a reminder of the format; if that
fails too the grade is stored as unparsed (score NULL). A judge call that errors is
recorded for that item and the job goes on with the next one.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from playground.errors import UserFacingError
from playground.generation import GenerationRecorder
from playground.i18n import Text, t
from playground.judge import prompts
from playground.judge.items import Battle, Item
from playground.judge.parsing import Parsed, parse_score, parse_verdict
from playground.judge.rubric import Criterion, Rubric
from playground.models.types import Message
from playground.progress import Progress, complete, tracked_run
from playground.statuses import GenerationStatus, RunStatus
from storage import UnitOfWork
from storage.orm import utc_now

log = logging.getLogger(__name__)
FLIP = {"a": "b", "b": "a", "tie": "tie"}
UNPARSED = "unparsed"  # a judge reply that did not parse even after its retry (a stored grade status)
_ENDING_TEXTS: dict[str, Text] = {
    RunStatus.DONE: t("judge.ending_done"),
    RunStatus.CANCELLED: t("judge.ending_cancelled"),
    RunStatus.FAILED: t("judge.ending_failed"),
}


@dataclass
class Asked:
    """The outcome of asking the judge one question (with its one retry)."""

    status: str  # GenerationStatus.OK | UNPARSED | GenerationStatus.ERROR | GenerationStatus.CANCELLED
    value: int | str | None = None
    reason: str = ""
    problem: str = ""
    prompts: list[list[dict]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    generation_ids: list[int] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class JudgeProgress:
    job_id: int
    done: int
    total: int
    failed: int
    unparsed: int
    elapsed_s: float
    status: str = RunStatus.RUNNING
    current: str = ""

    @property
    def finished(self) -> bool:
        return self.status != RunStatus.RUNNING

    @property
    def progress(self) -> Progress:
        return Progress(self.done, self.total, self.summary)

    @property
    def summary(self) -> str:
        return str(self.said)

    @property
    def said(self) -> Text:
        """``summary`` as a catalogue Text, shown in the reader's language."""
        if not self.finished:
            return t("judge.judging", done=self.done, total=self.total, current=self.current)
        ending = _ENDING_TEXTS[self.status] if self.status in _ENDING_TEXTS else self.status
        judged = t("judge.judged", ending=ending, done=self.done, total=self.total, seconds=f"{self.elapsed_s:.0f}")
        unparsed = t("judge.unparsed_replies", n=self.unparsed) if self.unparsed else ""
        failed = t("judge.failed_calls", n=self.failed) if self.failed else ""
        return t("judge.full_stop", text=t("judge.three_parts", a=judged, b=unparsed, c=failed))


def ask(
    recorder: GenerationRecorder,
    run_id: int,
    judge_key: str,
    messages: Sequence[Message],
    parse: Callable[[str], Parsed],
    reminder: tuple[str, str, str],  # retry_messages' field, choices and language
    cancel: threading.Event | None,
    position: int,
    grammar: str = "",
) -> Asked:
    result = Asked(UNPARSED)
    current = list(messages)
    for attempt in range(2):
        params = prompts.judge_params(seed=attempt, grammar=grammar)
        try:
            final = complete(
                recorder.stream(run_id, judge_key, current, params, position=position, cancel=cancel, attempt=attempt)
            )
        except UserFacingError as err:  # e.g. the judge model was removed: nothing was generated
            result.status, result.error = GenerationStatus.ERROR, str(err)
            return result
        result.prompts.append([m.to_dict() for m in current])
        result.replies.append(final.text)
        result.generation_ids.append(final.generation_id)
        if final.status == GenerationStatus.CANCELLED:
            result.status = GenerationStatus.CANCELLED
            return result
        if final.error:
            result.status, result.error = GenerationStatus.ERROR, str(final.error)
            return result
        parsed = parse(final.text)
        result.reason, result.problem = parsed.reason, parsed.problem
        if parsed.ok:
            result.status, result.value = GenerationStatus.OK, parsed.value
            return result
        current = prompts.retry_messages(messages, final.text, *reminder)
    log.info("Judge reply unparsed after a retry (%s): %r", result.problem, result.replies[-1][:200])
    return result


def grade_steps(items: Sequence[Item], rubric: Rubric) -> list[tuple[int, Item, Criterion]]:
    """A grading run's steps: every answer on every criterion (one judge call each)."""
    return [(position, item, criterion) for position, item in enumerate(items) for criterion in rubric.criteria]


def grade_messages(item: Item, criterion: Criterion) -> list[Message]:
    """The judge's prompt for one answer on one criterion, in the answer's language."""
    language = prompts.judge_language(item.question, item.answer)
    return prompts.rubric_messages(criterion, item.question, item.answer, item.references, language)


def battle_messages(battle: Battle) -> list[tuple[str, list[Message]]]:
    """A battle's two prompts (A-B, then B-A), each with its language."""
    orders = []
    for shown_first, shown_second in ((battle.text_a, battle.text_b), (battle.text_b, battle.text_a)):
        language = prompts.judge_language(battle.question, shown_first, shown_second)
        orders.append((language, prompts.pair_messages(battle.question, shown_first, shown_second, language)))
    return orders


def _side(one: Asked) -> str | None:
    """The side ("a", "b" or "tie") a pairwise question settled on; None unless its reply parsed."""
    if one.status != GenerationStatus.OK:
        return None
    assert isinstance(one.value, str)  # an OK Asked from parse_verdict holds "a", "b" or "tie"
    return one.value


@dataclass
class _Tally:
    """How a judging run's steps came out so far (saved to the job after each step)."""

    done: int = 0
    failed: int = 0
    unparsed: int = 0

    def count(self, outcome: str) -> None:
        self.done += 1
        self.failed += outcome == GenerationStatus.ERROR
        self.unparsed += outcome == UNPARSED


class JobRunner:
    def __init__(self, recorder: GenerationRecorder, uow_factory: Callable[[], UnitOfWork]):
        self.recorder = recorder
        self.uow_factory = uow_factory

    def _loop(self, job_id: int, judge_key: str, steps: list, work, cancel: threading.Event) -> Iterator[JudgeProgress]:
        """Run ``work(step, index)`` for every step, counting outcomes and saving them to the job."""
        started = time.monotonic()
        tally, total = _Tally(), len(steps)
        with tracked_run(functools.partial(self._close_job, job_id, judge_key, tally, total)) as run:
            yield JudgeProgress(job_id, 0, total, 0, 0, 0.0, current="starting")
            for index, step in enumerate(steps):
                if cancel.is_set():
                    break
                outcome = work(step, index)
                if outcome == GenerationStatus.CANCELLED:
                    break
                tally.count(outcome)
                self._update_job(job_id, done=tally.done, failed=tally.failed, unparsed=tally.unparsed)
                yield JudgeProgress(
                    job_id,
                    tally.done,
                    total,
                    tally.failed,
                    tally.unparsed,
                    time.monotonic() - started,
                    current=f"{tally.done} of {total}",
                )
            run.value = RunStatus.CANCELLED if tally.done < total else RunStatus.DONE
        yield JudgeProgress(
            job_id, tally.done, total, tally.failed, tally.unparsed, time.monotonic() - started, run.value
        )

    def _close_job(self, job_id: int, judge_key: str, tally: _Tally, total: int, status: str) -> None:
        self._update_job(job_id, status=status, finished_at=utc_now())
        log.info(
            "Judge job %s (%s) ended: %s, %d/%d, %d unparsed, %d failed",
            job_id,
            judge_key,
            status,
            tally.done,
            total,
            tally.unparsed,
            tally.failed,
        )

    def _update_job(self, job_id: int, **fields) -> None:
        with self.uow_factory() as uow:
            job = uow.judge.get_job(job_id)
            if job is not None:
                for name, value in fields.items():
                    setattr(job, name, value)

    # ---- rubric grading ------------------------------------------------------------------
    def grade(
        self,
        job_id: int,
        run_id: int,
        judge_key: str,
        rubric: Rubric,
        items: Sequence[Item],
        cancel: threading.Event,
        constrained: bool = False,
    ) -> Iterator[JudgeProgress]:
        steps = grade_steps(items, rubric)

        def work(step, index: int) -> str:
            position, item, criterion = step
            language = prompts.judge_language(item.question, item.answer)
            messages = grade_messages(item, criterion)
            asked = ask(
                self.recorder,
                run_id,
                judge_key,
                messages,
                parse_score,
                prompts.score_reminder(language),
                cancel,
                index,
                prompts.RUBRIC_GRAMMAR if constrained else "",
            )
            if asked.status == GenerationStatus.CANCELLED:
                return GenerationStatus.CANCELLED
            ok = asked.status == GenerationStatus.OK
            with self.uow_factory() as uow:
                uow.judge.add_grade(
                    job_id=job_id,
                    rubric_id=rubric.id,
                    item_ref=item.ref,
                    generation_id=item.generation_id,
                    arena_answer_id=item.arena_answer_id,
                    subject=item.subject[:300],
                    position=position,
                    item_group=item.group[:200],
                    question=item.question,
                    criterion=criterion.name,
                    score=asked.value if ok else None,
                    parsed=ok,
                    status=asked.status,
                    reason=asked.reason,
                    prompts=asked.prompts,
                    replies=asked.replies,
                    judge_generation_ids=asked.generation_ids,
                    error=asked.error or (asked.problem if asked.status == UNPARSED else None),
                )
            return asked.status

        yield from self._loop(job_id, judge_key, steps, work, cancel)

    # ---- pairwise judging -------------------------------------------------------------------
    def pairwise(
        self,
        job_id: int,
        run_id: int,
        judge_key: str,
        battles: Sequence[Battle],
        cancel: threading.Event,
        constrained: bool = False,
    ) -> Iterator[JudgeProgress]:
        def work(battle: Battle, index: int) -> str:
            asked = []
            for order, (language, messages) in enumerate(battle_messages(battle)):
                one = ask(
                    self.recorder,
                    run_id,
                    judge_key,
                    messages,
                    parse_verdict,
                    prompts.winner_reminder(language),
                    cancel,
                    2 * index + order,
                    prompts.PAIR_GRAMMAR if constrained else "",
                )
                asked.append(one)
                if one.status in (GenerationStatus.CANCELLED, GenerationStatus.ERROR):
                    break
            if any(a.status == GenerationStatus.CANCELLED for a in asked):
                return GenerationStatus.CANCELLED
            first = _side(asked[0])
            second_seen = _side(asked[1]) if len(asked) > 1 else None
            second = FLIP[second_seen] if second_seen is not None else None
            failed = any(a.status == GenerationStatus.ERROR for a in asked)
            status = GenerationStatus.ERROR if failed else (GenerationStatus.OK if first and second else UNPARSED)
            bias = None if status != GenerationStatus.OK else first != second
            verdict = (
                None if status != GenerationStatus.OK else (first if not bias else "tie")
            )  # a verdict that flips with the order is a tie
            with self.uow_factory() as uow:
                uow.judge.add_verdict(
                    job_id=job_id,
                    battle_id=battle.battle_id,
                    first=first,
                    second=second,
                    verdict=verdict,
                    position_bias=bias,
                    status=status,
                    reasons=[a.reason for a in asked],
                    prompts=[p for a in asked for p in a.prompts],
                    replies=[r for a in asked for r in a.replies],
                    judge_generation_ids=[g for a in asked for g in a.generation_ids],
                    error=next((a.error for a in asked if a.error), None)
                    or ("; ".join(a.problem for a in asked if a.problem) or None if status == UNPARSED else None),
                )
            return status

        yield from self._loop(job_id, judge_key, list(battles), work, cancel)
