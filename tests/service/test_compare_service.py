"""Compare on the fake backend: runs, follow-ups, repeat and Stop, recorded in SQLite."""

from __future__ import annotations

import threading

import pytest

from playground.compare.columns import ColumnConfig
from playground.errors import InvalidInput
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.fake import count_tokens
from tests.service.fake_model import LONG_STORY_WORDS

QUESTION = "What is the capital of France?"


def cols(*keys, max_tokens=64, system=""):
    return [
        ColumnConfig(model_key=k, temperature=0.0, max_tokens=max_tokens, seed=1, system_prompt=system) for k in keys
    ]


def run_turn(services, columns, text, histories=None, run_id=None, cancel=None):
    if run_id is None:
        run_id, text = services.compare.start_run(columns, text)
    snapshots = list(services.compare.stream_turn(run_id, columns, histories or [[] for _ in columns], text, cancel))
    return run_id, snapshots


def generations(services, run_id):
    with services.uow_factory() as uow:
        return [
            (
                g.position,
                g.turn,
                g.status,
                g.output,
                g.prompt_tokens,
                g.completion_tokens,
                g.ttft_s,
                g.cost_usd,
                g.messages,
            )
            for g in uow.generations.list_for_run(run_id)
        ]


def test_a_run_answers_in_every_column_and_records_usage(services):
    columns = cols(SMOLLM2_KEY, GEMMA3_KEY, system="Be brief.")
    run_id, snapshots = run_turn(services, columns, QUESTION)
    final = snapshots[-1]
    assert [s.status for s in final] == ["ok", "ok"]
    assert [s.text for s in final] == [
        "The capital of France is Paris, says SmolLM2 135M Instruct.",
        "The capital of France is Paris, says Gemma 3 270M (base).",
    ]
    assert sum(all(s.done for s in snap) for snap in snapshots) == 1  # the final snapshot comes once
    rows = generations(services, run_id)
    assert [(r[0], r[2], r[3]) for r in rows] == [(0, "ok", final[0].text), (1, "ok", final[1].text)]
    for _position, _, _, output, prompt_tokens, completion_tokens, ttft, cost, _messages in rows:
        assert prompt_tokens == count_tokens("Be brief.") + count_tokens(QUESTION)  # the system prompt is sent too
        assert completion_tokens == count_tokens(output) and ttft is not None and ttft >= 0
        assert cost == 0.0  # embedded models run locally: $0, by choice (issue 15), not "unknown"
    assert services.compare.load_run(run_id).column_names == ["SmolLM2 135M Instruct", "Gemma 3 270M (base)"]


def test_a_priced_endpoint_reports_its_cost(services):
    endpoint = services.models.add_endpoint(
        "Priced", "http://127.0.0.1:9/v1", "m", price_input_per_m=1.0, price_output_per_m=2.0
    )
    _, snapshots = run_turn(services, cols(endpoint.key), QUESTION)
    usage = snapshots[-1][0].usage
    assert usage.cost_usd == pytest.approx((usage.prompt_tokens * 1.0 + usage.completion_tokens * 2.0) / 1e6)


def test_columns_stream_together(make_services):
    services = make_services(chunk_delay_s=0.01)
    _, snapshots = run_turn(services, cols(SMOLLM2_KEY, SMOLLM2_KEY, max_tokens=40), "Tell me a long story about rain.")
    assert any(all(s.status == "running" and s.text for s in snap) for snap in snapshots)
    assert [s.usage.finish_reason for s in snapshots[-1]] == ["length", "length"]
    assert [s.usage.completion_tokens for s in snapshots[-1]] == [40, 40]


def test_follow_up_uses_each_columns_own_history(services):
    columns = cols(SMOLLM2_KEY, GEMMA3_KEY)
    run_id, first = run_turn(services, columns, "My name is Ada.")
    histories = [
        [{"role": "user", "content": "My name is Ada."}, {"role": "assistant", "content": first[-1][0].text}],
        [{"role": "user", "content": "My name is Bob."}, {"role": "assistant", "content": first[-1][1].text}],
    ]
    _, second = run_turn(services, columns, "What is my name?", histories, run_id)
    assert [s.text for s in second[-1]] == ["Your name is Ada.", "Your name is Bob."]
    follow_ups = [r for r in generations(services, run_id) if r[1] == 1]
    assert [r[0] for r in follow_ups] == [0, 1]
    assert follow_ups[0][8][-1] == {"role": "user", "content": "What is my name?"} and "Bob" not in str(
        follow_ups[0][8]
    )
    saved = services.compare.load_run(run_id)
    assert [len(h) for h in saved.histories] == [4, 4] and saved.histories[1][-1]["content"] == "Your name is Bob."


def test_repeat_measures_stability(services):
    column = ColumnConfig(model_key=SMOLLM2_KEY, temperature=0.0, max_tokens=32)
    results, stats = services.compare.repeat(column, [], "Invent a name for a cat.", 3)
    assert [r.status for r in results] == ["ok"] * 3
    assert stats.runs == 3 and stats.distinct_outputs == 1  # the script is deterministic
    assert stats.total_s.low <= stats.total_s.mean <= stats.total_s.high
    with services.uow_factory() as uow:
        run = uow.runs.list(kind="repeat", limit=10)[0]
        assert sorted(g.attempt for g in run.generations) == [0, 1, 2]
    with pytest.raises(InvalidInput, match="between 2 and 20"):
        services.compare.repeat(column, [], "x", 50)


def test_stop_cancels_every_column_and_keeps_the_partial_answers(make_services):
    services = make_services(chunk_delay_s=0.002)
    cancel = threading.Event()
    columns = cols(SMOLLM2_KEY, GEMMA3_KEY, max_tokens=LONG_STORY_WORDS)
    run_id, text = services.compare.start_run(columns, "Write a long story about a dragon.")
    final = None
    for snap in services.compare.stream_turn(run_id, columns, [[], []], text, cancel):
        if any(s.text for s in snap):
            cancel.set()
        final = snap
    assert [s.status for s in final] == ["cancelled", "cancelled"]
    assert all(s.usage.finish_reason == "cancelled" and s.usage.completion_tokens < LONG_STORY_WORDS for s in final)
    assert [(r[2], r[3]) for r in generations(services, run_id)] == [("cancelled", s.text) for s in final]


def test_stop_sequences_end_the_answer_before_the_sequence(services):
    column = ColumnConfig(model_key=SMOLLM2_KEY, temperature=0.0, max_tokens=64, stop=("Paris",))
    _, snapshots = run_turn(services, [column], QUESTION)
    state = snapshots[-1][0]
    assert state.text == "The capital of France is " and state.usage.finish_reason == "stop"


def test_bad_inputs_are_refused_before_anything_runs(services):
    with pytest.raises(InvalidInput, match="Type a prompt"):
        services.compare.start_run(cols(SMOLLM2_KEY), "   ")
    with pytest.raises(InvalidInput, match="at least one column"):
        services.compare.start_run([], "Hi")
    with services.uow_factory() as uow:
        assert uow.runs.list(limit=10) == []


def test_a_failing_column_does_not_stop_the_others(services):
    broken = services.models.add_endpoint("Broken endpoint", "http://127.0.0.1:9/v1", "m")
    run_id, snapshots = run_turn(services, cols(broken.key, SMOLLM2_KEY), QUESTION)
    final = snapshots[-1]
    assert final[0].status == "error" and "the script says so" in final[0].error
    assert final[1].status == "ok" and "Paris" in final[1].text
    assert [r[2] for r in generations(services, run_id)] == ["error", "ok"]
