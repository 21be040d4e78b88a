"""When a rater may learn which model wrote which answer.

One answer is generated per prompt and model and reused in every battle that pairs that
model on that prompt (and in its side-swapped repeat). So names shown after one vote would
let the rater recognise that answer, word for word, in a later battle. The safe default is
to show a rater the names once, after their last battle ("after_last"); "after_each" is
allowed only where no answer appears in more than one battle; "never" leaves the reveal to
the facilitator's leaderboard.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from math import comb

from playground.errors import InvalidInput
from playground.i18n import Text, t

AFTER_LAST, AFTER_EACH, NEVER = "after_last", "after_each", "never"
REVEAL_POLICIES = {
    AFTER_LAST: "After the rater's last battle",
    AFTER_EACH: "After each vote",
    NEVER: "Never (the facilitator reveals the models on the leaderboard)",
}
UNKNOWN_POLICY = t("arena.policy_unknown")
# Why "after each vote" is unsafe; the English sentences stay importable as strings (tests, logs).
REPEATS_WHY_TEXT = t("arena.why_repeats")
PAIRS_WHY_TEXT = t("arena.why_pairs")
REPEATS_WHY, PAIRS_WHY = str(REPEATS_WHY_TEXT), str(PAIRS_WHY_TEXT)


def _unsafe(why: Text) -> Text:
    return t("arena.policy_unsafe", why=why)


# What a rater reads after a vote or when no battle is left (Texts: shown in the rater's language).
HIDDEN_UNTIL_LAST = t("arena.hidden_until_last")
HIDDEN_NEVER = t("arena.hidden_never")
FINISHED = t("arena.finished")
FINISHED_NEVER = t("arena.finished_never")
PREPARING = t("arena.preparing")
OTHERS = t("arena.others_rating")


def battles_left(left: int) -> Text:
    return t("arena.left", left=left)


@dataclass(frozen=True)
class Reveal:
    """What a vote returns. ``label_a``/``label_b`` are None unless ``revealed``."""

    label_a: str | None
    label_b: str | None
    winner: str
    already_counted: bool
    revealed: bool = True
    finished: bool = False  # that was the rater's last battle: ``rater_summary`` has their votes
    message: Text | str = ""  # a Text, shown in the rater's language


@dataclass(frozen=True)
class SummaryRow:
    number: int
    prompt: str
    text_a: str  # as the rater saw it (redacted where it named a model)
    text_b: str
    winner: str  # a | b | tie | bothbad
    choice: str  # the winner in words
    label_a: str | None  # None unless the summary shows names
    label_b: str | None
    repeat: bool  # a side-swapped repeat of an earlier battle
    live: bool  # a live battle on the rater's own prompt


@dataclass(frozen=True)
class RaterSummary:
    available: bool  # False: the rater has battles left (``message`` says why); ``rows`` is empty
    names_shown: bool
    message: Text | str
    rows: list[SummaryRow] = field(default_factory=list)


def check_policy(policy: str) -> str:
    if policy not in REVEAL_POLICIES:
        raise InvalidInput(UNKNOWN_POLICY)
    return policy


def default_policy(mode: str, prompts: int) -> str:
    """After the last battle, except a live evaluation without a prompt set (no answer is reused)."""
    return AFTER_EACH if mode == "live" and prompts == 0 else AFTER_LAST


def new_policy_problem(
    policy: str,
    *,
    prompts: int,
    models: int,
    pairs_per_prompt: int | None = None,
    repeat_fraction: float = 0.0,
    mode: str = "prompt_set",
) -> Text | None:
    """Why ``policy`` cannot be chosen for an evaluation about to be made this way (None: it can)."""
    if policy not in REVEAL_POLICIES:
        return UNKNOWN_POLICY
    if policy != AFTER_EACH or prompts == 0:
        return None
    pairs = comb(max(models, 2), 2)
    per_prompt = pairs if pairs_per_prompt is None else max(1, min(int(pairs_per_prompt), pairs))
    if per_prompt > 1:
        return _unsafe(PAIRS_WHY_TEXT)
    if repeat_fraction > 0 and prompts * per_prompt >= 2:
        return _unsafe(REPEATS_WHY_TEXT)
    return None


def stored_policy_problem(policy: str, battles: Iterable[tuple[int, int, int | None]]) -> Text | None:
    """The same for an evaluation already made: ``battles`` are its prepared battles as
    (answer A id, answer B id, repeat_of id or None). Live battles always have fresh answers."""
    if policy not in REVEAL_POLICIES:
        return UNKNOWN_POLICY
    if policy != AFTER_EACH:
        return None
    rows = list(battles)
    if any(repeat is not None for _, _, repeat in rows):
        return _unsafe(REPEATS_WHY_TEXT)
    uses = Counter(answer for a, b, _ in rows for answer in (a, b))
    if any(n > 1 for n in uses.values()):
        return _unsafe(PAIRS_WHY_TEXT)
    return None


def reveals_now(policy: str, finished: bool) -> bool:
    """Whether a rater may see the names of the battle they just voted on."""
    return policy == AFTER_EACH or (policy == AFTER_LAST and finished)


def vote_message(policy: str, finished: bool) -> Text | str:
    if finished:
        return FINISHED_NEVER if policy == NEVER else FINISHED
    if policy == AFTER_EACH:
        return ""
    return HIDDEN_NEVER if policy == NEVER else HIDDEN_UNTIL_LAST
