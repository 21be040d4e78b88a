"""The dataset check: what is wrong, row by row, before any training time is spent.

Rows with an empty or non-text field and later copies of a duplicate are left out of
training; rows longer than the cut-off are kept (training reads only their first tokens)
but listed, with a histogram of token lengths so the cut-off can be chosen by eye.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from playground.errors import InvalidInput
from playground.finetune.datasets import ConvertedRow
from playground.i18n import t
from playground.models.prompt_formats import Example

MIN_ROWS = 5  # two held out to check the model, three to learn from: the least that runs
FEW_ROWS = 50  # under this, a tuned model mostly memorises
ISSUE_KINDS: dict[str, str] = {
    "empty": "empty field",
    "not_text": "not text",
    "duplicate": "duplicate",
    "too_long": "too long",
}
EXCLUDING = ("empty", "not_text", "duplicate")


@dataclass(frozen=True)
class RowIssue:
    row: int  # as the user sees it: data row (CSV/XLSX) or file line (JSONL)
    kind: str  # one of ISSUE_KINDS
    message: str

    @property
    def label(self) -> str:
        return ISSUE_KINDS.get(self.kind, self.kind)


@dataclass
class DatasetReport:
    total_rows: int
    usable_rows: int  # rows without problems: training rows plus the holdout
    max_length: int
    unit: str = "row"  # "row" or "line": what the row numbers count
    issues: list[RowIssue] = field(default_factory=list)
    excluded: list[int] = field(default_factory=list)  # row numbers left out of training
    lengths: list[int] = field(default_factory=list)  # tokens per usable row
    histogram: dict[str, list[int]] = field(default_factory=lambda: {"edges": [], "counts": []})
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    holdout_rows: int = 0  # of the usable rows, held out to check the tuned model (``holdout_size``)

    @property
    def train_rows(self) -> int:
        """Rows a job trains on: what the job view later shows next to ``holdout_rows``."""
        return self.usable_rows - self.holdout_rows

    def counts(self) -> dict[str, int]:
        return {kind: sum(i.kind == kind for i in self.issues) for kind in ISSUE_KINDS}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = self.counts()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetReport:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known["issues"] = [RowIssue(**i) for i in data.get("issues", [])]
        # Reports saved before holdout_rows existed kept the size in their settings only.
        known.setdefault("holdout_rows", int(data.get("settings", {}).get("holdout", 0)))
        return cls(**known)

    def issue_rows(self) -> list[list[Any]]:
        """[row, kind, what is wrong] for a table in the UI."""
        return [[i.row, i.label, i.message] for i in self.issues]

    def summary_markdown(self) -> str:
        counts = self.counts()
        left_out = self.total_rows - self.usable_rows
        held = self.holdout_rows
        lines = [
            f"**{self.train_rows} of {self.total_rows} rows** will be used for training"
            + (f"; {_rows_are(held)} held out (not trained on) to check the tuned model" if held else "")
            + (f"; {left_out} left out." if left_out else ".")
        ]
        found = [f"{n} {ISSUE_KINDS[k]}" for k, n in counts.items() if n]
        lines.append("Found: " + ", ".join(found) + "." if found else "No problems found.")
        if self.lengths:
            lines.append(
                f"Token length: shortest {min(self.lengths)}, median {_median(self.lengths)}, longest {max(self.lengths)}; cut-off {self.max_length}."
            )
        lines += [f"⚠️ {w}" for w in self.warnings] + [f"ℹ️ {n}" for n in self.notes]
        return "\n\n".join(lines)


def _rows_are(n: int) -> str:
    return "1 row is" if n == 1 else f"{n} rows are"


def _median(values: Sequence[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def plain_text(example: Example) -> str:
    """Every text of an example, when no prompt format is given to count tokens on."""
    turns = [text for pair in example.history for text in pair]
    return "\n".join(t for t in [example.system, *turns, example.instruction, example.input, example.output] if t)


def _rows(items: Sequence[ConvertedRow | Example]) -> list[ConvertedRow]:
    return [item if isinstance(item, ConvertedRow) else ConvertedRow(n, item) for n, item in enumerate(items, start=1)]


def check_dataset(
    items: Sequence[ConvertedRow | Example],
    count_tokens: Callable[[str], int],
    max_length: int,
    *,
    text_of: Callable[[Example], str] = plain_text,
    unit: str = "row",
    min_rows: int = MIN_ROWS,
) -> DatasetReport:
    """Check every row; refuse (InvalidInput) when too few rows are usable to train at all.

    ``text_of`` gives the text the model will be trained on (e.g. the rendered prompt and
    answer), so token lengths match what the cut-off will cut.
    """
    if max_length < 16:
        raise InvalidInput(t("finetune.cutoff_low", value=max_length))
    rows = _rows(items)
    issues: list[RowIssue] = []
    excluded: list[int] = []
    lengths: list[int] = []
    first_seen: dict[tuple, int] = {}
    for row in rows:
        issues += [RowIssue(row.number, kind, _sentence(text)) for kind, text in row.problems]
        if row.example is None or row.problems:
            excluded.append(row.number)
            continue
        key = _identity(row.example)
        if key in first_seen:
            issues.append(
                RowIssue(row.number, "duplicate", f"Same as {unit} {first_seen[key]}; only the first copy is used.")
            )
            excluded.append(row.number)
            continue
        first_seen[key] = row.number
        length = count_tokens(text_of(row.example))
        lengths.append(length)
        if length > max_length:
            issues.append(
                RowIssue(
                    row.number,
                    "too_long",
                    f"{length} tokens > cut-off {max_length}: training reads only the first {max_length}, so the end of the answer is not learned.",
                )
            )
    usable = len(lengths)
    report = DatasetReport(
        len(rows), usable, max_length, unit, issues, excluded, lengths, histogram_bins(lengths, max_length)
    )
    _refuse_too_few(report, min_rows)
    if usable < FEW_ROWS:
        report.warnings.append(
            f"Only {usable} usable rows. Fine-tuning works best with at least {FEW_ROWS} (hundreds are better); with fewer the model mostly memorises them."
        )
    too_long = report.counts()["too_long"]
    if too_long:
        report.warnings.append(
            f"{too_long} rows are longer than the cut-off of {max_length} tokens. Raise the cut-off (it costs memory and time) or shorten those rows."
        )
    return report


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _identity(example: Example) -> tuple:
    return (example.system, example.history, example.instruction, example.input, example.output)


def _refuse_too_few(report: DatasetReport, min_rows: int) -> None:
    usable = report.usable_rows
    if usable >= min_rows:
        return
    if report.total_rows == 0 or usable == 0:
        first = report.issues[0] if report.issues else None
        why = f" Every row has a problem; the first is {report.unit} {first.row}: {first.message}" if first else ""
        raise InvalidInput(f"No usable rows: nothing to fine-tune on.{why} Nothing was saved.")
    what = "A single row is" if usable == 1 else f"{usable} rows are"
    left_out = (
        f" ({report.total_rows - usable} of {report.total_rows} rows were left out: see the problems listed.)"
        if usable < report.total_rows
        else ""
    )
    raise InvalidInput(
        f"{what} not enough to fine-tune on: add at least {min_rows - usable} more examples ({min_rows} in all; "
        f"about {FEW_ROWS} or more give useful results). A few rows are held out to check the tuned model.{left_out} Nothing was saved."
    )


def histogram_bins(lengths: Sequence[int], cutoff: int, bins: int = 20) -> dict[str, list[int]]:
    """Bins [edge, next edge) of round width from 0 past the longest row; one edge sits just
    past the cut-off, so a bin holds only rows that fit or only rows that are too long."""
    top = max([cutoff, *lengths]) + 1
    width = _round_width(top / bins)
    edges = sorted({i * width for i in range(math.ceil(top / width) + 1)} | {cutoff + 1})
    counts = [0] * (len(edges) - 1)
    for length in lengths:
        counts[min(bisect.bisect_right(edges, length) - 1, len(counts) - 1)] += 1
    return {"edges": edges, "counts": counts}


def _round_width(raw: float) -> int:
    """1, 2, 5, 10, 20, 50, ... the first at least ``raw``."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= raw:
                return step * scale
        scale *= 10


def holdout_size(total: int, fraction: float = 0.1, min_holdout: int = 3) -> tuple[int, str]:
    """How many rows to hold out, and a sentence when the small size changed the plan."""
    if total < 2:
        return 0, "Too few rows to hold any out."
    wanted = max(min_holdout, math.ceil(total * fraction))
    size = min(wanted, total // 2)  # at least as many rows to learn from as to check on
    note = (
        ""
        if size == wanted
        else f"Held out {size} rows instead of {wanted}: the dataset is small, and at least half of it is kept for training."
    )
    return size, note


def split_holdout(
    examples: Sequence[Example], fraction: float = 0.1, min_holdout: int = 3, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """(train, holdout): a fixed random holdout, the same on every call for the same rows.
    ``holdout_size`` says in words when a small dataset got a smaller holdout."""
    if not 0 <= fraction < 1:
        raise InvalidInput(f"The holdout fraction must be between 0 and 1 (it is {fraction}).")
    size, _ = holdout_size(len(examples), fraction, min_holdout)
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    held = set(order[:size])
    train = [e for i, e in enumerate(examples) if i not in held]
    holdout = [examples[i] for i in sorted(held)]
    return train, holdout
