"""Cost and time estimates on the fake backend: before a batch, a pre-generation and a judging
run (kept with the run), and the actual figures against them after."""

from __future__ import annotations

import pytest

from components.history_tab import HistoryController
from components.widgets import StoppableRun
from playground.arena.prompts import parse_typed
from playground.compare.batch import Table
from playground.compare.columns import ColumnConfig
from playground.errors import InvalidInput
from playground.estimates import MAX_TOKENS, MEASURED, RECENT, RULE_OF_THUMB
from playground.estimates_view import comparison_markdown, estimate_markdown
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.fake import count_tokens
from playground.models.types import GenerationParams

TEMPLATE = "What does this review of {{product}} complain about? {{review}}"
ROWS = [
    {"product": "Kettle", "review": "It is loud."},
    {"product": "Toaster", "review": "Burns the bread."},
    {"product": "Lamp", "review": "The switch is stiff."},
]


def columns(*keys, max_tokens=16):
    return [ColumnConfig(model_key=k, temperature=0.0, max_tokens=max_tokens) for k in keys]


def table(rows=ROWS):
    return Table("reviews.csv", list(rows[0]), [dict(r) for r in rows])


def test_a_batch_is_estimated_before_it_runs_and_compared_after(services):
    cols = columns(SMOLLM2_KEY, GEMMA3_KEY)
    before = services.estimates.for_batch(cols, TEMPLATE, table())
    assert before.calls == 6 and [m.calls for m in before.models] == [3, 3] and before.parallel
    # The fake backend has no tokenizer and these models no history yet: rule of thumb, max tokens as a bound.
    assert {(m.input_method, m.output_method) for m in before.models} == {(RULE_OF_THUMB, MAX_TOKENS)}
    assert before.output_tokens == 6 * 16 and before.seconds is None
    assert all(m.cost_usd == 0 for m in before.models)  # embedded models: $0 by choice, not unknown
    assert "no recent speed: time unknown" in estimate_markdown(before)

    *_, last = services.batch.run(cols, TEMPLATE, "", table(), estimate=before.to_dict())
    estimate, actual = services.estimates.against(last.run_id)
    assert estimate == before  # kept with the run
    prompts = [TEMPLATE.replace("{{product}}", r["product"]).replace("{{review}}", r["review"]) for r in ROWS]
    assert actual.calls == 6 and actual.prompt_tokens == 2 * sum(count_tokens(p) for p in prompts)
    assert actual.completion_tokens <= before.output_tokens and actual.elapsed_s is not None
    shown = comparison_markdown(estimate, actual)
    assert f"| **Total** | 6 → 6 | ~{before.input_tokens} → {actual.prompt_tokens} (" in shown
    history = HistoryController(services, StoppableRun(services.cancel_tokens)).show(last.run_id)
    assert shown in history and history.index(shown) < history.index("review")  # under the heading, in History
    plain = services.compare.start_run(columns(SMOLLM2_KEY), "Hi")[0]
    assert "Actual against estimate" not in HistoryController(services, StoppableRun(services.cancel_tokens)).show(
        plain
    )

    again = services.estimates.for_batch(cols, TEMPLATE, table())  # now each model has recent answers
    assert {(m.input_method, m.output_method) for m in again.models} == {(MEASURED, RECENT)}
    assert abs(again.input_tokens - actual.prompt_tokens) <= 6  # at most one token a call, from rounding
    assert all(m.seconds is not None and m.speed_samples == 3 for m in again.models)


def test_a_batch_estimate_refuses_what_the_run_would_refuse(services):
    with pytest.raises(InvalidInput, match="no column for"):
        services.estimates.for_batch(columns(SMOLLM2_KEY), "{{price}}", table())


def test_a_pregeneration_and_a_pairwise_judging_of_it_are_estimated_and_compared(services):
    arena = services.arena
    params = GenerationParams(max_tokens=24, temperature=0.0, system_prompt="Be brief.")
    prompts = parse_typed("Name a fruit.\nWhat is 2+2?")
    info = arena.create_evaluation("est", prompts, [SMOLLM2_KEY, GEMMA3_KEY], params, repeat_fraction=0.0)
    before = services.estimates.for_pregen(info.id)
    assert before.calls == 4 and before.output_tokens == 4 * 24 and not before.parallel
    arena.start_generation(info.id, before.to_dict())
    arena.jobs.wait(info.id, timeout=30)
    estimate, actual = services.estimates.against(services.estimates.pregen_run_id(info.id))
    assert estimate == before and actual.calls == 4
    # The system prompt is sent too, so the estimate counted it as the model will see it.
    assert actual.prompt_tokens == 2 * sum(count_tokens(f"Be brief. {p}") for p in ("Name a fruit.", "What is 2+2?"))
    assert services.estimates.for_pregen(info.id).calls == 0  # every answer is made
    pairwise = services.estimates.for_judge(SMOLLM2_KEY, "pairwise", "arena", info.id, None)
    assert pairwise.calls == 2 * info.battles == 4  # each battle twice, sides swapped
    final = list(services.judge.run_judge(SMOLLM2_KEY, "pairwise", "arena", info.id, None, estimate=pairwise.to_dict()))
    assert services.estimates.against(services.estimates.judge_run_id(final[-1].job_id))[1].calls == 4
    for not_an_id in (None, "", "abc"):  # what an API caller may send
        with pytest.raises(InvalidInput, match="Pick an evaluation"):
            services.estimates.for_pregen(not_an_id)
    with pytest.raises(InvalidInput, match="no longer exists"):  # not "nothing to run"
        services.estimates.for_pregen(info.id + 999)


def test_a_judging_run_is_estimated_and_compared(services):
    cols = [ColumnConfig(model_key=SMOLLM2_KEY, temperature=0.0), ColumnConfig(model_key=GEMMA3_KEY)]
    run_id, text = services.compare.start_run(cols, "What is the capital of France?")
    list(services.compare.stream_turn(run_id, cols, [[], []], text))
    before = services.estimates.for_judge(SMOLLM2_KEY, "rubric", "run", run_id, None)
    assert before.calls == 2 * 3 and [m.model_key for m in before.models] == [SMOLLM2_KEY]  # 2 answers, 3 criteria
    final = list(services.judge.run_judge(SMOLLM2_KEY, "rubric", "run", run_id, None, estimate=before.to_dict()))[-1]
    estimate, actual = services.estimates.against(services.estimates.judge_run_id(final.job_id))
    assert estimate == before and actual.calls == 6  # every reply parsed: no retries
    assert actual.completion_tokens <= estimate.output_tokens
    with pytest.raises(InvalidInput, match="judge model"):
        services.estimates.for_judge("", "rubric", "run", run_id, None)
