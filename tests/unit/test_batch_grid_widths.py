"""The batch grid's and "First rows" tables' column widths: they add up to the table's width, so
every model's column is in view side by side (issue 13, item 7)."""

import pandas as pd

from components.compare_batch import answer_column_count, fit_results_grid, grid_column_widths
from components.file_rows import GRID_SHARE, fit_file_rows, preview_column_widths


def shares(widths: list[str]) -> list[float]:
    return [float(w.rstrip("%")) for w in widths]


def test_the_grid_columns_fill_the_table_and_the_answers_share_the_most():
    for inputs in range(0, 5):
        for answers in range(1, 5):
            widths = shares(grid_column_widths(inputs, answers))
            assert len(widths) == 1 + inputs + answers
            assert abs(sum(widths) - GRID_SHARE) < 0.05
            assert min(widths[1 + inputs :]) >= 17  # four models at 1400 px: over 200 px each
    assert shares(grid_column_widths(2, 2)) == [4.0, 13.0, 13.0, 34.5, 34.5]


def test_answer_columns_are_counted_from_the_numbered_headers_at_the_end():
    assert answer_column_count(["#", "product", "review", "1 · SmolLM2", "2 · Gemma"]) == 2
    assert answer_column_count(["#", "1 · odd input name", "1 · SmolLM2"]) == 1
    assert answer_column_count(["#", "product"]) == 0


def test_an_empty_grid_is_hidden_and_a_filled_one_is_fitted():
    assert fit_results_grid(None).constructor_args == {"visible": False}
    filled = pd.DataFrame([["1", "Kettle", "⏳", "⏳"]], columns=["#", "product", "1 · A", "2 · B"])
    args = fit_results_grid(filled).constructor_args
    assert args["visible"] is True and shares(args["column_widths"]) == [4.0, 13.0, 41.0, 41.0]


def test_first_rows_follow_the_file_and_short_columns_keep_their_header_whole():
    assert fit_file_rows(None, None).constructor_args == {"visible": False}
    headers, rows = ["product", "rating", "review"], [["Kettle", "5", "It is loud and the lid broke. " * 5]]
    widths = shares(preview_column_widths(headers, rows))
    assert abs(sum(widths) - GRID_SHARE) < 0.05 and widths[2] > widths[0] >= widths[1] >= 10
    assert fit_file_rows("reviews.csv", {"headers": headers, "data": rows}).constructor_args["visible"] is True
