"""What the Judge tab can do: keep rubric versions, grade answers with a judge model, judge
arena battles pairwise, take human grades, and measure how far the judge agrees with people.
The UI calls only this.

A judging run holds a lease on its job while it runs (``playground.leases``): the start-up
clean-up marks "failed" only runs whose lease expired or whose process is gone, never a run
another app process on the same database is still doing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from playground.errors import InvalidInput
from playground.generation import GenerationRecorder
from playground.i18n import Text, t
from playground.judge import items as targets
from playground.judge.agreement import (
    AgreementWithPeople,
    GradeAgreement,
    PositionBias,
    VerdictAgreement,
    grade_agreement,
    position_bias,
    verdict_agreement,
    votes_by_battle,
)
from playground.judge.results import JudgingRunResults, load_results
from playground.judge.rubric import SCALE, Criterion, Rubric, default_rubric, validate
from playground.judge.runner import JobRunner, JudgeProgress
from playground.leases import Lease, Leases
from playground.models.registry import ModelRegistry
from playground.statuses import RunStatus
from storage import UnitOfWork
from storage.orm import utc_now
from storage.orm_leases import LEASE_JUDGE

if TYPE_CHECKING:
    from playground.arena.service import ArenaService

log = logging.getLogger(__name__)
RUBRIC, PAIRWISE = "rubric", "pairwise"  # the two ways to judge (stored as a job's mode)


class JudgeService:
    def __init__(
        self,
        registry: ModelRegistry,
        recorder: GenerationRecorder,
        uow_factory: Callable[[], UnitOfWork],
        arena: ArenaService | None = None,
    ):
        """``arena``: for the Arena leaderboard shown beside the judge's agreement with the raters."""
        self.registry = registry
        self.recorder = recorder
        self.uow_factory = uow_factory
        self.arena = arena
        self.runner = JobRunner(recorder, uow_factory)
        self.leases = Leases(uow_factory)
        self.cleanup_interrupted()

    def cleanup_interrupted(self) -> list[int]:
        """Mark judging runs left "running" by a process that died as failed; returns their ids.
        A run whose lease is live (this or another process is judging) is left alone."""
        now = utc_now()
        marked = []
        with self.uow_factory() as uow:
            running = uow.judge.jobs_with_status(RunStatus.RUNNING)
            leases = self.leases.all(uow, LEASE_JUDGE)  # after the jobs: a job and its lease commit together
            for job in running:
                if self.leases.is_dead(leases.get(job.id), now) is None:
                    continue
                job.status, job.finished_at = RunStatus.FAILED, now
                uow.leases.drop(LEASE_JUDGE, job.id)
                marked.append(job.id)
        if marked:
            log.warning("Marked %d judging run(s) interrupted by a stopped app as failed", len(marked))
        return marked

    def _holding(self, lease: Lease, progress: Iterator[JudgeProgress]) -> Iterator[JudgeProgress]:
        """Renew the run's lease while it yields; give it up once the run has recorded its end."""
        self.leases.keep(lease)
        try:
            yield from progress
        finally:
            try:
                self.leases.release(lease)
            except Exception:  # it expires on its own
                log.exception("Could not release the lease of judging run %s", lease.resource_id)

    # ---- rubrics ---------------------------------------------------------------------------
    def save_rubric(self, name: str, criteria: Sequence[Criterion]) -> Rubric:
        """Validate and save as the next version of ``name``; earlier versions and their grades stay."""
        rubric = validate(name, criteria)
        with self.uow_factory() as uow:
            row = uow.judge.add_rubric_version(rubric.name, rubric.to_dicts())
            saved = Rubric(row.name, rubric.criteria, row.version, row.id)
        log.info("Saved rubric %s (id %s)", saved.label, saved.id)
        return saved

    def list_rubrics(self) -> list[tuple[str, int]]:
        """(label, id) of every saved version, newest version of each name first."""
        with self.uow_factory() as uow:
            return [(f"{r.name} v{r.version}", r.id) for r in uow.judge.list_rubrics()]

    def rubric_choices(self, selected: int | None = None) -> tuple[list[tuple[str, int]], int]:
        """Every saved version and the one to show: ``selected`` if it still exists, else the default."""
        default = self.get_rubric(None)  # saved as version 1 the first time
        assert default.id is not None  # the default comes back saved, so it has its row's id
        choices = self.list_rubrics()
        ids = [rubric_id for _, rubric_id in choices]
        return choices, selected if selected is not None and selected in ids else default.id

    def get_rubric(self, rubric_id: int | None) -> Rubric:
        """A saved version; with no id, the default rubric (saved as version 1 the first time)."""
        if rubric_id in (None, ""):
            return self._default_saved()
        with self.uow_factory() as uow:
            row = uow.judge.get_rubric(int(rubric_id))
            if row is None:
                raise InvalidInput(t("judge.rubric_gone"))
            return Rubric(row.name, tuple(Criterion.from_dict(c) for c in row.criteria), row.version, row.id)

    def _default_saved(self) -> Rubric:
        default = default_rubric()
        with self.uow_factory() as uow:
            for row in uow.judge.list_rubrics():
                if row.name == default.name and row.criteria == default.to_dicts():
                    return Rubric(row.name, default.criteria, row.version, row.id)
        return self.save_rubric(default.name, default.criteria)

    # ---- what to judge --------------------------------------------------------------------------
    def list_targets(self, kind: str) -> list[tuple[str, int]]:
        return targets.list_targets(self.uow_factory, kind)

    def _open_job(
        self, mode: str, kind: str, target_id: int, judge_key: str, rubric: Rubric | None, estimate: dict | None = None
    ) -> tuple[int, int, Lease]:
        spec = self.registry.get_spec(judge_key)  # ModelNotFound is a plain message
        label = targets.target_label(self.uow_factory, kind, target_id)
        title = f"Judge ({mode}) {label}"
        run_id = self.recorder.start_run(
            "judge",
            title=title,
            meta={
                "mode": mode,
                "target_kind": kind,
                "target_id": target_id,
                "rubric_id": rubric.id if rubric else None,
                **({"estimate": estimate} if estimate is not None else {}),
            },
        )
        with self.uow_factory() as uow:
            job = uow.judge.add_job(
                mode=mode,
                target_kind=kind,
                target_id=target_id,
                target_label=label,
                model_key=spec.key,
                model_name=spec.name,
                rubric_id=rubric.id if rubric else None,
                run_id=run_id,
                status=RunStatus.RUNNING,
            )
            lease = self.leases.take_in(uow, LEASE_JUDGE, job.id)
            assert lease is not None  # a new job's id: nobody else can hold it
            return job.id, run_id, lease

    @staticmethod
    def _check_target(kind: str, target_id) -> int:
        if kind not in targets.TARGET_KINDS:
            raise InvalidInput(t("judge.pick_target_kind"))
        try:
            return int(target_id)
        except (TypeError, ValueError):
            raise InvalidInput(t("judge.pick_target")) from None

    # ---- running ---------------------------------------------------------------------------------
    @staticmethod
    def check_judge_model(judge_key: str | None) -> None:
        if not judge_key:
            raise InvalidInput(t("judge.pick_model"))

    def check_target(self, mode: str, kind: str, target_id) -> None:
        """What a run refuses about what it would judge, before anything is saved."""
        self._check_target("arena" if mode == PAIRWISE else kind, target_id)

    def run_judge(
        self,
        judge_key: str,
        mode: str,
        kind: str,
        target_id,
        rubric_id: int | None,
        cancel: threading.Event | None = None,
        constrained: bool = False,
        estimate: dict | None = None,
    ) -> Iterator[JudgeProgress]:
        """Judge what the tab picked: grade it with a rubric, or (pairwise) judge an Arena evaluation's battles.
        ``estimate``: the run's cost and time estimate (``RunEstimate.to_dict()``), kept with its run."""
        if mode == PAIRWISE:
            return self.judge_battles(judge_key, target_id if kind == "arena" else None, cancel, constrained, estimate)
        return self.grade(judge_key, rubric_id, kind, target_id, cancel, constrained, estimate)

    def grade(
        self,
        judge_key: str,
        rubric_id: int | None,
        kind: str,
        target_id,
        cancel: threading.Event | None = None,
        constrained: bool = False,
        estimate: dict | None = None,
    ) -> Iterator[JudgeProgress]:
        """Grade every answer of the target on every criterion of the rubric version; yields progress.
        ``constrained``: a llama.cpp judge can only reply in the expected form (saved with each call's params)."""
        self.check_judge_model(judge_key)
        target = self._check_target(kind, target_id)
        rubric = self.get_rubric(rubric_id)
        found = targets.items_for(self.uow_factory, kind, target)
        job_id, run_id, lease = self._open_job(RUBRIC, kind, target, judge_key, rubric, estimate)
        with self.uow_factory() as uow:
            job = uow.judge.get_job(job_id)
            assert job is not None  # just added by _open_job, and jobs are never deleted
            job.total = len(found) * len(rubric.criteria)
        cancel = cancel or threading.Event()
        lease.on_stop = cancel.set
        yield from self._holding(
            lease, self.runner.grade(job_id, run_id, judge_key, rubric, found, cancel, constrained)
        )

    def judge_battles(
        self,
        judge_key: str,
        evaluation_id,
        cancel: threading.Event | None = None,
        constrained: bool = False,
        estimate: dict | None = None,
    ) -> Iterator[JudgeProgress]:
        """Judge every ready battle of an Arena evaluation twice, sides swapped; yields progress."""
        self.check_judge_model(judge_key)
        target = self._check_target("arena", evaluation_id)
        battles = targets.battles_for(self.uow_factory, target)
        job_id, run_id, lease = self._open_job(PAIRWISE, "arena", target, judge_key, None, estimate)
        with self.uow_factory() as uow:
            job = uow.judge.get_job(job_id)
            assert job is not None  # just added by _open_job, and jobs are never deleted
            job.total = len(battles)
        cancel = cancel or threading.Event()
        lease.on_stop = cancel.set
        yield from self._holding(lease, self.runner.pairwise(job_id, run_id, judge_key, battles, cancel, constrained))

    # ---- results -----------------------------------------------------------------------------------
    def list_jobs(self, limit: int = 100) -> list[tuple[str, int]]:
        with self.uow_factory() as uow:
            return [
                (
                    f"#{j.id} {j.mode} · {j.target_label[:60]} · judge {j.model_name} · {j.status} {j.done}/{j.total}",
                    j.id,
                )
                for j in uow.judge.list_jobs(limit=limit)
            ]

    def results(self, job_id) -> JudgingRunResults:
        """The results of one judging run."""
        return load_results(self.uow_factory, self._job_id(job_id))

    @staticmethod
    def _job_id(job_id) -> int:
        try:
            return int(job_id)
        except (TypeError, ValueError):
            raise InvalidInput(t("judge.pick_job")) from None

    # ---- human grades and agreement ---------------------------------------------------------------------
    def set_human_grade(self, item_ref: str, criterion: str, score, rater: str = "") -> str:
        """Save a person's grade of one answer; the sentence that says so (English)."""
        return str(self.save_human_grade(item_ref, criterion, score, rater))

    def save_human_grade(self, item_ref: str, criterion: str, score, rater: str = "") -> Text:
        """``set_human_grade``, saying so as a catalogue Text (for the reader's language)."""
        ref = (item_ref or "").strip()
        if not ref or ref[0] not in "ga" or not ref[1:].isdigit():
            raise InvalidInput(t("judge.pick_answer"))
        try:
            value = int(str(score).strip())
        except (TypeError, ValueError):
            raise InvalidInput(t("judge.grade_range")) from None
        if value not in SCALE:
            raise InvalidInput(t("judge.grade_range"))
        criterion = (criterion or "").strip().lower()
        if not criterion:
            raise InvalidInput(t("judge.pick_criterion"))
        rater = " ".join((rater or "").split())[:200]
        links = {"generation_id": int(ref[1:])} if ref[0] == "g" else {"arena_answer_id": int(ref[1:])}
        with self.uow_factory() as uow:
            exists = (
                uow.generations.get(links["generation_id"])
                if ref[0] == "g"
                else uow.arena.get_answer(links["arena_answer_id"])
            )
            if exists is None:
                raise InvalidInput(t("judge.answer_gone"))
            uow.judge.set_human_grade(ref, criterion, value, rater, **links)
        if rater:
            return t("judge.grade_saved_by", criterion=criterion, value=value, ref=ref, rater=rater)
        return t("judge.grade_saved", criterion=criterion, value=value, ref=ref)

    def agreement_with_people(self, job_id, kind: str, target_id) -> AgreementWithPeople:
        """The judge against people for what is picked. A rubric judging run: its grades against the
        human grades. An Arena evaluation (picked, or judged by the picked pairwise run): its latest
        pairwise verdicts against the raters' majority, with the position bias and the leaderboard."""
        grades = None
        if job_id not in (None, ""):
            loaded = self.results(job_id)
            if loaded.mode == RUBRIC:
                grades = self._grade_agreement(loaded)
            elif loaded.target_kind == "arena":
                kind, target_id = "arena", loaded.target_id
        if kind != "arena" or target_id in (None, ""):
            return AgreementWithPeople(grades)
        verdicts, bias, pairwise_job_id = self.verdict_agreement(target_id)
        board = self.arena.leaderboard(target_id) if self.arena is not None else None
        return AgreementWithPeople(grades, verdicts, bias, pairwise_job_id, board)

    def grade_agreement(self, job_id) -> GradeAgreement:
        return self._grade_agreement(self.results(job_id))

    def _grade_agreement(self, loaded: JudgingRunResults) -> GradeAgreement:
        with self.uow_factory() as uow:
            humans = uow.judge.human_grades(sorted({g.item_ref for g in loaded.grades}))
            pairs = [
                (h.score, loaded.score_of(h.item_ref, h.criterion))
                for h in humans
                if loaded.has(h.item_ref, h.criterion)
            ]
        return grade_agreement(pairs)

    def verdict_agreement(self, evaluation_id, job_id=None) -> tuple[VerdictAgreement, PositionBias, int | None]:
        """Agreement of the latest (or the given) pairwise job on this evaluation with the raters' majority."""
        target = self._check_target("arena", evaluation_id)
        with self.uow_factory() as uow:
            jobs = [j for j in uow.judge.list_jobs("arena", target) if j.mode == PAIRWISE]
            if job_id not in (None, ""):
                jobs = [j for j in jobs if j.id == int(job_id)]
            job = jobs[0] if jobs else None
            verdicts = uow.judge.verdicts(job.id) if job else []
            votes = uow.arena.vote_rows(target)
        judged = {v.battle_id: v.verdict for v in verdicts}
        return (
            verdict_agreement(votes_by_battle(votes), judged),
            position_bias((v.first, v.second) for v in verdicts),
            job.id if job else None,
        )
