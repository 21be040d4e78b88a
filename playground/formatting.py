"""Human-readable figures, shared by every tab (pure functions, no UI library)."""

from __future__ import annotations

import json
from typing import Any

from playground.i18n import DEFAULT_LANGUAGE, Text, t
from playground.models.types import Price, PriceSource, Usage

# A cell starting with one of these is run as a formula by Excel and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with "…" where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten(text: str, limit: int = 80) -> str:
    """One line for a list or a label: whitespace collapsed, then clipped."""
    return clip(" ".join((text or "").split()), limit)


def bytes_text(size: int | None) -> Text:
    """A size as a person reads it ("98.0 MB"), not yet in any language: the decimals follow the
    reader's ("98,0 MB" in Portuguese). A value inside another ``t(...)`` renders in its language."""
    if size is None:
        return t("format.no_value")
    value = float(size)
    for key in ("format.bytes", "format.kilobytes", "format.megabytes"):
        if value < 1000:
            return t(key, value=value)
        value /= 1000
    return t("format.gigabytes", value=value)


def format_bytes(size: int | None, language: str = DEFAULT_LANGUAGE) -> str:
    """e.g. "98.0 MB" ("98,0 MB" in Portuguese); "—" for an unknown size."""
    return bytes_text(size).render(language)


def cost_text(cost: float | None, source: str | None = None) -> Text:
    """A cost in US dollars ("$0.0123"; "US$ 0,0123" in Portuguese); "cost unknown" for None (an
    unknown price is never shown as $0); "local: $0, by choice" for a model that runs locally
    (``source`` "local"). Every place that shows a cost goes through here."""
    if cost is None:
        return t("models.cost_unknown")
    if source == PriceSource.LOCAL:
        return t("prices.local_zero")
    if cost == 0:
        return t("format.cost_zero")
    return t("format.cost_small", value=cost) if cost < 0.01 else t("format.cost", value=cost)


def format_cost(cost: float | None, language: str = DEFAULT_LANGUAGE, source: str | None = None) -> str:
    return cost_text(cost, source).render(language)


def price_text(price: Price | None, source: str | None = None) -> Text:
    """A model's price per million tokens ("$0.15 input · $0.6 output per 1M tokens"), "local: $0,
    by choice", or "cost unknown" (None)."""
    if price is None:
        return t("models.cost_unknown")
    if source == PriceSource.LOCAL:
        return t("prices.local_zero")
    return t("prices.per_million", input=dollars_per_m(price.input_per_m), output=dollars_per_m(price.output_per_m))


def dollars_per_m(value: float) -> Text:
    """A price per million tokens as a price reads: "$0.60", "$15.00", but "$0.075" (no digit lost)."""
    return t("prices.dollars" if round(value, 2) == value else "prices.dollars_fine", value=value)


def _fixed(value: float, decimals: int) -> Text:
    """A measured figure with ``decimals`` decimals, in the reader's decimal separator."""
    return t("format.fixed_2" if decimals == 2 else "format.fixed_1", value=value)


def format_usage(usage: Usage, language: str = DEFAULT_LANGUAGE) -> str:
    """An answer's figures on one line, in ``language`` (the numbers as measured)."""
    ttft, tps = usage.ttft_s, usage.tokens_per_s
    parts = [
        Text("models.usage_first_token", {"seconds": _fixed(ttft, 2)})
        if ttft is not None
        else Text("models.usage_first_token_unknown"),
        Text("models.usage_total", {"seconds": _fixed(usage.total_s, 2)}),
        Text("models.usage_speed", {"speed": _fixed(tps, 1)})
        if tps is not None
        else Text("models.usage_speed_unknown"),
        Text(
            "models.usage_tokens_counted" if usage.tokens_estimated else "models.usage_tokens",
            {
                "prompt": "?" if usage.prompt_tokens is None else str(usage.prompt_tokens),
                "completion": "?" if usage.completion_tokens is None else str(usage.completion_tokens),
            },
        ),
    ]
    line = [part.render(language) for part in parts] + [format_cost(usage.cost_usd, language, usage.price_source)]
    if usage.finish_reason == "length":
        line.append(Text("models.usage_stopped_length").render(language))
    elif usage.finish_reason == "cancelled":
        line.append(Text("models.usage_stopped_by_you").render(language))
    return " · ".join(line)


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
