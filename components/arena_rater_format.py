"""What the rater view shows, as text: a vote's outcome (names only when the evaluation's reveal
policy allows) and the summary of the rater's own votes after their last battle. Pure
functions of what the arena service returns; every text a model or a rater wrote goes through
the inert rendering helpers."""

from __future__ import annotations

from typing import Any

from components.i18n import say, text
from playground.rendering import inert_inline

# The winner in words, for the rater's own vote (the stored value is the code).
_WINNER_KEYS = {
    "a": "arena.winner_a",
    "b": "arena.winner_b",
    "tie": "arena.winner_tie",
    "bothbad": "arena.winner_bothbad",
}
SNIPPET = 90  # characters of a prompt or an answer in the summary table


def _field(obj: Any, name: str, default: Any = None) -> Any:
    return getattr(obj, name, default)


def all_rated() -> str:
    return text("arena.all_rated")


def winner_words(winner: str) -> str:
    """The rater's choice (a | b | tie | bothbad) in words, in the reader's language."""
    key = _WINNER_KEYS.get(winner)
    return text(key) if key else inert_inline(winner)


def vote_text(reveal: Any, choice: str) -> str:
    """After a vote: who was who (policy "after each vote"), or the service's sentence."""
    note = text("arena.already_counted") if reveal.already_counted else ""
    if _field(reveal, "revealed", True) and reveal.label_a and reveal.label_b:
        a, b = inert_inline(reveal.label_a), inert_inline(reveal.label_b)
        return f"{text('arena.revealed', a=a, b=b, choice=choice, note=note)}\n\n{text('arena.press_next')}"
    message = say(_field(reveal, "message", "")) or text("arena.vote_saved")
    follow = "" if _field(reveal, "finished", False) else f"\n\n{text('arena.press_next')}"
    return f"{text('arena.voted_heading', choice=choice)}\n{inert_inline(message)}{note}{follow}"


def _snippet(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return inert_inline(flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…")


def _side(label: str | None, text: str | None, names_shown: bool) -> str:
    if names_shown and label:
        return f"**{inert_inline(label)}**"
    return _snippet(text)


def summary_markdown(summary: Any) -> str:
    """The rater's own votes, one row a battle, with the names when the policy shows them."""
    if summary is None or not summary.available:
        return inert_inline(say(summary.message)) if summary is not None and summary.message else ""
    names_shown = bool(summary.names_shown)
    head = text("arena.your_votes") + "\n" + (inert_inline(say(summary.message)) + "\n\n" if summary.message else "")
    a_head, b_head = (
        (text("arena.col_a_was"), text("arena.col_b_was"))
        if names_shown
        else (text("arena.answer_a"), text("arena.answer_b"))
    )
    prompt_head, chose_head = text("arena.col_prompt"), text("arena.col_you_chose")
    lines = [f"| # | {prompt_head} | {a_head} | {b_head} | {chose_head} |", "|---|---|---|---|---|"]
    for row in summary.rows:
        marks = text("arena.mark_repeat") if row.repeat else (text("arena.mark_live") if row.live else "")
        choice = text(_WINNER_KEYS[row.winner]) if row.winner in _WINNER_KEYS else inert_inline(row.choice)
        lines.append(
            f"| {row.number} | {_snippet(row.prompt)}{marks} | {_side(row.label_a, row.text_a, names_shown)} | "
            f"{_side(row.label_b, row.text_b, names_shown)} | {choice} |"
        )
    if not summary.rows:
        lines = [text("arena.no_votes_yet")]
    return head + "\n".join(lines)


def none_left_status(summary: Any) -> str:
    """The status line when there is no battle to show: finished, or why not yet."""
    if summary is None:
        return all_rated()
    if summary.available:
        return text("arena.all_rated_done")
    return inert_inline(say(summary.message)) if summary.message else all_rated()
