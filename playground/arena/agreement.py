"""How much raters agreed: percent agreement, Cohen's κ per pair, Fleiss' κ overall,
per-rater tie rate, left-side bias and self-consistency on side-swapped repeats; and
Wilson intervals for proportions.

Labels are the side-relative choices a rater made: "a", "b", "tie", "bothbad". A tie
("both equally good") and "both bad" are different answers, so they are different
categories here too.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

LABELS = ("a", "b", "tie", "bothbad")
DECISIVE = ("a", "b")
SWAPPED = {"a": "b", "b": "a", "tie": "tie", "bothbad": "bothbad"}


def wilson(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval; (nan, nan) with no trials."""
    if trials <= 0:
        return math.nan, math.nan
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def cohen_kappa(x: Sequence[str], y: Sequence[str], categories: Sequence[str] = LABELS) -> float:
    """κ = (po − pe) / (1 − pe); NaN when chance agreement is already total (e.g. both always "a")."""
    if len(x) != len(y) or not x:
        return math.nan
    n = len(x)
    po = sum(1 for u, v in zip(x, y) if u == v) / n
    cx, cy = Counter(x), Counter(y)
    pe = sum(cx[c] * cy[c] for c in categories) / (n * n)
    if pe >= 1.0:
        return math.nan
    return (po - pe) / (1 - pe)


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float:
    """Fleiss' κ from an items × categories table of counts; items may have different
    numbers of raters (each needs at least two)."""
    rows = [list(r) for r in table if sum(r) >= 2]
    if not rows:
        return math.nan
    total = sum(sum(r) for r in rows)
    p_items = [(sum(c * c for c in r) - sum(r)) / (sum(r) * (sum(r) - 1)) for r in rows]
    p_bar = sum(p_items) / len(rows)
    k = len(rows[0])
    p_cat = [sum(r[j] for r in rows) / total for j in range(k)]
    p_e = sum(p * p for p in p_cat)
    if p_e >= 1.0:
        return math.nan
    return (p_bar - p_e) / (1 - p_e)


@dataclass(frozen=True)
class Judgement:
    rater: str
    battle: int  # battle id
    label: str
    repeat_of: int | None = None  # set on a side-swapped repeat of another battle


@dataclass
class PairAgreement:
    rater_1: str
    rater_2: str
    shared: int
    agreement: float  # share of shared battles with the same label
    agreement_decisive: float  # same, over battles where both chose A or B
    decisive: int
    kappa: float


@dataclass
class RaterStats:
    rater: str
    votes: int
    tie_rate: float  # tie or both bad
    left_rate: float  # share of A among A/B choices (0.5 = no side bias)
    left_interval: tuple[float, float]
    repeats: int
    self_consistency: float  # share of repeats answered the same way once sides are swapped back


@dataclass
class AgreementReport:
    pairs: list[PairAgreement] = field(default_factory=list)
    agreement: float = math.nan
    agreement_decisive: float = math.nan
    fleiss: float = math.nan
    shared_battles: int = 0
    raters: list[RaterStats] = field(default_factory=list)


def _ratio(num: int, den: int) -> float:
    return num / den if den else math.nan


def agreement_report(judgements: Iterable[Judgement]) -> AgreementReport:
    originals: dict[int, dict[str, str]] = defaultdict(dict)  # battle -> rater -> label
    repeats: list[tuple[int, Judgement]] = []  # (original battle, side-swapped repeat)
    per_rater: dict[str, list[str]] = defaultdict(list)
    for j in judgements:
        per_rater[j.rater].append(j.label)
        if j.repeat_of is None:
            originals[j.battle][j.rater] = j.label
        else:
            repeats.append((j.repeat_of, j))
    report = AgreementReport()
    names = sorted(per_rater)
    same_all = pairs_all = same_dec = pairs_dec = 0
    for r1, r2 in combinations(names, 2):
        shared = [b for b, labels in originals.items() if r1 in labels and r2 in labels]
        if not shared:
            continue
        x = [originals[b][r1] for b in shared]
        y = [originals[b][r2] for b in shared]
        same = sum(u == v for u, v in zip(x, y))
        decisive = [(u, v) for u, v in zip(x, y) if u in DECISIVE and v in DECISIVE]
        same_decisive = sum(u == v for u, v in decisive)
        report.pairs.append(
            PairAgreement(
                r1,
                r2,
                len(shared),
                same / len(shared),
                _ratio(same_decisive, len(decisive)),
                len(decisive),
                cohen_kappa(x, y),
            )
        )
        same_all, pairs_all = same_all + same, pairs_all + len(shared)
        same_dec, pairs_dec = same_dec + same_decisive, pairs_dec + len(decisive)
    report.agreement = _ratio(same_all, pairs_all)
    report.agreement_decisive = _ratio(same_dec, pairs_dec)
    table = [[Counter(labels.values())[c] for c in LABELS] for labels in originals.values() if len(labels) >= 2]
    report.shared_battles = len(table)
    report.fleiss = fleiss_kappa(table)
    for name in names:
        labels = per_rater[name]
        decisive_labels = [label for label in labels if label in DECISIVE]
        mine = [(of, j) for of, j in repeats if j.rater == name and name in originals.get(of, {})]
        consistent = sum(1 for of, j in mine if SWAPPED[j.label] == originals[of][name])
        left = sum(1 for label in decisive_labels if label == "a")
        report.raters.append(
            RaterStats(
                rater=name,
                votes=len(labels),
                tie_rate=_ratio(sum(1 for label in labels if label in ("tie", "bothbad")), len(labels)),
                left_rate=_ratio(left, len(decisive_labels)),
                left_interval=wilson(left, len(decisive_labels)),
                repeats=len(mine),
                self_consistency=_ratio(consistent, len(mine)),
            )
        )
    return report
