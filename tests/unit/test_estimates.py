"""The cost and time estimator, pure: input and output tokens, cost, time, and actual against estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from playground.estimates import (
    MAX_TOKENS,
    MEASURED,
    RECENT,
    RULE_OF_THUMB,
    TOKENIZER,
    ModelFacts,
    PastCall,
    PlannedCall,
    RunEstimate,
    UsedCall,
    actual_run,
    estimate_run,
    fit_prompts,
    recent_length,
    recent_speed,
    rule_of_thumb_tokens,
)
from playground.estimates_view import comparison_markdown, estimate_line, estimate_markdown
from playground.models.types import BackendKind, ModelSource, ModelSpec, Price


def spec(key="m", price=None, name=None):
    return ModelSpec(
        key=key, name=name or key.upper(), backend=BackendKind.OPENAI, source=ModelSource.USER, price=price
    )


def call(text="x" * 40, key="m", max_tokens=32, system=""):
    messages = ({"role": "system", "content": system},) if system else ()
    return PlannedCall(key, (*messages, {"role": "user", "content": text}), max_tokens)


def past(chars=40, prompt=20, completion=10, max_tokens=32, ttft=0.5, tps=20.0, reported=True):
    return PastCall(chars, prompt, completion, max_tokens, ttft, tps, reported)


def test_rule_of_thumb_is_four_characters_a_token_plus_each_messages_markers():
    assert rule_of_thumb_tokens(call("x" * 40)) == 10 + 4 + 3
    assert rule_of_thumb_tokens(call("x" * 41, system="abc")) == 11 + 2 * 4 + 3  # 44 characters in all


def test_the_models_own_tokenizer_wins_and_says_so():
    counted = estimate_run([call(), call()], {"m": ModelFacts(spec(), [past()])}, lambda s, m: 25)
    model = counted.models[0]
    assert (model.input_tokens, model.input_method) == (50, TOKENIZER)


def test_without_a_tokenizer_recent_prompts_measure_the_model_else_the_rule_of_thumb():
    no_count = lambda s, m: None  # noqa: E731 - a tokenizer with nothing to hand
    measured = estimate_run([call("x" * 40)], {"m": ModelFacts(spec(), [past(40, 30)] * 3)}, no_count)
    assert (measured.models[0].input_tokens, measured.models[0].input_method) == (30, MEASURED)
    fresh = estimate_run([call("x" * 40)], {"m": ModelFacts(spec())}, no_count)
    assert (fresh.models[0].input_tokens, fresh.models[0].input_method) == (17, RULE_OF_THUMB)
    counted_by_us = [past(40, 30, reported=False)]  # the app counted these itself: they measure nothing
    assert estimate_run([call()], {"m": ModelFacts(spec(), counted_by_us)}).models[0].input_method == RULE_OF_THUMB


def test_prompts_of_varied_lengths_give_the_models_overhead_and_tokens_per_character():
    history = [past(chars, 30 + chars // 3) for chars in (30, 90, 300, 600)]  # 30-token template, 3 chars a token
    fit = fit_prompts(history)
    assert fit is not None and fit.per_char == pytest.approx(1 / 3, rel=0.02)
    assert fit.overhead == pytest.approx(30, abs=1)
    assert fit.tokens(1200) == pytest.approx(430, abs=3)


def test_alike_prompts_put_the_rest_down_to_overhead_or_a_denser_tokenizer():
    overhead = fit_prompts([past(40, 40), past(44, 41)])  # 10 tokens of text at 4 chars a token, 30 of template
    assert overhead is not None and overhead.per_char == 0.25 and overhead.tokens(60) == 45
    dense = fit_prompts([past(40, 5), past(42, 5)])  # fewer tokens than the rule: its own ratio, no overhead
    assert dense is not None and dense.overhead == 0 and dense.tokens(41) == 5


def test_output_is_the_recent_mean_for_a_similar_max_tokens_capped_or_max_tokens_as_a_bound():
    history = [past(completion=n, max_tokens=64) for n in (10, 20, 30)]
    assert recent_length(history, 64) == 20
    assert recent_length(history, 16) is None  # asked with four times as many: not similar
    assert recent_length(history[:2], 64) is None  # too few answers
    assert recent_length([past(completion=60, max_tokens=64)] * 3, 40) == 40  # never above max tokens
    recent = estimate_run([call(max_tokens=64)] * 2, {"m": ModelFacts(spec(), history)}).models[0]
    assert (recent.output_tokens, recent.output_method) == (40, RECENT)
    bound = estimate_run([call(max_tokens=16)] * 2, {"m": ModelFacts(spec(), history)}).models[0]
    assert (bound.output_tokens, bound.output_method) == (32, MAX_TOKENS)


def test_time_comes_from_recent_speed_plus_the_load_and_is_unknown_without_it():
    history = [past(ttft=t, tps=s, completion=21, max_tokens=32) for t, s in ((0.5, 20.0), (1.0, 10.0), (0.7, 40.0))]
    speed = recent_speed(history)
    assert speed is not None and (speed.ttft_s, speed.tokens_per_s, speed.samples) == (0.7, 20.0, 3)
    model = estimate_run([call(max_tokens=32)] * 2, {"m": ModelFacts(spec(), history, load_s=3.0)}).models[0]
    assert model.seconds == pytest.approx(2 * (0.7 + 20 / 20.0) + 3.0)
    unknown = estimate_run([call()], {"m": ModelFacts(spec())})
    assert unknown.models[0].seconds is None and unknown.seconds is None
    assert "no recent speed: time unknown" in estimate_markdown(unknown)


def test_cost_per_model_and_total_and_an_unknown_price_is_never_zero():
    facts = {"a": ModelFacts(spec("a", Price(1.0, 2.0))), "b": ModelFacts(spec("b"))}
    calls = [call(key="a", max_tokens=100), call(key="b", max_tokens=100)]
    estimate = estimate_run(calls, facts)
    priced, unpriced = estimate.models
    assert priced.cost_usd == pytest.approx((17 * 1.0 + 100 * 2.0) / 1e6)
    assert unpriced.cost_usd is None and estimate.cost_usd is None
    assert estimate.known_cost_usd == pytest.approx(priced.cost_usd) and estimate.unpriced == 1
    shown = estimate_markdown(estimate)
    assert "cost unknown" in shown and "+ cost unknown for 1 model(s)" in shown
    assert "| B | 1 | ~17 | ≤ 100 | cost unknown |" in shown  # not $0


def test_side_by_side_columns_take_between_the_slowest_and_the_sum():
    history = [past(ttft=1.0, tps=10.0, completion=11, max_tokens=32)] * 3
    facts = {"a": ModelFacts(spec("a"), history), "b": ModelFacts(spec("b"), history)}
    estimate = estimate_run([call(key="a"), call(key="b"), call(key="a")], facts, parallel=True)
    assert [m.calls for m in estimate.models] == [2, 1]
    assert estimate.side_by_side_seconds == pytest.approx(4.0) and estimate.seconds == pytest.approx(6.0)
    assert "~4.0 s to 6.0 s (columns answer side by side)" in estimate_line(estimate)


def test_an_estimate_survives_the_round_trip_through_json():
    history = [past()] * 3
    estimate = estimate_run([call()], {"m": ModelFacts(spec(price=Price(0.5, 1.5)), history)}, after_generation_id=7)
    assert RunEstimate.from_dict(estimate.to_dict()) == estimate


def test_actual_adds_up_each_models_answers_and_keeps_unknowns_unknown():
    start = datetime(2025, 1, 1, tzinfo=UTC)
    used = [
        UsedCall("a", "A", 20, 5, 0.001, 1.0, start, start + timedelta(seconds=1)),
        UsedCall("a", "A", 22, 7, 0.002, 2.0, start, start + timedelta(seconds=3)),
        UsedCall("b", "B", 30, 9, None, 1.5, start + timedelta(seconds=1), start + timedelta(seconds=4)),
        UsedCall("b", "B", None, None, None, None, start, None),  # failed before any usage
    ]
    actual = actual_run(used)
    a, b = actual.models
    assert (a.calls, a.prompt_tokens, a.completion_tokens, a.seconds) == (2, 42, 12, 3.0)
    assert a.cost_usd == pytest.approx(0.003) and b.cost_usd is None and actual.cost_usd is None
    assert (b.calls, b.prompt_tokens, b.uncounted) == (2, 30, 1)
    assert actual.elapsed_s == 4.0 and actual.calls == 4


def test_actual_against_estimate_says_which_is_which_in_both_languages():
    facts = {"a": ModelFacts(spec("a", Price(1.0, 2.0)))}
    estimate = estimate_run([call(key="a", max_tokens=10)] * 2, facts)
    actual = actual_run([UsedCall("a", "A", 20, 8, 3.6e-5, 0.5), UsedCall("a", "A", 20, 10, 4e-5, 0.5)])
    english = comparison_markdown(estimate, actual)
    assert "Actual against estimate" in english and "Input tokens: estimate → actual" in english
    assert "| A | 2 → 2 | ~34 → 40 (+18%) | ≤ 20 → 18 |" in english
    portuguese = comparison_markdown(estimate, actual, "pt-BR")
    assert "Real comparado com a estimativa" in portuguese and "Tokens de entrada: estimativa → real" in portuguese
    assert "(+18%)" in portuguese and "US$ 0,000" in portuguese
    assert "Estimate before running (every figure here is an estimate)" in estimate_markdown(estimate)
    assert "Estimativa antes de executar" in estimate_markdown(estimate, "pt-BR")


def test_the_tokenizer_is_only_used_for_a_llama_cpp_gguf_on_disk(tmp_path):
    from playground.estimate_tokens import PromptTokenCounter

    asked = [{"role": "user", "content": "Hello"}]
    gguf = ModelSpec(
        key="g", name="G", backend=BackendKind.LLAMA_CPP, source=ModelSource.USER, path=str(tmp_path / "no.gguf")
    )
    assert PromptTokenCounter().count(spec(), asked) is None  # an endpoint: no tokenizer to hand
    assert PromptTokenCounter().count(gguf, asked) is None  # no such file (yet): estimated instead
    (tmp_path / "no.gguf").write_bytes(b"not a gguf")
    assert PromptTokenCounter().count(gguf, asked) is None  # unreadable: estimated instead, not an error
    assert PromptTokenCounter(kinds=()).count(gguf, asked) is None  # a fake backend stands in for llama.cpp
