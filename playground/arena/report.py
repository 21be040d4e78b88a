"""The one-page report of an evaluation (Markdown, and HTML with the charts), and the
table rows the UI shows — both built from the same numbers."""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime
from typing import Any

from playground.arena import charts
from playground.arena.agreement import AgreementReport
from playground.arena.leaderboard import Leaderboard
from playground.formatting import cost_text
from playground.i18n import DEFAULT_LANGUAGE, t
from playground.rendering import inert_inline

# Column headers by catalogue key: the Dataframes' headers are not translated in the browser,
# so the handlers that fill the tables (and the report) render them in the reader's language.
LEADERBOARD_HEADER_KEYS = (
    "arena.head_rank", "arena.head_model", "arena.head_rating", "arena.head_interval", "arena.head_elo",
    "arena.head_battles", "arena.head_win_rate", "arena.head_acceptable", "arena.head_latency", "arena.head_cost",
)  # fmt: skip
PAIR_HEADER_KEYS = (
    "arena.head_rater_1", "arena.head_rater_2", "arena.head_shared", "arena.head_agreement",
    "arena.head_agreement_decisive", "arena.head_kappa",
)  # fmt: skip
RATER_HEADER_KEYS = (
    "arena.head_rater", "arena.head_votes", "arena.head_tie_bothbad", "arena.head_chose_a", "arena.head_repeats",
    "arena.head_self_consistency",
)  # fmt: skip


def headers(keys: tuple[str, ...], language: str = DEFAULT_LANGUAGE) -> list[str]:
    """A table's column headers in ``language``."""
    return [t(key).render(language) for key in keys]


# In English: the tables as the page is first built, and what API callers read.
LEADERBOARD_HEADERS = headers(LEADERBOARD_HEADER_KEYS)
PAIR_HEADERS = headers(PAIR_HEADER_KEYS)
RATER_HEADERS = headers(RATER_HEADER_KEYS)


def _pct(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.0%}"


def _num(value: float, language: str = DEFAULT_LANGUAGE) -> str:
    return "—" if value is None or math.isnan(value) else t("arena.cell_decimal", value=value).render(language)


def leaderboard_rows(board: Leaderboard, language: str = DEFAULT_LANGUAGE) -> list[list[Any]]:
    rows = []
    for r in board.rows:
        interval = "—" if math.isnan(r.lower) else f"{r.lower:.0f} – {r.upper:.0f}"
        accept = (
            "—"
            if not r.acceptable_n
            else f"{r.acceptable:.0%} ({r.acceptable_interval[0]:.0%}–{r.acceptable_interval[1]:.0%}, n={r.acceptable_n})"
        )
        # Known costs read as everywhere (formatting.cost_text): "local: $0, by choice" for local models.
        cost = t("arena.cell_unknown") if r.cost_usd is None else cost_text(r.cost_usd, r.cost_source)
        latency = "—" if r.latency_s is None else t("arena.cell_seconds", seconds=r.latency_s).render(language)
        rows.append(
            [
                r.rank,
                r.name,
                round(r.rating),
                interval,
                round(r.elo),
                r.battles,
                _pct(r.win_rate),
                accept,
                latency,
                cost.render(language),
            ]
        )
    return rows


def pair_rows(report: AgreementReport, language: str = DEFAULT_LANGUAGE) -> list[list[Any]]:
    return [
        [
            p.rater_1,
            p.rater_2,
            p.shared,
            _pct(p.agreement),
            f"{_pct(p.agreement_decisive)} (n={p.decisive})",
            _num(p.kappa, language),
        ]
        for p in report.pairs
    ]


def rater_rows(report: AgreementReport) -> list[list[Any]]:
    rows = []
    for r in report.raters:
        left = (
            _pct(r.left_rate)
            if math.isnan(r.left_rate)
            else f"{r.left_rate:.0%} ({r.left_interval[0]:.0%}–{r.left_interval[1]:.0%})"
        )
        rows.append([r.rater, r.votes, _pct(r.tie_rate), left, r.repeats, _pct(r.self_consistency)])
    return rows


