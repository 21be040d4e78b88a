"""How far the judge agrees with people.

Battles: the raters' majority verdict against the judge's, as exact agreement and Cohen's κ
(reusing the Arena's κ and Wilson interval). Rater labels are side-relative: "a", "b",
"tie", "bothbad". The judge says only A, B or tie, so a rater's "both bad" counts as a tie
("neither is better"). Votes on a side-swapped repeat count for the original battle with
the sides swapped back.

Ties in the human majority are handled explicitly: a battle whose top label is shared by
two labels (1 × A and 1 × B, or 2 × A and 2 × tie) has no majority and is left out and
counted as "split" — it is neither a tie verdict nor a disagreement. Battles the judge
could not decide (unparsed or failed) are left out and counted too.

Grades: each human grade (0–3) against the judge's grade for the same answer and
criterion: exact agreement and agreement within one point, the study's two figures.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.arena.agreement import SWAPPED, cohen_kappa, wilson

if TYPE_CHECKING:
    from playground.arena.leaderboard import Leaderboard

VERDICTS = ("a", "b", "tie")
AS_VERDICT = {"a": "a", "b": "b", "tie": "tie", "bothbad": "tie"}
STUDY_EXACT, STUDY_WITHIN_ONE = 0.80, 0.95


def human_majority(labels: Iterable[str]) -> str | None:
    """The verdict most raters gave ("both bad" read as a tie); None when the top count is shared."""
    counts = Counter(AS_VERDICT[label] for label in labels)
    if not counts:
        return None
    ranked = counts.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def votes_by_battle(votes: Iterable[Mapping]) -> dict[int, list[str]]:
    """Rater labels per original battle; a repeat's vote is swapped back onto its original."""
    result: dict[int, list[str]] = defaultdict(list)
    for vote in votes:
        if vote.get("repeat_of_id") is None:
            result[vote["battle_id"]].append(vote["winner"])
        else:
            result[vote["repeat_of_id"]].append(SWAPPED[vote["winner"]])
    return dict(result)


def _percent(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.0%}"


@dataclass(frozen=True)
class VerdictAgreement:
    compared: int  # battles with a human majority and a judge verdict
    agreed: int
    exact: float
    interval: tuple[float, float]  # 95% Wilson interval of ``exact``
    kappa: float
    split: int  # battles with votes but no human majority (left out)
    undecided: int  # battles with a human majority the judge could not decide (left out)
    pairs: tuple[tuple[str, str], ...] = ()  # (raters' majority, judge) per compared battle

    @property
    def sentence(self) -> str:
        if not self.compared:
            return "No battle has both a human majority and a judge verdict yet, so there is nothing to compare."
        kappa = "κ could not be computed" if math.isnan(self.kappa) else f"κ = {self.kappa:.2f}"
        text = (
            f"The judge agreed with the raters' majority on {self.agreed} of {self.compared} battles ({_percent(self.exact)}), {kappa}. "
            f"The study's bar for standing in for people is over {STUDY_EXACT:.0%} exact agreement."
        )
        left_out = []
        if self.split:
            left_out.append(f"{self.split} battle(s) where the raters split evenly")
        if self.undecided:
            left_out.append(f"{self.undecided} battle(s) the judge could not decide")
        if left_out:
            text += " Left out: " + " and ".join(left_out) + "."
        if self.compared < 30:
            text += f" With only {self.compared} battles the figure is rough (95% interval {_percent(self.interval[0])}–{_percent(self.interval[1])})."
        return text


def verdict_agreement(human_labels: Mapping[int, Sequence[str]], judge: Mapping[int, str | None]) -> VerdictAgreement:
    """``human_labels``: battle → rater labels; ``judge``: battle → "a" | "b" | "tie" | None."""
    humans: list[str] = []
    judged: list[str] = []
    split = undecided = 0
    for battle, labels in human_labels.items():
        if battle not in judge or not labels:
            continue
        majority = human_majority(labels)
        verdict = judge[battle]
        if majority is None:
            split += 1
        elif verdict is None or verdict not in VERDICTS:
            undecided += 1
        else:
            humans.append(majority)
            judged.append(verdict)
    agreed = sum(h == j for h, j in zip(humans, judged))
    n = len(humans)
    return VerdictAgreement(
        compared=n,
        agreed=agreed,
        exact=agreed / n if n else math.nan,
        interval=wilson(agreed, n),
        kappa=cohen_kappa(humans, judged, VERDICTS),
        split=split,
        undecided=undecided,
        pairs=tuple(zip(humans, judged)),
    )


@dataclass(frozen=True)
class GradeAgreement:
    compared: int
    exact_count: int
    within_one_count: int
    unparsed: int  # human grades whose answer's judge grade did not parse (left out)

    @property
    def exact(self) -> float:
        return self.exact_count / self.compared if self.compared else math.nan

    @property
    def within_one(self) -> float:
        return self.within_one_count / self.compared if self.compared else math.nan

    @property
    def sentence(self) -> str:
        if not self.compared:
            return (
                "No answer has both a human grade and a parsed judge grade yet. Enter a few grades to check the judge."
            )
        text = (
            f"On {self.compared} human grade(s), the judge gave the same grade {self.exact_count} time(s) ({_percent(self.exact)}) "
            f"and within one point {self.within_one_count} time(s) ({_percent(self.within_one)}). "
            f"The study's bar: over {STUDY_EXACT:.0%} exact and over {STUDY_WITHIN_ONE:.0%} within one."
        )
        if self.unparsed:
            text += f" {self.unparsed} human grade(s) were left out because the judge's grade did not parse."
        return text


def grade_agreement(pairs: Iterable[tuple[int, int | None]]) -> GradeAgreement:
    """``pairs``: (human grade, judge grade or None when the judge's reply did not parse)."""
    compared = exact = within = unparsed = 0
    for human, judge in pairs:
        if judge is None:
            unparsed += 1
            continue
        compared += 1
        exact += human == judge
        within += abs(human - judge) <= 1
    return GradeAgreement(compared, exact, within, unparsed)


@dataclass(frozen=True)
class PositionBias:
    checked: int  # battles where both orders gave a verdict
    flipped: int  # of those, how many changed with the order

    @property
    def rate(self) -> float:
        return self.flipped / self.checked if self.checked else math.nan

    @property
    def sentence(self) -> str:
        if not self.checked:
            return "Position bias: no battle had a verdict in both orders yet."
        return (
            f"Position bias: the verdict changed when the answers swapped places in {self.flipped} of {self.checked} "
            f"battles ({_percent(self.rate)}); those count as ties."
        )


def position_bias(pairs: Iterable[tuple[str | None, str | None]]) -> PositionBias:
    """``pairs``: (verdict in the battle's order, verdict in the swapped order mapped back)."""
    both = [(x, y) for x, y in pairs if x in VERDICTS and y in VERDICTS]
    return PositionBias(len(both), sum(x != y for x, y in both))


@dataclass(frozen=True)
class AgreementWithPeople:
    """Everything the Judge tab shows under "Agreement with people" for one pick; None where it does not apply."""

    grades: GradeAgreement | None = None  # a rubric judging run's grades against the human grades
    verdicts: VerdictAgreement | None = None  # an Arena evaluation's latest pairwise verdicts against the raters
    bias: PositionBias | None = None  # of those verdicts
    pairwise_job_id: int | None = None  # the judging run the verdicts come from (None: none has run)
    leaderboard: Leaderboard | None = None  # the people's votes on that evaluation, for comparison
