"""How stable is a model on the same input? Figures over repeated answers."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


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

    def summary(self) -> str:
        lines = [
            f"**{self.runs} runs: {self.distinct_outputs} distinct answer(s)**"
            + (f", {self.failures} failed" if self.failures else "")
        ]
        for label, spread, unit, digits in (
            ("Length", self.length_chars, " chars", 0),
            ("Completion tokens", self.completion_tokens, "", 0),
            ("Total time", self.total_s, " s", 2),
        ):
            if spread is not None:
                lines.append(
                    f"{label}: mean {spread.mean:.{digits}f}{unit}, spread ±{spread.stdev:.{digits}f}, range {spread.low:.{digits}f}–{spread.high:.{digits}f}{unit}"
                )
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
