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
from playground.i18n import Text, t

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
        return str(self.said)

    @property
    def said(self) -> Text:
        """``sentence`` as a catalogue Text, shown in the reader's language."""
        if not self.compared:
            return t("judge.verdicts_none")
        kappa = t("judge.kappa_none") if math.isnan(self.kappa) else t("judge.kappa_value", kappa=f"{self.kappa:.2f}")
        main = t(
            "judge.verdicts_main",
            agreed=self.agreed,
            compared=self.compared,
            exact=_percent(self.exact),
            kappa=kappa,
            bar=f"{STUDY_EXACT:.0%}",
        )
        left_out = []
        if self.split:
            left_out.append(t("judge.split_battles", n=self.split))
        if self.undecided:
            left_out.append(t("judge.undecided_battles", n=self.undecided))
        items: Text | str = ""
        if left_out:
            listed = left_out[0] if len(left_out) == 1 else t("judge.two_items", a=left_out[0], b=left_out[1])
            items = t("judge.left_out", items=listed)
        rough: Text | str = ""
        if self.compared < 30:
            low, high = _percent(self.interval[0]), _percent(self.interval[1])
            rough = t("judge.rough", compared=self.compared, low=low, high=high)
        return t("judge.three_parts", a=main, b=items, c=rough)


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
        return str(self.said)

    @property
    def said(self) -> Text:
        """``sentence`` as a catalogue Text, shown in the reader's language."""
        if not self.compared:
            return t("judge.grades_none")
        main = t(
            "judge.grades_main",
            compared=self.compared,
            exact_count=self.exact_count,
            exact=_percent(self.exact),
            within_count=self.within_one_count,
            within=_percent(self.within_one),
            bar_exact=f"{STUDY_EXACT:.0%}",
            bar_within=f"{STUDY_WITHIN_ONE:.0%}",
        )
        unparsed = t("judge.grades_unparsed", n=self.unparsed) if self.unparsed else ""
        return t("judge.two_parts", a=main, b=unparsed)


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
        return str(self.said)

    @property
    def said(self) -> Text:
        """``sentence`` as a catalogue Text, shown in the reader's language."""
        if not self.checked:
            return t("judge.bias_none")
        return t("judge.bias", flipped=self.flipped, checked=self.checked, rate=_percent(self.rate))


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
