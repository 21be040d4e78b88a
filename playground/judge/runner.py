"""Running a judge: one call per answer and criterion (or two per battle, sides swapped),
each through the GenerationRecorder so the judge's own generations are recorded too.

A reply that does not parse is asked again once with a reminder of the format; if that
fails too the grade is stored as unparsed (score NULL). A judge call that errors is
recorded for that item and the job goes on with the next one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterator, Sequence

from playground.errors import UserFacingError
from playground.generation import GenerationRecorder
from playground.judge import prompts
from playground.judge.items import Battle, Item
from playground.judge.parsing import Parsed, parse_score, parse_verdict
from playground.judge.rubric import Rubric
from playground.models.types import Message
from storage import UnitOfWork

log = logging.getLogger(__name__)
FLIP = {"a": "b", "b": "a", "tie": "tie"}


@dataclass
class Asked:
    """The outcome of asking the judge one question (with its one retry)."""

    status: str  # ok | unparsed | error | cancelled
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
    status: str = "running"  # running | done | cancelled | failed
    current: str = ""

    @property
    def finished(self) -> bool:
        return self.status != "running"

    @property
    def summary(self) -> str:
        if not self.finished:
            return f"Judging {self.done}/{self.total} · {self.current}"
        ending = {"done": "✅ Finished", "cancelled": "⏹ Cancelled", "failed": "❌ Failed"}.get(self.status, self.status)
        parts = [f"{ending}: {self.done} of {self.total} judged in {self.elapsed_s:.0f} s"]
        if self.unparsed:
            parts.append(f"{self.unparsed} reply(ies) unparsed after a retry (left out of the averages)")
        if self.failed:
            parts.append(f"{self.failed} failed (the judge model gave an error; see each item)")
        return " · ".join(parts) + "."


def ask(
    recorder: GenerationRecorder,
    run_id: int,
    judge_key: str,
    messages: Sequence[Message],
    parse: Callable[[str], Parsed],
    reminder: tuple[str, str],
    cancel: threading.Event | None,
    position: int,
    grammar: str = "",
) -> Asked:
    result = Asked("unparsed")
    current = list(messages)
    for attempt in range(2):
        final = None
        try:
            for update in recorder.stream(run_id, judge_key, current, prompts.judge_params(seed=attempt, grammar=grammar), position=position, cancel=cancel, attempt=attempt):
                final = update
        except UserFacingError as err:  # e.g. the judge model was removed: nothing was generated
            result.status, result.error = "error", str(err)
            return result
        result.prompts.append([m.to_dict() for m in current])
        result.replies.append(final.text)
        result.generation_ids.append(final.generation_id)
        if final.status == "cancelled":
            result.status = "cancelled"
            return result
        if final.error:
            result.status, result.error = "error", final.error
            return result
        parsed = parse(final.text)
        result.reason, result.problem = parsed.reason, parsed.problem
        if parsed.ok:
            result.status, result.value = "ok", parsed.value
            return result
        current = prompts.retry_messages(messages, final.text, *reminder)
    log.info("Judge reply unparsed after a retry (%s): %r", result.problem, result.replies[-1][:200])
    return result


class JobRunner:
    def __init__(self, recorder: GenerationRecorder, uow_factory: Callable[[], UnitOfWork]):
        self.recorder = recorder
        self.uow_factory = uow_factory

    def _loop(self, job_id: int, run_id: int, judge_key: str, steps: list, work, cancel: threading.Event) -> Iterator[JudgeProgress]:
        """Run ``work(step, index)`` for every step, counting outcomes and saving them to the job."""
        started = time.monotonic()
        done = failed = unparsed = 0
        status = "running"
        try:
            yield JudgeProgress(job_id, 0, len(steps), 0, 0, 0.0, current="starting")
            for index, step in enumerate(steps):
                if cancel.is_set():
                    break
                outcome = work(step, index)
                if outcome == "cancelled":
                    break
                done += 1
                failed += outcome == "error"
                unparsed += outcome == "unparsed"
                self._update_job(job_id, done=done, failed=failed, unparsed=unparsed)
                yield JudgeProgress(job_id, done, len(steps), failed, unparsed, time.monotonic() - started, current=f"{done} of {len(steps)}")
            status = "cancelled" if done < len(steps) else "done"
        except GeneratorExit:
            status = "cancelled"
            raise
        except Exception:
            status = "failed"
            raise
        finally:
            self._update_job(job_id, status=status, finished_at=datetime.now(timezone.utc))
            log.info("Judge job %s (%s) ended: %s, %d/%d, %d unparsed, %d failed", job_id, judge_key, status, done, len(steps), unparsed, failed)
        yield JudgeProgress(job_id, done, len(steps), failed, unparsed, time.monotonic() - started, status)

    def _update_job(self, job_id: int, **fields) -> None:
        with self.uow_factory() as uow:
            job = uow.judge.get_job(job_id)
            if job is not None:
                for name, value in fields.items():
                    setattr(job, name, value)

    # ---- rubric grading ------------------------------------------------------------------
    def grade(
        self, job_id: int, run_id: int, judge_key: str, rubric: Rubric, items: Sequence[Item], cancel: threading.Event, constrained: bool = False
    ) -> Iterator[JudgeProgress]:
        steps = [(position, item, criterion) for position, item in enumerate(items) for criterion in rubric.criteria]

        def work(step, index: int) -> str:
            position, item, criterion = step
            messages = prompts.rubric_messages(criterion, item.question, item.answer, item.references)
            asked = ask(self.recorder, run_id, judge_key, messages, parse_score, ("Score", "0, 1, 2 or 3"), cancel, index,
                        prompts.RUBRIC_GRAMMAR if constrained else "")
            if asked.status == "cancelled":
                return "cancelled"
            with self.uow_factory() as uow:
                uow.judge.add_grade(
                    job_id=job_id, rubric_id=rubric.id, item_ref=item.ref, generation_id=item.generation_id, arena_answer_id=item.arena_answer_id,
                    subject=item.subject[:300], position=position, item_group=item.group[:200], question=item.question, criterion=criterion.name,
                    score=asked.value if asked.status == "ok" else None, parsed=asked.status == "ok", status=asked.status,
                    reason=asked.reason, prompts=asked.prompts, replies=asked.replies, judge_generation_ids=asked.generation_ids,
                    error=asked.error or (asked.problem if asked.status == "unparsed" else None),
                )
            return asked.status

        yield from self._loop(job_id, run_id, judge_key, steps, work, cancel)

    # ---- pairwise judging -------------------------------------------------------------------
    def pairwise(
        self, job_id: int, run_id: int, judge_key: str, battles: Sequence[Battle], cancel: threading.Event, constrained: bool = False
    ) -> Iterator[JudgeProgress]:
        def work(battle: Battle, index: int) -> str:
            asked = []
            for order, (first, second) in enumerate(((battle.text_a, battle.text_b), (battle.text_b, battle.text_a))):
                messages = prompts.pair_messages(battle.question, first, second)
                one = ask(self.recorder, run_id, judge_key, messages, parse_verdict, ("Winner", "A, B or tie"), cancel, 2 * index + order,
                          prompts.PAIR_GRAMMAR if constrained else "")
                asked.append(one)
                if one.status in ("cancelled", "error"):
                    break
            if any(a.status == "cancelled" for a in asked):
                return "cancelled"
            first = asked[0].value if asked[0].status == "ok" else None
            second = FLIP[asked[1].value] if len(asked) > 1 and asked[1].status == "ok" else None
            status = next((a.status for a in asked if a.status == "error"), None) or ("ok" if first and second else "unparsed")
            bias = None if status != "ok" else first != second
            verdict = None if status != "ok" else (first if not bias else "tie")  # a verdict that flips with the order is a tie
            with self.uow_factory() as uow:
                uow.judge.add_verdict(
                    job_id=job_id, battle_id=battle.battle_id, first=first, second=second, verdict=verdict, position_bias=bias, status=status,
                    reasons=[a.reason for a in asked], prompts=[p for a in asked for p in a.prompts], replies=[r for a in asked for r in a.replies],
                    judge_generation_ids=[g for a in asked for g in a.generation_ids],
                    error=next((a.error for a in asked if a.error), None) or ("; ".join(a.problem for a in asked if a.problem) or None if status == "unparsed" else None),
                )
            return status

        yield from self._loop(job_id, run_id, judge_key, list(battles), work, cancel)