def agreement_summary(report: AgreementReport, language: str = DEFAULT_LANGUAGE) -> str:
    if not report.pairs:
        return t("arena.agreement_none").render(language)
    return t(
        "arena.agreement_summary",
        shared=report.shared_battles,
        agreement=_pct(report.agreement),
        decisive=_pct(report.agreement_decisive),
        fleiss=_num(report.fleiss, language),
    ).render(language)


def leaderboard_summary(board: Leaderboard, language: str = DEFAULT_LANGUAGE) -> str:
    votes = board.votes.said()
    if not board.votes_used:
        said = t("arena.board_need_vote", votes=votes) if board.votes.cast else t("arena.no_votes")
        return said.render(language)
    text = t("arena.board_summary", votes=votes, rounds=board.rounds).render(language)
    if board.votes_used < 10 * max(1, len(board.rows)):
        text += t("arena.board_rough").render(language)
    if any(r.battles and r.win_rate in (0.0, 1.0) for r in board.rows):
        text += t("arena.board_unbeaten").render(language)
    return text


def _md_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    # Names are typed by raters and facilitators: inert, so a Markdown viewer shows them as text.
    lines += ["| " + " | ".join(inert_inline(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _said(key: str, language: str, **values: Any) -> str:
    return t(key, **values).render(language)


def markdown(
    name: str,
    board: Leaderboard,
    agreement: AgreementReport,
    prompts: int,
    raters: int,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """The report as Markdown, its headings, sentences and tables in ``language``."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    counts = _said("arena.report_counts", language, prompts=prompts, models=len(board.rows), raters=raters)
    return "\n\n".join(
        [
            "# " + _said("arena.report_title", language, name=inert_inline(name)),
            _said("arena.report_generated", language, counts=counts, stamp=stamp),
            "## " + _said("arena.report_leaderboard", language),
            leaderboard_summary(board, language),
            _md_table(headers(LEADERBOARD_HEADER_KEYS, language), leaderboard_rows(board, language)),
            "## " + _said("arena.report_agreement", language),
            agreement_summary(agreement, language),
            _md_table(headers(PAIR_HEADER_KEYS, language), pair_rows(agreement, language)) if agreement.pairs else "",
            "## " + _said("arena.report_raters", language),
            _md_table(headers(RATER_HEADER_KEYS, language), rater_rows(agreement))
            if agreement.raters
            else _said("arena.no_votes", language),
        ]
    )


def _html_table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_page(
    name: str,
    board: Leaderboard,
    agreement: AgreementReport,
    prompts: int,
    raters: int,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """The report as one HTML page with its charts (plotly embedded, so it opens offline), in ``language``."""
    figures = [
        charts.ratings_chart(board, language=language),
        charts.win_rate_heatmap(board, language=language),
        charts.count_heatmap(board, language=language),
        charts.quality_against(board, "latency", language=language),
        charts.quality_against(board, "cost", language=language),
    ]
    plots = "".join(fig.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, fig in enumerate(figures))
    title = html.escape(_said("arena.report_title", language, name=name))
    counts = html.escape(_said("arena.report_counts", language, prompts=prompts, models=len(board.rows), raters=raters))
    board_table = _html_table(headers(LEADERBOARD_HEADER_KEYS, language), leaderboard_rows(board, language))
    pair_table = _html_table(headers(PAIR_HEADER_KEYS, language), pair_rows(agreement, language))
    rater_table = _html_table(headers(RATER_HEADER_KEYS, language), rater_rows(agreement))
    agreed = html.escape(agreement_summary(agreement, language).replace("**", ""))
    lang = html.escape(language)
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style></head>
<body><h1>{title}</h1><p>{counts}</p>
<h2>{html.escape(_said("arena.report_leaderboard", language))}</h2><p>{html.escape(leaderboard_summary(board, language))}</p>{board_table}
{plots}
<h2>{html.escape(_said("arena.report_agreement", language))}</h2><p>{agreed}</p>{pair_table}
<h2>{html.escape(_said("arena.report_raters", language))}</h2>{rater_table}</body></html>"""
