"""Tokenised training rows, the order they are seen in, and padded micro-batches.

Each optimizer step consumes a fixed slice of the epoch's order (``effective_batch``
examples) however it is split into micro-batches, so halving the micro-batch after an
out-of-memory error, or resuming from a checkpoint, sees exactly the same data per step.
Within an epoch, examples that open alike (the same template header) and are of similar length
are grouped into the same step and sorted inside it, so a micro-batch pads to its longest row
and little compute is spent on padding, and its rows share their opening tokens.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from playground.finetune.shared_prefix import MIN_SHARED, shared_prefix_length
from playground.models.prompt_formats import Example, encode_text, render_prompt, render_training_pair

IGNORE = -100  # label for tokens that carry no loss (the prompt, padding)
GROUP_FACTOR = 8  # steps per length group: bigger cuts more padding but is less random
OPENING_TOKENS = 24  # first tokens compared to group rows by their template's opening


@dataclass(frozen=True)
class Row:
    input_ids: tuple[int, ...]
    prompt_len: int  # loss is taken on input_ids[prompt_len:]

    @property
    def length(self) -> int:
        return len(self.input_ids)

    @property
    def completion_tokens(self) -> int:
        return len(self.input_ids) - self.prompt_len


def tokenize_examples(
    examples: Sequence[Example], prompt_format: str, tokenizer: Any, max_length: int
) -> tuple[list[Row], int]:
    """Rows for training, and how many examples were dropped because the prompt alone filled max_length."""
    rows: list[Row] = []
    dropped = 0
    for example in examples:
        prompt, completion = render_training_pair(example, prompt_format, tokenizer)
        prompt_ids = encode_text(tokenizer, prompt)
        completion_ids = list(tokenizer(completion, add_special_tokens=False)["input_ids"])
        ids = (prompt_ids + completion_ids)[:max_length]
        if len(ids) <= len(prompt_ids):
            dropped += 1
            continue
        rows.append(Row(tuple(ids), len(prompt_ids)))
    return rows, dropped


def prompt_ids(example: Example, prompt_format: str, tokenizer: Any) -> list[int]:
    return encode_text(tokenizer, render_prompt(example, prompt_format, tokenizer))


def openings(rows: Sequence[Row], at_least: int) -> list[tuple[int, ...]]:
    """Each row's opening: the longest run of its first tokens (``MIN_SHARED`` to
    ``OPENING_TOKENS``, before its answer is predicted) that at least ``at_least`` rows open
    with, or () where none is that common.

    Grouping rows by it puts, say, Alpaca rows with an input and rows without one in different
    steps, so a micro-batch shares the whole header (run once: ``shared_prefix``), while rows that
    only happen to start alike (a chat template without a system prompt) stay grouped by length."""
    counts = Counter(r.input_ids[:n] for r in rows for n in range(MIN_SHARED, _opening_limit(r) + 1))
    found = []
    for row in rows:
        longest_first = range(_opening_limit(row), MIN_SHARED - 1, -1)
        found.append(next((row.input_ids[:n] for n in longest_first if counts[row.input_ids[:n]] >= at_least), ()))
    return found


def _opening_limit(row: Row) -> int:
    return min(OPENING_TOKENS, row.prompt_len - 1, row.length)


def epoch_order(
    lengths: Sequence[int],
    effective_batch: int,
    seed: int,
    epoch: int,
    opening: Sequence[tuple[int, ...]] | None = None,
) -> list[int]:
    """The example indices of one epoch: shuffled, grouped into steps by opening (``openings``,
    if given) and then by length, steps shuffled."""
    rng = random.Random(f"{seed}:{epoch}")
    order = list(range(len(lengths)))
    rng.shuffle(order)
    group = effective_batch * GROUP_FACTOR
    steps: list[list[int]] = []
    key = (lambda i: (opening[i], -lengths[i])) if opening else (lambda i: -lengths[i])
    for start in range(0, len(order), group):
        chunk = sorted(order[start : start + group], key=key)
        steps.extend(chunk[i : i + effective_batch] for i in range(0, len(chunk), effective_batch))
    rng.shuffle(steps)
    return [index for step in steps for index in step]


def step_examples(order: Sequence[int], step_in_epoch: int, effective_batch: int) -> list[int]:
    return list(order[step_in_epoch * effective_batch : (step_in_epoch + 1) * effective_batch])


def micro_batches(indices: Sequence[int], lengths: Sequence[int], micro_batch: int) -> list[list[int]]:
    """One step's examples split into micro-batches of similar length (longest first)."""
    ranked = sorted(indices, key=lambda i: -lengths[i])
    return [ranked[i : i + micro_batch] for i in range(0, len(ranked), micro_batch)]


def padding_share(rows: Sequence[Row], batches: Sequence[Sequence[int]]) -> float:
    """Share of the processed positions that are padding, for a list of micro-batches."""
    real = sum(rows[i].length for batch in batches for i in batch)
    padded = sum(max(rows[i].length for i in batch) * len(batch) for batch in batches if batch)
    return 1.0 - real / padded if padded else 0.0


def collate(rows: Sequence[Row], pad_id: int) -> dict[str, Any]:
    """Right-padded tensors: input_ids, attention_mask, labels (prompt and padding = IGNORE), and
    how many leading tokens all rows share (``shared_prefix``: run once for the batch)."""
    import torch

    width = max(r.length for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    for n, row in enumerate(rows):
        tokens = torch.tensor(row.input_ids, dtype=torch.long)
        ids[n, : row.length] = tokens
        mask[n, : row.length] = 1
        labels[n, row.prompt_len : row.length] = tokens[row.prompt_len :]
    # Logits are needed only from the position before the earliest answer token onwards.
    first = min(r.prompt_len for r in rows) - 1
    return {
        "input_ids": ids,
        "attention_mask": mask,
        "labels": labels,
        "first_scored": max(0, first),
        "shared_prefix": shared_prefix_length(rows),
    }
