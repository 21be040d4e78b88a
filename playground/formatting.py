"""Human-readable figures, shared by every tab (pure functions, no UI library)."""

from __future__ import annotations

import json
from typing import Any

from playground.models.types import Usage

# A cell starting with one of these is run as a formula by Excel and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with "…" where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten(text: str, limit: int = 80) -> str:
    """One line for a list or a label: whitespace collapsed, then clipped."""
    return clip(" ".join((text or "").split()), limit)


def format_bytes(size: int | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def format_cost(cost: float | None) -> str:
    if cost is None:
        return "cost unknown"
    if cost == 0:
        return "$0"
    return f"${cost:.6f}" if cost < 0.01 else f"${cost:.4f}"


def format_usage(usage: Usage) -> str:
    parts = []
    parts.append(f"first token {usage.ttft_s:.2f} s" if usage.ttft_s is not None else "first token —")
    parts.append(f"total {usage.total_s:.2f} s")
    tps = usage.tokens_per_s
    parts.append(f"{tps:.1f} tokens/s" if tps is not None else "tokens/s —")
    prompt = "?" if usage.prompt_tokens is None else str(usage.prompt_tokens)
    completion = "?" if usage.completion_tokens is None else str(usage.completion_tokens)
    approx = " (counted by Playground)" if usage.tokens_estimated else ""
    parts.append(f"{prompt} prompt + {completion} completion tokens{approx}")
    parts.append(format_cost(usage.cost_usd))
    if usage.finish_reason == "length":
        parts.append("stopped at max tokens")
    elif usage.finish_reason == "cancelled":
        parts.append("stopped by you")
    return " · ".join(parts)


def formula_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (``=HYPERLINK(...)``, ``+1``, ``@SUM``),
    prefixed with an apostrophe so it stays text; every CSV export writes its cells through this
    (``csv_cell``), as OWASP advises against CSV injection. Other values are returned as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def formula_unsafe(value: Any) -> Any:
    """``formula_safe`` undone, for reading back a CSV this app wrote."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def csv_cell(value: Any) -> Any:
    """A value as a CSV export cell: unknown (None) stays empty, never 0; tiny costs keep
    their digits; structures become JSON; text that a spreadsheet would run as a formula is
    prefixed with an apostrophe so it stays text (``formula_safe``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return formula_safe(value)


def format_duration(seconds: float) -> str:
    """e.g. "59 s", "1 min 20 s", "1 h 2 min": a duration as a person reads it."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
