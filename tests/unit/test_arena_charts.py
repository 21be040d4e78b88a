"""The Arena's plotly figures carry the numbers they are built from."""

from dataclasses import replace

import numpy as np

from playground.arena import charts
from playground.arena.leaderboard import Leaderboard, ModelRow


def board():
    rows = [
        ModelRow("X", 1, 1100, 1050, 1150, 1010, 4, 0.75, 0.5, (0.1, 0.9), 4, 1.5, None),
        ModelRow("Y", 2, 900, 850, 950, 990, 4, 0.25, float("nan"), (float("nan"),) * 2, 0, 0.5, 0.001),
    ]
    return Leaderboard(
        rows, ["X", "Y"], np.array([[np.nan, 0.75], [0.25, np.nan]]), np.array([[0, 4], [4, 0]]), 4, 0, 100
    )


def test_ratings_chart_has_intervals():
    data = charts.ratings_chart(board()).to_dict()["data"][0]
    assert list(data["y"]) == ["Y", "X"] and list(data["x"]) == [900, 1100]
    assert list(data["error_x"]["array"]) == [50, 50] and list(data["error_x"]["arrayminus"]) == [50, 50]


def test_heatmaps_show_rates_and_counts():
    win = charts.win_rate_heatmap(board()).to_dict()["data"][0]
    assert win["type"] == "heatmap" and win["z"][0][1] == 0.75 and win["z"][0][0] is None
    assert win["text"][1][0] == "25%"
    counts = charts.count_heatmap(board()).to_dict()["data"][0]
    assert counts["z"][0][1] == 4 and counts["text"][0][1] == "4"


def test_quality_against_cost_names_unknown_costs():
    fig = charts.quality_against(board(), "cost").to_dict()
    assert list(fig["data"][0]["text"]) == ["Y"] and "unknown for: X" in fig["layout"]["title"]["text"]
    assert list(charts.quality_against(board(), "latency").to_dict()["data"][0]["x"]) == [1.5, 0.5]


def test_a_chart_with_nothing_to_plot_says_why_in_a_sentence():
    no_cost = Leaderboard(board().rows[:1], ["X"], np.array([[np.nan]]), np.array([[0]]), 0, 0, 100)
    fig = charts.quality_against(no_cost, "cost").to_dict()
    assert fig["data"] == [] and "No cost to show" in fig["layout"]["annotations"][0]["text"]
    assert fig["layout"]["xaxis"]["visible"] is False
    latency = charts.quality_against(board(), "latency").to_dict()["data"][0]
    assert latency["cliponaxis"] is False  # the name above the top point is not cut off


def test_local_models_alone_have_no_cost_to_plot_but_sit_at_zero_beside_a_priced_one():
    x, y = board().rows
    here = [replace(x, cost_usd=0.0, cost_source="local"), replace(y, cost_usd=0.0, cost_source="local")]
    matrices = (np.array([[np.nan, 0.75], [0.25, np.nan]]), np.array([[0, 4], [4, 0]]), 4, 0, 100)
    fig = charts.quality_against(Leaderboard(here, ["X", "Y"], *matrices), "cost").to_dict()
    assert fig["data"] == [] and "No cost to show" in fig["layout"]["annotations"][0]["text"]
    mixed = [here[0], replace(y, cost_usd=0.002)]  # a local model at $0 beside a priced one: worth plotting
    fig = charts.quality_against(Leaderboard(mixed, ["X", "Y"], *matrices), "cost").to_dict()
    assert list(fig["data"][0]["x"]) == [0.0, 0.002]
