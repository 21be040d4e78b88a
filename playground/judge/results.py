"""The results of a judging run (one ``judge_jobs`` row, "Judging run" in the UI), shaped for
reading: answers × criteria, the score grid (inputs × models), per-model averages, score counts
for the charts, and pairwise verdicts. "Results" means this and nothing else in the judge.

Unparsed and failed grades are shown as such, counted, and left out of every average.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from playground.errors import InvalidInput
from playground.i18n import t
from playground.judge.rubric import Criterion, Rubric, weighted_score
from playground.statuses import GenerationStatus
from storage import UnitOfWork

SCORE_LABELS = ("0", "1", "2", "3", "unparsed", "failed")


@dataclass(frozen=True)
class GradeRow:
    item_ref: str
    subject: str
    group: str
    question: str
    criterion: str
    score: int | None
    status: str  # GenerationStatus.OK | "unparsed" | GenerationStatus.ERROR
    reason: str
    error: str | None
    replies: list[str]
    prompts: list


@dataclass(frozen=True)
class VerdictRow:
    battle_id: int
    first: str | None
    second: str | None
    verdict: str | None
    position_bias: bool | None
    status: str
    reasons: list[str]
    error: str | None
    replies: list[str]


@dataclass
class JudgingRunResults:
    """What one judging run stored: its settings, every grade (rubric) or verdict (pairwise)."""

    job_id: int
    mode: str
    target_kind: str
    target_id: int
    target_label: str
    judge: str
    status: str
    total: int
    done: int
    failed: int
    unparsed: int
    rubric: Rubric | None
    grades: list[GradeRow] = field(default_factory=list)
    verdicts: list[VerdictRow] = field(default_factory=list)

    # ---- lookups -----------------------------------------------------------------------
    def _by_ref(self) -> dict[str, dict[str, GradeRow]]:
        table: dict[str, dict[str, GradeRow]] = defaultdict(dict)
        for grade in self.grades:
            table[grade.item_ref][grade.criterion] = grade
        return table

    def has(self, item_ref: str, criterion: str) -> bool:
        return criterion in self._by_ref().get(item_ref, {})

    def score_of(self, item_ref: str, criterion: str) -> int | None:
        grade = self._by_ref().get(item_ref, {}).get(criterion)
        return grade.score if grade is not None and grade.status == GenerationStatus.OK else None

    @property
    def criteria(self) -> list[Criterion]:
        return list(self.rubric.criteria) if self.rubric else []

    @property
    def heaviest_criterion(self) -> str:
        """The criterion that weighs most in the overall score (the one the charts show)."""
        return max(self.criteria, key=lambda c: c.weight).name if self.criteria else ""

    def overall(self, item_ref: str) -> float | None:
        if not self.rubric:
            return None
        return weighted_score({c: g.score for c, g in self._by_ref().get(item_ref, {}).items()}, self.rubric)

    # ---- tables --------------------------------------------------------------------------
    def item_table(self) -> tuple[list[str], list[list[str]]]:
        """One row per answer: its id (for human grades), input, model, each criterion, overall, reasons."""
        names = [c.name for c in self.criteria]
        headers = ["answer", "input", "model", *names, "overall", "judge's reasons"]
        rows = []
        for ref, by_criterion in self._by_ref().items():
            first = next(iter(by_criterion.values()))
            cells = [cell_text(by_criterion.get(n)) for n in names]
            reasons = " | ".join(f"{n}: {g.reason or g.error or '—'}" for n, g in by_criterion.items())
            rows.append([ref, first.group, first.subject, *cells, _score(self.overall(ref)), reasons])
        return headers, rows

    def score_grid(self) -> tuple[list[str], list[list[str]]]:
        """Inputs × models, each cell the answer's overall score (a score column per model)."""
        subjects = list(dict.fromkeys(g.subject for g in self.grades))
        groups = list(dict.fromkeys(g.group for g in self.grades))
        cell: dict[tuple[str, str], str] = {}
        for ref, by_criterion in self._by_ref().items():
            first = next(iter(by_criterion.values()))
            overall = self.overall(ref)
            if overall is None:
                statuses = {g.status for g in by_criterion.values()}
                text = "failed" if GenerationStatus.ERROR in statuses else "unparsed"
            else:
                text = _score(overall)
            cell[(first.group, first.subject)] = text
        return ["input", *subjects], [[group, *(cell.get((group, s), "") for s in subjects)] for group in groups]

    def summary(self) -> tuple[list[str], list[list[str]]]:
        """Per model: answers, mean overall, mean per criterion (parsed grades only), unparsed and failed counts."""
        names = [c.name for c in self.criteria]
        headers = ["model", "answers", "overall (0–3)", *names, "unparsed", "failed"]
        rows = []
        for subject in dict.fromkeys(g.subject for g in self.grades):
            mine = [g for g in self.grades if g.subject == subject]
            refs = list(dict.fromkeys(g.item_ref for g in mine))
            overall = [o for o in (self.overall(r) for r in refs) if o is not None]
            means = [
                _mean([g.score for g in mine if g.criterion == n and g.status == GenerationStatus.OK]) for n in names
            ]
            rows.append(
                [
                    subject,
                    str(len(refs)),
                    _score(_mean(overall)),
                    *(_score(m) for m in means),
                    str(sum(g.status == "unparsed" for g in mine)),
                    str(sum(g.status == GenerationStatus.ERROR for g in mine)),
                ]
            )
        return headers, rows

    def distribution(self, criterion: str | None = None) -> dict[str, dict[str, int]]:
        """Per model, how many grades of each score (and unparsed, failed) on one criterion."""
        criterion = criterion or self.heaviest_criterion or None
        counts: dict[str, dict[str, int]] = {}
        for grade in self.grades:
            if grade.criterion != criterion:
                continue
            counts.setdefault(grade.subject, dict.fromkeys(SCORE_LABELS, 0))[cell_text(grade)] += 1
        return counts

    def verdict_table(self, sides: dict[int, tuple[str, str]] | None = None) -> tuple[list[str], list[list[str]]]:
        headers = [
            "battle",
            "answer A",
            "answer B",
            "A-B order",
            "B-A order (mapped back)",
            "verdict",
            "order changed it",
            "judge's reasons",
        ]
        rows = []
        for v in self.verdicts:
            a, b = (sides or {}).get(v.battle_id, ("A", "B"))
            verdict = v.verdict or ("failed: " + (v.error or "") if v.status == GenerationStatus.ERROR else "unparsed")
            bias = "" if v.position_bias is None else ("yes → tie" if v.position_bias else "no")
            rows.append(
                [
                    str(v.battle_id),
                    a,
                    b,
                    v.first or "—",
                    v.second or "—",
                    verdict,
                    bias,
                    " | ".join(r for r in v.reasons if r),
                ]
            )
        return headers, rows


