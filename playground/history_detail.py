"""One saved run as Markdown for the History tab: its prompt, columns and answers, the words
around them in the reader's language (the run's own text is shown as written, made inert)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from playground.compare.templates import render_template
from playground.errors import InvalidInput
from playground.formatting import format_usage, shorten
from playground.i18n import DEFAULT_LANGUAGE, Text, catalogue
from playground.models.types import Usage
from playground.rendering import inert_code_block, inert_inline
from playground.statuses import GenerationStatus

DETAIL_ANSWERS = 60  # a big batch run would make an unreadable page; export shows all
STATUS_MARKS: dict[str, str] = {  # catalogue keys
    GenerationStatus.ERROR: "history.mark_error",
    GenerationStatus.CANCELLED: "history.mark_stopped",
    GenerationStatus.RUNNING: "history.mark_unfinished",
}


def _say(key: str, language: str, **values: Any) -> str:
    return Text(key, values).render(language)


def local_time(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def fenced(text: str) -> str:
    """Text shown as written in a code block that nothing in it can break or bring to life
    (``playground.rendering``; a Markdown fence would not survive Gradio's $$ maths pass)."""
    return inert_code_block(text)


def _usage_of(gen) -> Usage | None:
    if gen.total_s is None:
        return None
    return Usage(
        gen.prompt_tokens,
        gen.completion_tokens,
        gen.ttft_s,
        gen.total_s,
        gen.cost_usd,
        gen.tokens_estimated,
        gen.finish_reason,
        gen.price_source,
    )


def run_detail(run: Any, template: str, is_available: Callable[[str], bool], language: str = DEFAULT_LANGUAGE) -> str:
    """``run`` (a stored run with its generations) as Markdown; ``template``: its template's label."""
    meta = dict(run.meta or {})
    gens = sorted(
        run.generations,
        key=lambda g: (g.row_index if g.row_index is not None else -1, g.turn, g.attempt, g.position, g.id),
    )
    kind_key = f"history.kind_{run.kind}"
    kind = _say(kind_key, language) if catalogue().has(kind_key) else run.kind
    lines = [_say("history.detail_heading", language, run_id=run.id, kind=kind, when=local_time(run.created_at))]
    prompt = str(meta.get("prompt_body") or run.title)
    lines += [_say("history.detail_prompt", language), fenced(prompt)]
    if meta.get("variables"):
        try:
            lines += [_say("history.detail_sent_as", language), fenced(render_template(prompt, meta["variables"]))]
        except InvalidInput:
            pass  # an incomplete old record: the variables below still show what was typed
    if template:
        lines.append(_say("history.detail_template", language, template=inert_inline(template)))
    elif run.kind in ("compare", "batch"):
        lines.append(_say("history.detail_no_template", language))
    if meta.get("variables"):
        variables = "; ".join(
            f"**{inert_inline(k)}** = {inert_inline(shorten(str(v), 60))}" for k, v in meta["variables"].items()
        )
        lines.append(_say("history.detail_variables", language, variables=variables))
    lines.append(_say("history.detail_columns", language))
    lines += [f"- {line}" for line in _column_lines(meta, gens, is_available, language)]
    lines.append(_say("history.detail_answers", language, count=len(gens)))
    for gen in gens[:DETAIL_ANSWERS]:
        lines += _answer_lines(gen, meta, language)
    if len(gens) > DETAIL_ANSWERS:
        lines.append(_say("history.detail_more", language, count=len(gens) - DETAIL_ANSWERS))
    return "\n\n".join(lines)


def _column_lines(meta: dict, gens: Sequence, is_available: Callable[[str], bool], language: str) -> list[str]:
    names_by_position: dict[int, str] = {}
    params_by_position: dict[int, tuple[str, dict]] = {}
    for gen in gens:
        names_by_position.setdefault(gen.position, gen.model_name)
        params_by_position.setdefault(gen.position, (gen.model_key, dict(gen.params or {})))
    stored = list(meta.get("columns") or [])
    stored_names = list(meta.get("column_names") or [])
    columns: list[tuple[str, dict]] = []
    if stored:
        columns.extend((str(data.get("model_key", "")), data) for data in stored)
    else:
        columns = [params_by_position[p] for p in sorted(params_by_position)]
    lines = []
    for index, (key, settings) in enumerate(columns):
        name = (
            names_by_position.get(index)
            or (stored_names[index] if index < len(stored_names) else "")
            or meta.get("model_name")
            or key
        )
        removed = "" if is_available(key) else _say("history.detail_removed", language)
        settings_text = _settings_text(settings, language)
        values = {"n": index + 1, "name": inert_inline(name), "removed": removed, "settings": settings_text}
        lines.append(_say("history.detail_column", language, **values))
    return lines or [_say("history.detail_no_columns", language)]


def _settings_text(settings: dict, language: str) -> str:
    parts = [
        _say("history.setting_temperature", language, value=settings.get("temperature", "—")),
        _say("history.setting_top_p", language, value=settings.get("top_p", "—")),
        _say("history.setting_max_tokens", language, value=settings.get("max_tokens", "—")),
    ]
    seed = settings.get("seed")
    parts.append(
        _say("history.setting_random_seed", language)
        if seed is None
        else _say("history.setting_seed", language, value=seed)
    )
    if settings.get("stop"):
        stops = inert_inline(", ".join(repr(s) for s in settings["stop"]))
        parts.append(_say("history.setting_stop", language, value=stops))
    system = str(settings.get("system_prompt") or "").strip()
    parts.append(
        _say("history.setting_system", language, value=inert_inline(shorten(system, 120)))
        if system
        else _say("history.setting_no_system", language)
    )
    return " · ".join(parts)


def _answer_lines(gen, meta: dict, language: str) -> list[str]:
    where = [_say("history.where_column", language, n=gen.position + 1)]
    if gen.row_index is not None:
        where.append(_say("history.where_row", language, n=gen.row_index + 1))
    if gen.turn:
        where.append(_say("history.where_turn", language, n=gen.turn + 1))
    if gen.attempt or meta.get("times"):
        where.append(_say("history.where_attempt", language, n=gen.attempt + 1))
    mark = STATUS_MARKS.get(gen.status)
    status = "✅" if gen.status == GenerationStatus.OK else (_say(mark, language) if mark else gen.status)
    lines = [f"**{inert_inline(gen.model_name)}** · {' · '.join(where)} · {status}"]
    if gen.turn or gen.row_index is not None:  # what this answer was asked (a follow-up, or a batch row's prompt)
        user = next((m.get("content", "") for m in reversed(gen.messages or []) if m.get("role") == "user"), "")
        lines.append(_say("history.asked", language, text=inert_inline(shorten(user, 200))))
    if gen.output:
        lines.append(fenced(gen.output))
    if gen.error:
        lines.append(f"❌ {inert_inline(gen.error)}")
    usage = _usage_of(gen)
    if usage is not None:
        lines.append(f"<small>{format_usage(usage, language)}</small>")
    if gen.rating or gen.feedback_note:
        thumb = {1: "👍", -1: "👎"}.get(gen.rating, "")
        note = inert_inline(gen.feedback_note)
        lines.append(_say("history.feedback", language, thumb=thumb, note=note).rstrip())
    return lines
