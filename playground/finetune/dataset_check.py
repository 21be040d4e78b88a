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
from dataclasses import dataclass, field, fields
from typing import Any

from playground.errors import InvalidInput
from playground.finetune.datasets import ConvertedRow
from playground.i18n import DEFAULT_LANGUAGE, Text, render, t
from playground.models.prompt_formats import Example
from playground.stored_text import dump, load

MIN_ROWS = 5  # two held out to check the model, three to learn from: the least that runs
FEW_ROWS = 50  # under this, a tuned model mostly memorises
ISSUE_KINDS: dict[str, str] = {
    "empty": "empty field",
    "not_text": "not text",
    "duplicate": "duplicate",
    "too_long": "too long",
}
EXCLUDING = ("empty", "not_text", "duplicate")
# The words of ISSUE_KINDS in the reader's language: the kind's label, and "{n} <label>" in the summary.
ISSUE_KEYS = {kind: f"finetune.issue_{kind}" for kind in ISSUE_KINDS}
COUNT_KEYS = {kind: f"finetune.issue_count_{kind}" for kind in ISSUE_KINDS}


@dataclass(frozen=True)
class RowIssue:
    row: int  # as the user sees it: data row (CSV/XLSX) or file line (JSONL)
    kind: str  # one of ISSUE_KINDS
    message: Text | str  # a catalogue Text; plain English in reports saved before there were keys

    @property
    def label(self) -> Text | str:
        return Text(ISSUE_KEYS[self.kind]) if self.kind in ISSUE_KEYS else self.kind


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
    warnings: list[Text | str] = field(default_factory=list)
    notes: list[Text | str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    holdout_rows: int = 0  # of the usable rows, held out to check the tuned model (``holdout_size``)

    @property
    def train_rows(self) -> int:
        """Rows a job trains on: what the job view later shows next to ``holdout_rows``."""
        return self.usable_rows - self.holdout_rows

    def counts(self) -> dict[str, int]:
        return {kind: sum(i.kind == kind for i in self.issues) for kind in ISSUE_KINDS}

    def to_dict(self) -> dict[str, Any]:
        """JSON for the database: each sentence as its catalogue key and values (``stored_text``)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["issues"] = [{"row": i.row, "kind": i.kind, "message": dump(i.message)} for i in self.issues]
        data["warnings"] = [dump(w) for w in self.warnings]
        data["notes"] = [dump(n) for n in self.notes]
        data.update(excluded=list(self.excluded), lengths=list(self.lengths), settings=dict(self.settings))
        data["histogram"] = {k: list(v) for k, v in self.histogram.items()}
        data["counts"] = self.counts()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetReport:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known["issues"] = [RowIssue(i["row"], i["kind"], load(i["message"])) for i in data.get("issues", [])]
        known["warnings"] = [load(w) for w in data.get("warnings", [])]
        known["notes"] = [load(n) for n in data.get("notes", [])]
        # Reports saved before holdout_rows existed kept the size in their settings only.
        known.setdefault("holdout_rows", int(data.get("settings", {}).get("holdout", 0)))
        return cls(**known)

    def issue_rows(self, language: str = DEFAULT_LANGUAGE) -> list[list[Any]]:
        """[row, kind, what is wrong] for a table in the UI, in ``language``."""
        return [[i.row, render(i.label, language), render(i.message, language)] for i in self.issues]

    def summary_markdown(self, language: str = DEFAULT_LANGUAGE) -> str:
        """The check in a few lines of Markdown, in ``language``."""
        lines = [_usage_line(self).render(language)]
        found = [Text(COUNT_KEYS[k], {"n": n}).render(language) for k, n in self.counts().items() if n]
        lines.append(
            t("finetune.report_found", found=", ".join(found)).render(language)
            if found
            else t("finetune.report_no_problems").render(language)
        )
        if self.lengths:
            lengths = t(
                "finetune.report_lengths",
                shortest=min(self.lengths),
                median=_median(self.lengths),
                longest=max(self.lengths),
                cutoff=self.max_length,
            )
            lines.append(lengths.render(language))
        lines += [f"⚠️ {render(w, language)}" for w in self.warnings]
        lines += [f"ℹ️ {render(n, language)}" for n in self.notes]
        return "\n\n".join(lines)


def _usage_line(report: DatasetReport) -> Text:
    """ "**54 of 60 rows** will be used for training; 6 rows are held out …; 2 left out." """
    held = report.holdout_rows
    left_out = report.total_rows - report.usable_rows
    held_text: Text | str = ""
    if held:
        held_text = t("finetune.report_held_one") if held == 1 else t("finetune.report_held_many", n=held)
    end = t("finetune.report_left_out", n=left_out) if left_out else "."
    return t("finetune.report_used", train=report.train_rows, total=report.total_rows, held=held_text, end=end)


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
        issues += [RowIssue(row.number, kind, _sentence(said)) for kind, said in row.problems]
        if row.example is None or row.problems:
            excluded.append(row.number)
            continue
        key = _identity(row.example)
        if key in first_seen:
            same = t(f"finetune.issue_same_as_{'line' if unit == 'line' else 'row'}", first=first_seen[key])
            issues.append(RowIssue(row.number, "duplicate", same))
            excluded.append(row.number)
            continue
        first_seen[key] = row.number
        length = count_tokens(text_of(row.example))
        lengths.append(length)
        if length > max_length:
            cut = t("finetune.issue_too_long_detail", length=length, max_length=max_length)
            issues.append(RowIssue(row.number, "too_long", cut))
    usable = len(lengths)
    report = DatasetReport(
        len(rows), usable, max_length, unit, issues, excluded, lengths, histogram_bins(lengths, max_length)
    )
    _refuse_too_few(report, min_rows)
    if usable < FEW_ROWS:
        report.warnings.append(t("finetune.warn_few_rows", usable=usable, few=FEW_ROWS))
    too_long = report.counts()["too_long"]
    if too_long:
        report.warnings.append(t("finetune.warn_too_long", count=too_long, max_length=max_length))
    return report


def _sentence(said: Text | str) -> Text | str:
    """A problem as a sentence: catalogue texts are whole sentences already; plain text gets its
    capital letter and full stop."""
    if isinstance(said, Text):
        return said
    return said[:1].upper() + said[1:] + ("" if said.endswith(".") else ".")


def _identity(example: Example) -> tuple:
    return (example.system, example.history, example.instruction, example.input, example.output)


def _refuse_too_few(report: DatasetReport, min_rows: int) -> None:
    usable = report.usable_rows
    if usable >= min_rows:
        return
    if report.total_rows == 0 or usable == 0:
        first = report.issues[0] if report.issues else None
        if first is None:
            raise InvalidInput(t("finetune.refuse_no_rows"))
        unit = "line" if report.unit == "line" else "row"
        raise InvalidInput(t(f"finetune.refuse_no_rows_first_{unit}", row=first.row, problem=first.message))
    left_out: Text | str = ""
    if usable < report.total_rows:
        left_out = t("finetune.refuse_left_out", left_out=report.total_rows - usable, total=report.total_rows)
    values = {"more": min_rows - usable, "min_rows": min_rows, "few": FEW_ROWS, "left_out": left_out}
    if usable == 1:
        raise InvalidInput(t("finetune.refuse_one_row", **values))
    raise InvalidInput(t("finetune.refuse_few_rows", usable=usable, **values))


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


def holdout_size(total: int, fraction: float = 0.1, min_holdout: int = 3) -> tuple[int, Text | str]:
    """How many rows to hold out, and a sentence when the small size changed the plan ("" otherwise)."""
    if total < 2:
        return 0, t("finetune.holdout_none")
    wanted = max(min_holdout, math.ceil(total * fraction))
    size = min(wanted, total // 2)  # at least as many rows to learn from as to check on
    note: Text | str = "" if size == wanted else t("finetune.holdout_smaller", size=size, wanted=wanted)
    return size, note


def split_holdout(
    examples: Sequence[Example], fraction: float = 0.1, min_holdout: int = 3, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """(train, holdout): a fixed random holdout, the same on every call for the same rows.
    ``holdout_size`` says in words when a small dataset got a smaller holdout."""
    if not 0 <= fraction < 1:
        raise InvalidInput(t("finetune.holdout_fraction", fraction=fraction))
    size, _ = holdout_size(len(examples), fraction, min_holdout)
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    held = set(order[:size])
    train = [e for i, e in enumerate(examples) if i not in held]
    holdout = [examples[i] for i in sorted(held)]
    return train, holdout