def cell_text(grade: GradeRow | None) -> str:
    """A grade as one word: its score, "failed" (the judge model erred) or "unparsed"."""
    if grade is None:
        return ""
    if grade.status == GenerationStatus.OK:
        return str(grade.score)
    if grade.status == GenerationStatus.ERROR:
        return "failed"
    return "unparsed"


def _mean(values: list) -> float | None:
    return sum(values) / len(values) if values else None


def _score(value: float | None) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"


def load_results(uow_factory: Callable[[], UnitOfWork], job_id: int) -> JudgingRunResults:
    with uow_factory() as uow:
        job = uow.judge.get_job(job_id)
        if job is None:
            raise InvalidInput(t("judge.job_gone"))
        rubric = None
        if job.rubric_id is not None:
            row = uow.judge.get_rubric(job.rubric_id)
            if row is not None:
                rubric = Rubric(row.name, tuple(Criterion.from_dict(c) for c in row.criteria), row.version, row.id)
        grades = [
            GradeRow(
                g.item_ref,
                g.subject,
                g.item_group,
                g.question,
                g.criterion,
                g.score,
                g.status,
                g.reason,
                g.error,
                list(g.replies),
                list(g.prompts),
            )
            for g in uow.judge.grades(job.id)
        ]
        verdicts = [
            VerdictRow(
                v.battle_id,
                v.first,
                v.second,
                v.verdict,
                v.position_bias,
                v.status,
                list(v.reasons),
                v.error,
                list(v.replies),
            )
            for v in uow.judge.verdicts(job.id)
        ]
        return JudgingRunResults(
            job.id,
            job.mode,
            job.target_kind,
            job.target_id,
            job.target_label,
            job.model_name,
            job.status,
            job.total,
            job.done,
            job.failed,
            job.unparsed,
            rubric,
            grades,
            verdicts,
        )
