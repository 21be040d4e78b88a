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
from playground.i18n import DEFAULT_LANGUAGE, t
from playground.rendering import inert_inline

LEADERBOARD_HEADERS = [
    "Rank",
    "Model",
    "Rating",
    "95% interval",
    "Online Elo",
    "Battles",
    "Win rate",
    "Acceptable (95% Wilson)",
    "Mean s/answer",
    "Mean cost/answer",
]
PAIR_HEADERS = ["Rater 1", "Rater 2", "Shared battles", "Agreement", "Agreement without ties", "Cohen's κ"]
RATER_HEADERS = ["Rater", "Votes", "Tie or both bad", "Chose A (left) among A/B", "Repeats", "Self-consistency"]


def _pct(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.0%}"


def _num(value: float, digits: int = 2) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def leaderboard_rows(board: Leaderboard) -> list[list[Any]]:
    rows = []
    for r in board.rows:
        interval = "—" if math.isnan(r.lower) else f"{r.lower:.0f} – {r.upper:.0f}"
        accept = (
            "—"
            if not r.acceptable_n
            else f"{r.acceptable:.0%} ({r.acceptable_interval[0]:.0%}–{r.acceptable_interval[1]:.0%}, n={r.acceptable_n})"
        )
        cost = "unknown" if r.cost_usd is None else f"${r.cost_usd:.6f}"
        latency = "—" if r.latency_s is None else f"{r.latency_s:.2f}"
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
                cost,
            ]
        )
    return rows


def pair_rows(report: AgreementReport) -> list[list[Any]]:
    return [
        [
            p.rater_1,
            p.rater_2,
            p.shared,
            _pct(p.agreement),
            f"{_pct(p.agreement_decisive)} (n={p.decisive})",
            _num(p.kappa),
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
        fleiss=_num(report.fleiss),
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


def markdown(name: str, board: Leaderboard, agreement: AgreementReport, prompts: int, raters: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n\n".join(
        [
            f"# Arena report: {inert_inline(name)}",
            f"{prompts} prompts · {len(board.rows)} models · {raters} raters · generated {stamp}",
            "## Leaderboard",
            leaderboard_summary(board),
            _md_table(LEADERBOARD_HEADERS, leaderboard_rows(board)),
            "## Rater agreement",
            agreement_summary(agreement),
            _md_table(PAIR_HEADERS, pair_rows(agreement)) if agreement.pairs else "",
            "## Raters",
            _md_table(RATER_HEADERS, rater_rows(agreement)) if agreement.raters else "No votes yet.",
        ]
    )


def _html_table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_page(name: str, board: Leaderboard, agreement: AgreementReport, prompts: int, raters: int) -> str:
    figures = [
        charts.ratings_chart(board),
        charts.win_rate_heatmap(board),
        charts.count_heatmap(board),
        charts.quality_against(board, "latency"),
        charts.quality_against(board, "cost"),
    ]
    # The plotly library is embedded once so the report opens offline.
    plots = "".join(fig.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, fig in enumerate(figures))
    title = html.escape(f"Arena report: {name}")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style></head>
<body><h1>{title}</h1><p>{prompts} prompts · {len(board.rows)} models · {raters} raters</p>
<h2>Leaderboard</h2><p>{html.escape(leaderboard_summary(board))}</p>{_html_table(LEADERBOARD_HEADERS, leaderboard_rows(board))}
{plots}
<h2>Rater agreement</h2><p>{html.escape(agreement_summary(agreement).replace("**", ""))}</p>{_html_table(PAIR_HEADERS, pair_rows(agreement))}
<h2>Raters</h2>{_html_table(RATER_HEADERS, rater_rows(agreement))}</body></html>"""
