"""How stable is a model on the same input? Figures over repeated answers."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from playground.i18n import DEFAULT_LANGUAGE, Text


@dataclass(frozen=True)
class Spread:
    mean: float
    stdev: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread | None:
        if not values:
            return None
        return cls(
            statistics.fmean(values), statistics.pstdev(values) if len(values) > 1 else 0.0, min(values), max(values)
        )


@dataclass(frozen=True)
class Stability:
    runs: int
    distinct_outputs: int
    length_chars: Spread | None
    completion_tokens: Spread | None
    total_s: Spread | None
    failures: int

    def summary(self, language: str = DEFAULT_LANGUAGE) -> str:
        """The figures as Markdown lines, in ``language``."""
        head = Text("compare.stability_runs", {"runs": self.runs, "distinct": self.distinct_outputs}).render(language)
        if self.failures:
            head += Text("compare.stability_failed", {"n": self.failures}).render(language)
        lines = [head]
        for key, spread, digits in (
            ("compare.stability_length", self.length_chars, 0),
            ("compare.stability_tokens", self.completion_tokens, 0),
            ("compare.stability_time", self.total_s, 2),
        ):
            if spread is not None:
                values = {"mean": spread.mean, "spread": spread.stdev, "low": spread.low, "high": spread.high}
                lines.append(Text(key, {k: f"{v:.{digits}f}" for k, v in values.items()}).render(language))
        return "  \n".join(lines)


def stability_of(
    outputs: Sequence[str], completion_tokens: Sequence[int | None], total_s: Sequence[float | None], failures: int = 0
) -> Stability:
    return Stability(
        runs=len(outputs) + failures,
        distinct_outputs=len({o.strip() for o in outputs}),
        length_chars=Spread.of([float(len(o)) for o in outputs]),
        completion_tokens=Spread.of([float(t) for t in completion_tokens if t is not None]),
        total_s=Spread.of([float(t) for t in total_s if t is not None]),
        failures=failures,
    )
