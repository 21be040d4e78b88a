"""How an estimate, and the run's actual figures against it, read on screen (Markdown, in the
reader's language; no UI library). Every estimated figure is marked: "~" an estimate, "≤" an
upper bound, and the table says "estimate" in its heading and its column names."""

from __future__ import annotations

from playground.estimates import (
    MAX_TOKENS,
    MEASURED,
    RULE_OF_THUMB,
    TOKENIZER,
    ModelActual,
    ModelEstimate,
    RunActual,
    RunEstimate,
)
from playground.formatting import cost_text, format_duration
from playground.i18n import DEFAULT_LANGUAGE, Text, t
from playground.rendering import inert_inline

INPUT_NOTES = {
    TOKENIZER: "estimate.input_tokenizer",
    MEASURED: "estimate.input_measured",
    RULE_OF_THUMB: "estimate.input_rule",
}
ESTIMATE_HEADERS = (
    "estimate.col_model",
    "estimate.col_calls",
    "estimate.col_input",
    "estimate.col_output",
    "estimate.col_cost",
    "estimate.col_time",
)
ACTUAL_HEADERS = (
    "estimate.col_model",
    "estimate.col_calls_actual",
    "estimate.col_input_actual",
    "estimate.col_output_actual",
    "estimate.col_cost_actual",
    "estimate.col_time_actual",
)


def _say(message: Text, language: str) -> str:
    return message.render(language)


def tokens_text(n: int) -> Text:
    return t("estimate.tokens", n=n)


def seconds_text(seconds: float | None) -> Text:
    """A time as a person reads it: tenths under ten seconds, then minutes and hours."""
    if seconds is None:
        return t("estimate.time_unknown")
    if seconds < 10:
        return t("estimate.seconds", seconds=seconds)
    return t("estimate.duration", duration=format_duration(seconds))


def _about(value: Text) -> Text:
    return t("estimate.about", value=value)


def _input_cell(model: ModelEstimate) -> Text:
    return _about(tokens_text(model.input_tokens))


def _output_cell(model: ModelEstimate) -> Text:
    tokens = tokens_text(model.output_tokens)
    return t("estimate.at_most", value=tokens) if model.output_method == MAX_TOKENS else _about(tokens)


def _cost_cell(cost: float | None, source: str | None = None) -> Text:
    """An estimated cost: "~$0.02"; "cost unknown" and a free model's $0 are not estimates."""
    return cost_text(cost, source) if not cost else _about(cost_text(cost, source))


def _common_source(estimate: RunEstimate) -> str | None:
    sources = {m.price_source for m in estimate.models}
    return sources.pop() if len(sources) == 1 else None  # every model local: "$0, by choice"


def _time_cell(seconds: float | None) -> Text:
    return seconds_text(None) if seconds is None else _about(seconds_text(seconds))


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(headers: tuple[str, ...], rows: list[list[str]], language: str) -> str:
    head = [_say(Text(key), language) for key in headers]
    return "\n".join([_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows)])


def total_cost_text(estimate: RunEstimate) -> Text:
    """The run's cost: all priced, some unknown ("$0.02 + cost unknown for 1 model"), or unknown."""
    if not estimate.unpriced:
        return _cost_cell(estimate.known_cost_usd, _common_source(estimate))
    if estimate.unpriced == len(estimate.models):
        return cost_text(None)
    return t("estimate.cost_partly_unknown", cost=cost_text(estimate.known_cost_usd), n=estimate.unpriced)


def total_time_text(estimate: RunEstimate) -> Text:
    """One model after another; for side-by-side columns, between the slowest model and the sum."""
    if estimate.seconds is None:
        return seconds_text(None)
    if estimate.parallel and seconds_text(estimate.side_by_side_seconds) != seconds_text(estimate.seconds):
        return t(
            "estimate.time_between",
            low=seconds_text(estimate.side_by_side_seconds),
            high=seconds_text(estimate.seconds),
        )
    return _about(seconds_text(estimate.seconds))


def _model_row(model: ModelEstimate, language: str) -> list[str]:
    cost = _cost_cell(model.cost_usd, model.price_source)
    cells = [_input_cell(model), _output_cell(model), cost, _time_cell(model.seconds)]
    return [inert_inline(model.model_name), str(model.calls), *(_say(c, language) for c in cells)]


def _total_output(estimate: RunEstimate) -> Text:
    output = tokens_text(estimate.output_tokens)
    bounded = any(m.output_method == MAX_TOKENS for m in estimate.models)
    return t("estimate.at_most", value=output) if bounded else _about(output)


def _total_row(estimate: RunEstimate, language: str) -> list[str]:
    cells = [
        _about(tokens_text(estimate.input_tokens)),
        _total_output(estimate),
        total_cost_text(estimate),
        total_time_text(estimate),
    ]
    total = f"**{_say(t('estimate.total'), language)}**"
    return [total, str(estimate.calls), *(_say(c, language) for c in cells)]


