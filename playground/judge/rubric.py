"""A grading rubric: criteria with weights (summing to 100%) on an integer 0–3 scale, one
example answer description per score.

The judge study behind this: low-precision integer scales beat 0–10 or floats, and one
example per score makes a weaker judge usable. The default weights are the study's
(correctness 60%, comprehensiveness 20%, readability 20%).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from playground.errors import InvalidInput
from playground.i18n import t
from playground.languages import ENGLISH
from playground.prompts_i18n import texts

SCALE = (0, 1, 2, 3)
MAX_CRITERIA = 8
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 _\-]{0,39}$")


@dataclass(frozen=True)
class Criterion:
    name: str
    weight: float  # percent of the overall score
    description: str
    examples: tuple[str, ...]  # examples[s] describes an answer that deserves score s

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "weight": self.weight,
            "description": self.description,
            "examples": list(self.examples),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Criterion:
        return cls(
            str(data["name"]),
            float(data["weight"]),
            str(data.get("description", "")),
            tuple(str(e) for e in data.get("examples", ())),
        )


@dataclass(frozen=True)
class Rubric:
    name: str
    criteria: tuple[Criterion, ...]
    version: int = 0  # 0: not saved yet
    id: int | None = None

    def to_dicts(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.criteria]

    def criterion(self, name: str) -> Criterion:
        for c in self.criteria:
            if c.name == name:
                return c
        raise InvalidInput(t("judge.rubric_no_criterion", rubric=self.name, name=name))

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}" if self.version else self.name


DEFAULT_WEIGHTS = {"correctness": 60, "comprehensiveness": 20, "readability": 20}


def default_criteria(language: str = ENGLISH) -> tuple[Criterion, ...]:
    """The study's criteria with their descriptions and examples in ``language``. The names
    stay the same in every language: they are the keys grades and charts are stored under."""
    shown = texts(language).judge.default_criteria
    return tuple(
        Criterion(name, weight, shown[name].description, tuple(shown[name].examples))
        for name, weight in DEFAULT_WEIGHTS.items()
    )


DEFAULT_RUBRIC_NAME = texts(ENGLISH).judge.default_rubric_name
DEFAULT_CRITERIA = default_criteria(ENGLISH)


def default_rubric(language: str = ENGLISH) -> Rubric:
    """The default rubric; in Portuguese, ``default_rubric("pt")``. Judging with the English one
    shows a Portuguese judge the Portuguese texts anyway (``prompts.shown_criterion``)."""
    return Rubric(texts(language).judge.default_rubric_name, default_criteria(language))


def validate(name: str, criteria: Iterable[Criterion]) -> Rubric:
    """A rubric that may be saved, or InvalidInput naming the first problem."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(t("judge.rubric_name_needed"))
    if len(name) > 200:
        raise InvalidInput(t("judge.rubric_name_too_long"))
    items = tuple(criteria)
    if not items:
        raise InvalidInput(t("judge.rubric_no_criteria"))
    if len(items) > MAX_CRITERIA:
        raise InvalidInput(t("judge.rubric_too_many", limit=MAX_CRITERIA))
    seen: set[str] = set()
    cleaned = []
    for number, c in enumerate(items, start=1):
        cname = (c.name or "").strip().lower()
        if not _NAME.match(cname):
            raise InvalidInput(t("judge.rubric_criterion_name", number=number))
        if cname in seen:
            raise InvalidInput(t("judge.rubric_duplicate", name=cname))
        seen.add(cname)
        if not (c.weight == c.weight) or c.weight <= 0:  # NaN check first
            raise InvalidInput(t("judge.rubric_weight_positive", name=cname))
        if not (c.description or "").strip():
            raise InvalidInput(t("judge.rubric_description_needed", name=cname))
        examples = tuple((e or "").strip() for e in c.examples)
        missing = [str(s) for s in SCALE if s >= len(examples) or not examples[s]]
        if missing or len(examples) > len(SCALE):
            if missing:
                raise InvalidInput(t("judge.rubric_examples_missing", name=cname, scores=", ".join(missing)))
            raise InvalidInput(t("judge.rubric_too_many_examples", name=cname))
        cleaned.append(Criterion(cname, float(c.weight), c.description.strip(), examples))
    total = sum(c.weight for c in cleaned)
    if abs(total - 100) > 0.01:
        raise InvalidInput(t("judge.rubric_weights_total", total=total))
    return Rubric(name, tuple(cleaned))


def criteria_from_rows(rows: Sequence[Sequence[Any]]) -> list[Criterion]:
    """Criteria from an editor table: name, weight %, description, example 0, 1, 2, 3.
    Blank rows are skipped; a weight that is not a number is refused by name."""
    result = []
    for number, row in enumerate(rows, start=1):
        cells = ["" if v is None else str(v).strip() for v in list(row)[:7]] + [""] * max(0, 7 - len(row))
        if not any(cells):
            continue
        try:
            weight = float(cells[1].rstrip("%") or "nan")
        except ValueError:
            raise InvalidInput(t("judge.rubric_weight_not_number", number=number, weight=cells[1])) from None
        result.append(Criterion(cells[0], weight, cells[2], tuple(cells[3:7])))
    return result


def rows_from_rubric(rubric: Rubric) -> list[list[Any]]:
    return [[c.name, c.weight, c.description, *c.examples] for c in rubric.criteria]


def weighted_score(scores: Mapping[str, int | None], rubric: Rubric) -> float | None:
    """The overall 0–3 score, weighted by the rubric; None unless every criterion has a
    parsed score (an unparsed criterion is never counted as 0)."""
    total = 0.0
    for c in rubric.criteria:
        score = scores.get(c.name)
        if score is None:
            return None
        total += c.weight * score
    return total / sum(c.weight for c in rubric.criteria)


EDITOR_HEADERS = [
    "criterion",
    "weight %",
    "description",
    "example for 0",
    "example for 1",
    "example for 2",
    "example for 3",
]
