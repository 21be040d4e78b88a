"""Rubric validation, the weighted score, the editor table, and the judge's charts."""

import pytest

from playground.errors import InvalidInput
from playground.judge import charts
from playground.judge.prompts import JUDGE_TEMPERATURE, judge_params, rubric_messages
from playground.judge.rubric import (
    Criterion,
    criteria_from_rows,
    default_rubric,
    rows_from_rubric,
    validate,
    weighted_score,
)

EXAMPLES = ("wrong", "mostly wrong", "mostly right", "right")


def crit(name="correctness", weight=100.0, description="Is it right?", examples=EXAMPLES):
    return Criterion(name, weight, description, examples)


def test_the_default_rubric_is_the_studys_and_valid():
    rubric = default_rubric()
    assert [(c.name, c.weight) for c in rubric.criteria] == [
        ("correctness", 60),
        ("comprehensiveness", 20),
        ("readability", 20),
    ]
    assert all(len(c.examples) == 4 for c in rubric.criteria)
    assert validate(rubric.name, rubric.criteria).criteria == rubric.criteria


@pytest.mark.parametrize(
    "criteria, message",
    [
        ([], "no criteria"),
        ([crit(weight=90)], "add up to 90%"),
        ([crit(weight=60), crit("readability", 60)], "add up to 120%"),
        ([crit(weight=0)], "more than 0%"),
        ([crit(weight=float("nan"))], "more than 0%"),
        ([crit(examples=("a", "b", "c"))], "missing for score 3"),
        ([crit(examples=("a", "", "c", "d"))], "missing for score 1"),
        ([crit(examples=("a", "b", "c", "d", "e"))], "more than four"),
        ([crit(description="  ")], "description is empty"),
        ([crit(name="")], "short name"),
        ([crit(weight=50), crit("Correctness", 50)], "Two criteria"),
    ],
)
def test_invalid_rubrics_are_refused_with_a_plain_message(criteria, message):
    with pytest.raises(InvalidInput, match=message):
        validate("My rubric", criteria)


def test_a_rubric_needs_a_name():
    with pytest.raises(InvalidInput, match="name"):
        validate("   ", [crit()])


def test_weighted_score_uses_the_weights_and_never_counts_unparsed_as_zero():
    rubric = default_rubric()
    # 0.6*3 + 0.2*2 + 0.2*1 = 1.8 + 0.4 + 0.2 = 2.4
    assert weighted_score({"correctness": 3, "comprehensiveness": 2, "readability": 1}, rubric) == pytest.approx(2.4)
    assert weighted_score({"correctness": 3, "comprehensiveness": None, "readability": 1}, rubric) is None


def test_the_editor_table_round_trips_and_refuses_a_weight_that_is_not_a_number():
    rubric = default_rubric()
    assert validate("again", criteria_from_rows(rows_from_rubric(rubric))).criteria == rubric.criteria
    assert criteria_from_rows([["correctness", "100%", "d", *EXAMPLES], ["", "", "", "", "", "", ""]])[0].weight == 100
    with pytest.raises(InvalidInput, match="not a number"):
        criteria_from_rows([["correctness", "lots", "d", *EXAMPLES]])


def test_prompts_put_the_reason_before_the_score_and_use_temperature_0_1():
    messages = rubric_messages(crit(), "Where?", "Paris", references=["Paris is the capital."])
    user = messages[-1].content
    assert user.index("Reason:") < user.index("Score:") and "Reference passages" in user and "0 = wrong" in user
    assert judge_params().temperature == JUDGE_TEMPERATURE == 0.1


def test_score_distribution_chart_shows_unparsed_and_failed_next_to_scores():
    fig = charts.score_distribution(
        {"Model A": {"0": 1, "3": 2, "unparsed": 4}, "Model B": {"2": 1}}, "correctness"
    ).to_dict()
    assert [t["name"] for t in fig["data"]] == ["Model A", "Model B"]
    assert list(fig["data"][0]["x"]) == ["0", "1", "2", "3", "unparsed", "failed"]
    assert list(fig["data"][0]["y"]) == [1, 0, 0, 2, 4, 0]
    assert "correctness" in fig["layout"]["title"]["text"]
    assert charts.score_distribution({}).to_dict()["layout"]["annotations"][0]["text"] == "No grades yet"


def test_agreement_matrix_counts_majority_against_judge():
    fig = charts.agreement_matrix(["a", "a", "b", "tie"], ["a", "b", "b", "a"]).to_dict()
    # rows = raters (A, B, TIE), columns = judge
    assert [list(r) for r in fig["data"][0]["z"]] == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]
