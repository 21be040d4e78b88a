"""What the rater view shows, as text: a vote's outcome (names only when the evaluation's reveal
policy allows) and the summary of the rater's own votes after their last battle. Pure
functions of what the arena service returns; every text a model or a rater wrote goes through
the inert rendering helpers."""

from __future__ import annotations

from typing import Any

from playground.rendering import inert_inline

ALL_RATED = "You have rated every battle that is ready — thank you! Press **Next battle** later to check for more."
SNIPPET = 90  # characters of a prompt or an answer in the summary table


def _field(obj: Any, name: str, default: Any = None) -> Any:
    return getattr(obj, name, default)


def vote_text(reveal: Any, choice: str) -> str:
    """After a vote: who was who (policy "after each vote"), or the service's sentence."""
    note = " (your vote had already been counted; it was not counted twice)" if reveal.already_counted else ""
    if _field(reveal, "revealed", True) and reveal.label_a and reveal.label_b:
        a, b = inert_inline(reveal.label_a), inert_inline(reveal.label_b)
        return (
            f"### Revealed\n**A** was **{a}** · **B** was **{b}** — you chose: {choice}{note}.\n\n"
            "Press **Next battle** to go on."
        )
    message = _field(reveal, "message", "") or "Vote saved."
    follow = "" if _field(reveal, "finished", False) else "\n\nPress **Next battle** to go on."
    return f"### Voted: {choice}\n{inert_inline(message)}{note}{follow}"


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
        return inert_inline(summary.message) if summary is not None and summary.message else ""
    names_shown = bool(summary.names_shown)
    head = "### Your votes\n" + (inert_inline(summary.message) + "\n\n" if summary.message else "")
    a_head, b_head = ("A was", "B was") if names_shown else ("Answer A", "Answer B")
    lines = [f"| # | Prompt | {a_head} | {b_head} | You chose |", "|---|---|---|---|---|"]
    for row in summary.rows:
        marks = " (repeat, sides swapped)" if row.repeat else (" (live)" if row.live else "")
        lines.append(
            f"| {row.number} | {_snippet(row.prompt)}{marks} | {_side(row.label_a, row.text_a, names_shown)} | "
            f"{_side(row.label_b, row.text_b, names_shown)} | {inert_inline(row.choice)} |"
        )
    if not summary.rows:
        lines = ["You have not voted on any battle yet."]
    return head + "\n".join(lines)


def none_left_status(summary: Any) -> str:
    """The status line when there is no battle to show: finished, or why not yet."""
    if summary is None:
        return ALL_RATED
    if summary.available:
        return "You have rated every battle — thank you! Your votes are below."
    return inert_inline(summary.message) if summary.message else ALL_RATED
