"""Which battles exist and in what order each rater meets them.

Every model pair appears equally often and on both sides; every rater sees the same
battles (same answers, same sides), in their own shuffled order; a few battles come back
later with the sides swapped, to measure each rater's self-consistency.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True)
class Slot:
    prompt: int  # index into the prompt set
    left: int  # index of the contestant shown as A
    right: int


def schedule(n_prompts: int, n_models: int, seed: int = 0, pairs_per_prompt: int | None = None) -> list[Slot]:
    """All pairs for every prompt (or `pairs_per_prompt` of them, cycling so pair counts
    differ by at most one); each pair alternates sides between its appearances."""
    if n_models < 2:
        raise ValueError("an arena needs at least two models")
    pairs = list(combinations(range(n_models), 2))
    rng = random.Random(seed)
    per_prompt = len(pairs) if pairs_per_prompt is None else max(1, min(pairs_per_prompt, len(pairs)))
    order = pairs[:]
    rng.shuffle(order)
    first_left = {pair: rng.random() < 0.5 for pair in pairs}
    seen = {pair: 0 for pair in pairs}
    slots = []
    t = 0
    for prompt in range(n_prompts):
        for _ in range(per_prompt):
            pair = order[t % len(order)]
            t += 1
            flip = first_left[pair] ^ (seen[pair] % 2 == 1)
            seen[pair] += 1
            left, right = (pair[1], pair[0]) if flip else pair
            slots.append(Slot(prompt, left, right))
    return slots


def pick_repeats(count: int, fraction: float, seed: int = 0) -> list[int]:
    """Indices of battles to show again with the sides swapped (at least one if fraction > 0)."""
    if fraction <= 0 or count < 2:
        return []
    k = max(1, min(count, round(count * fraction)))
    return sorted(random.Random(seed + 1).sample(range(count), k))


def _rank(seed: int, rater_id: int, battle_id: int) -> str:
    return hashlib.sha256(f"{seed}:{rater_id}:{battle_id}".encode()).hexdigest()


def rater_sequence(battles: Sequence[tuple[int, int | None]], rater_id: int, seed: int = 0) -> list[int]:
    """Battle ids in the order this rater meets them. `battles` holds (id, repeat_of id or None).

    Originals come in a per-rater shuffled order; a repeat comes well after its original
    (half the list later, at least three battles), so it does not look like a repeat, and never
    right after it: an original that would be last is moved earlier to leave room.
    """
    originals = sorted((b for b, r in battles if r is None), key=lambda b: _rank(seed, rater_id, b))
    sequence = list(originals)
    gap = max(3, len(originals) // 2)
    for battle, original in sorted(
        ((b, r) for b, r in battles if r is not None), key=lambda x: _rank(seed, rater_id, x[0])
    ):
        if original not in sequence:
            sequence.append(battle)
            continue
        where = sequence.index(original) + gap + 1
        if where > len(sequence) and sequence.index(original) + 2 > len(sequence):
            # The original is last: pull it back so at least one battle (ideally `gap`) comes between.
            sequence.remove(original)
            sequence.insert(max(0, len(sequence) - gap), original)
        sequence.insert(min(sequence.index(original) + gap + 1, len(sequence)), battle)
    return sequence


def spaced_apart(sequence: Sequence[int], repeat_of: dict[int, int | None]) -> bool:
    """True when no battle comes right after (or right before) its side-swapped repeat."""
    for before, after in zip(sequence, sequence[1:]):
        if repeat_of.get(after) == before or repeat_of.get(before) == after:
            return False
    return True
