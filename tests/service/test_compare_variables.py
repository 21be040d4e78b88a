"""Compare's variable boxes: a value follows its variable's name, never the box it sat in,
whenever the boxes are filled again (a prompt edit, a loaded template or the demo, a reopened run)."""

from __future__ import annotations

from components.compare_tab import CompareController
from components.widgets import StoppableRun
from playground.compare.batch import demo_files
from playground.compare.columns import ColumnConfig
from playground.compare.templates import MAX_VARIABLES, carry_values, template_variables
from playground.models.embedded import SMOLLM2_KEY


def controller(services) -> CompareController:
    return CompareController(services, StoppableRun(services.cancel_tokens), select_tab=False)


def shown(updates) -> dict[str, str]:
    """{label: value} of the visible boxes, from (names, *box updates)."""
    names, boxes = updates[0], updates[1:]
    assert len(boxes) == MAX_VARIABLES and [b.label for b in boxes[: len(names)]] == names
    assert all(not b.visible and b.value == "" for b in boxes[len(names) :])
    return {b.label: b.value for b in boxes[: len(names)]}


def test_values_are_carried_by_name():
    assert carry_values(["review"], ["Great kettle"], ["product", "review"]) == ["", "Great kettle"]
    assert carry_values(["a", "b"], ["1", "2"], ["b", "c", "a"]) == ["2", "", "1"]
    assert carry_values([], ["stale"], ["a"]) == [""]  # a box with no known name gives nothing away


def test_loading_the_demo_keeps_the_typed_value_with_its_variable(services):
    compare = controller(services)
    own = compare.show_variables("Summarise: {{review}}", [], *[""] * MAX_VARIABLES)
    assert shown(own) == {"review": ""}
    typed = ["Loud but fast", *[""] * (MAX_VARIABLES - 1)]
    _, demo_body, _ = demo_files()
    assert template_variables(demo_body)[:2] == ["product", "review"]  # the order that used to swap the value
    assert shown(compare.show_variables(demo_body, own[0], *typed)) == {"product": "", "review": "Loud but fast"}


def test_a_reopened_run_puts_each_value_back_in_its_own_box(services):
    body = "Compare {{product}} with {{rival}} for {{review}}"
    column = ColumnConfig(model_key=SMOLLM2_KEY, temperature=0.0, max_tokens=8, seed=1)
    values = {"review": "a picky buyer", "rival": "the old model", "product": "the kettle"}
    run_id, _ = services.compare.start_run([column], body, values)
    updates = controller(services).reopen(run_id)
    assert updates[0] == body
    names_at = len(updates) - MAX_VARIABLES - 1
    assert shown(updates[names_at:]) == values