def _notes(estimate: RunEstimate, language: str) -> list[str]:
    """How each model's figures were found, one line per model."""
    lines = []
    for model in estimate.models:
        parts = [t(INPUT_NOTES.get(model.input_method, "estimate.input_rule"))]
        parts.append(t("estimate.output_bound" if model.output_method == MAX_TOKENS else "estimate.output_recent"))
        if model.cost_usd is None:
            parts.append(t("estimate.no_price"))
        if model.tokens_per_s is None:
            parts.append(t("estimate.no_speed"))
        else:
            speed = t("estimate.speed", n=model.speed_samples, speed=model.tokens_per_s, ttft=model.ttft_s or 0.0)
            parts.append(speed)
            if model.load_s:
                parts.append(t("estimate.with_load", seconds=model.load_s))
        said = "; ".join(_say(p, language) for p in parts)
        lines.append(f"- {inert_inline(model.model_name)}: {said}")
    return lines


def estimate_markdown(estimate: RunEstimate, language: str = DEFAULT_LANGUAGE) -> str:
    """The estimate before a run: a heading that says so, a row per model and a total, how each
    figure was found."""
    if not estimate.models:
        return _say(t("estimate.nothing_to_run"), language)
    rows = [_model_row(m, language) for m in estimate.models] + [_total_row(estimate, language)]
    parts = [f"**{_say(t('estimate.heading'), language)}**", _table(ESTIMATE_HEADERS, rows, language)]
    parts.append("\n".join(_notes(estimate, language)))
    return "\n\n".join(parts)


def estimate_line(estimate: RunEstimate, language: str = DEFAULT_LANGUAGE) -> str:
    """The estimate on one line, for a progress area while the run goes."""
    return _say(
        t(
            "estimate.line",
            calls=estimate.calls,
            input=_about(tokens_text(estimate.input_tokens)),
            output=_total_output(estimate),
            cost=total_cost_text(estimate),
            time=total_time_text(estimate),
        ),
        language,
    )


def _against(estimated: Text, actual: Text) -> Text:
    return t("estimate.against", estimated=estimated, actual=actual)


def _difference(estimated: int, actual: int, calls: int, uncounted: int) -> Text:
    """The actual input tokens, with how far they are from the estimate where every call reported them."""
    if calls and uncounted >= calls:
        return t("estimate.not_reported")
    if uncounted:
        return t("estimate.tokens_partly_reported", n=actual, missing=uncounted)
    if not estimated:
        return tokens_text(actual)
    return t("estimate.tokens_with_change", n=actual, change=(actual - estimated) / estimated)


def _actual_cells(model: ModelEstimate, used: ModelActual | None) -> list[Text]:
    if used is None:  # the run stopped before this model answered
        nothing = t("estimate.not_run")
        return [t("estimate.calls_against", estimated=model.calls, actual=0), nothing, nothing, nothing, nothing]
    return [
        t("estimate.calls_against", estimated=model.calls, actual=used.calls),
        _against(_input_cell(model), _difference(model.input_tokens, used.prompt_tokens, used.calls, used.uncounted)),
        _against(_output_cell(model), tokens_text(used.completion_tokens)),
        _against(_cost_cell(model.cost_usd, model.price_source), cost_text(used.cost_usd, model.price_source)),
        _against(_time_cell(model.seconds), seconds_text(used.seconds)),
    ]


def comparison_markdown(estimate: RunEstimate, actual: RunActual, language: str = DEFAULT_LANGUAGE) -> str:
    """After the run: each model's actual calls, tokens, cost and time against the estimate."""
    rows = []
    for model in estimate.models:
        cells = _actual_cells(model, actual.model(model.model_key))
        rows.append([inert_inline(model.model_name), *(_say(c, language) for c in cells)])
    uncounted = sum(m.uncounted for m in actual.models)
    inputs = _difference(estimate.input_tokens, actual.prompt_tokens, actual.calls, uncounted)
    total = [
        t("estimate.calls_against", estimated=estimate.calls, actual=actual.calls),
        _against(_about(tokens_text(estimate.input_tokens)), inputs),
        _against(_total_output(estimate), tokens_text(actual.completion_tokens)),
        _against(total_cost_text(estimate), cost_text(actual.cost_usd, _common_source(estimate))),
        _against(total_time_text(estimate), seconds_text(actual.elapsed_s)),
    ]
    rows.append([f"**{_say(t('estimate.total'), language)}**", *(_say(c, language) for c in total)])
    parts = [f"**{_say(t('estimate.actual_heading'), language)}**", _table(ACTUAL_HEADERS, rows, language)]
    if uncounted:
        parts.append(_say(t("estimate.uncounted", n=uncounted), language))
    return "\n\n".join(parts)
