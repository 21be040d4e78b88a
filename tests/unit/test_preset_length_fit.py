"""A preset never cuts the checked dataset's rows silently: its max length grows to hold them,
and the note and the dataset check name the same longest row."""

from playground.finetune.config import LENGTH_STEPS, fit_max_length, preset
from playground.finetune.dataset_check import check_dataset
from playground.models.prompt_formats import Example


def report_of(lengths, cutoff=512):
    rows = [Example(instruction=f"q{i}", output="a") for i in range(len(lengths))]
    by_text = {f"q{i}\na": n for i, n in enumerate(lengths)}
    return check_dataset(rows, lambda text: by_text[text], cutoff)


def test_quick_test_grows_to_hold_the_longest_row_and_names_the_same_longest_as_the_check():
    report = report_of([40, 90, 155] + [60] * 7)
    fit = fit_max_length(preset("Quick test").max_length, report.lengths, report.max_length)
    assert fit.max_length == 256 and 256 in LENGTH_STEPS
    assert "raised from 128 to **256**" in fit.note and "no row is cut" in fit.note
    longest = max(report.lengths)
    assert f"longest {longest}" in report.summary_markdown() and f"longest is {longest} tokens" in fit.note


def test_never_past_the_users_cutoff_and_says_how_many_rows_are_cut():
    report = report_of([100, 300, 700, 900, 50], cutoff=512)
    fit = fit_max_length(128, report.lengths, report.max_length)
    assert fit.max_length == 512
    assert "2 of 5 rows are longer" in fit.note and "first 512 tokens" in fit.note


def test_a_length_that_already_fits_is_kept_and_no_dataset_means_no_note():
    assert fit_max_length(256, [10, 200], 512).max_length == 256
    assert "Every row fits" in fit_max_length(256, [10, 200], 512).note
    assert fit_max_length(128, [], 512) == fit_max_length(128, [], None)
    assert fit_max_length(128, [], 512).note == ""
