import pytest

from playground.models.base import StopSequenceFilter, UsageClock, chat_messages, plain_completion_prompt
from playground.models.types import GenerationParams, Message, Price, Usage


def feed_all(stops, pieces):
    f = StopSequenceFilter(stops)
    out = "".join(f.feed(p) for p in pieces)
    return out + f.flush(), f.stopped


def test_stop_filter_passes_text_without_stops():
    assert feed_all([], ["ab", "cd"]) == ("abcd", False)


def test_stop_filter_cuts_at_stop_split_across_chunks():
    assert feed_all(["###"], ["Hello #", "#", "# more"]) == ("Hello ", True)


def test_stop_filter_releases_held_prefix_that_was_not_a_stop():
    assert feed_all(["END"], ["The E", "nd is near"]) == ("The End is near", False)


def test_stop_filter_earliest_of_several_stops_wins():
    assert feed_all(["\nUser:", "STOP"], ["a STOP b\nUser: c"]) == ("a ", True)


def test_chat_messages_prepends_system_prompt_once():
    params = GenerationParams(system_prompt="Be brief.")
    msgs = chat_messages([Message("user", "hi")], params)
    assert msgs == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    own = chat_messages([Message("system", "Mine"), Message("user", "hi")], params)
    assert [m["content"] for m in own] == ["Mine", "hi"]


def test_plain_prompt_single_turn_is_continued_as_text():
    prompt, stops = plain_completion_prompt([{"role": "user", "content": "Once upon a time"}])
    assert prompt == "Once upon a time" and stops == ()


def test_plain_prompt_conversation_becomes_transcript():
    prompt, stops = plain_completion_prompt(
        [
            {"role": "system", "content": "Friendly."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Name a fruit"},
        ]
    )
    assert prompt == "Friendly.\n\nUser: Hi\nAssistant: Hello\nUser: Name a fruit\nAssistant:"
    assert stops == ("\nUser:",)


def test_tokens_per_s_is_decode_speed_after_first_token():
    usage = Usage(prompt_tokens=10, completion_tokens=11, ttft_s=0.5, total_s=1.5)
    assert usage.tokens_per_s == pytest.approx(10.0)
    assert Usage(prompt_tokens=1, completion_tokens=1, ttft_s=0.1, total_s=0.2).tokens_per_s is None
    assert Usage(prompt_tokens=None, completion_tokens=None, ttft_s=None, total_s=0.2).tokens_per_s is None


def test_cost_is_unknown_without_price_and_computed_with_one():
    clock = UsageClock()
    assert clock.finish(prompt_tokens=100, completion_tokens=50, price=None, finish_reason="stop").cost_usd is None
    priced = clock.finish(prompt_tokens=1_000, completion_tokens=2_000, price=Price(0.15, 0.60), finish_reason="stop")
    assert priced.cost_usd == pytest.approx((1_000 * 0.15 + 2_000 * 0.60) / 1e6)
    unknown_tokens = clock.finish(prompt_tokens=None, completion_tokens=5, price=Price(1, 1), finish_reason="stop")
    assert unknown_tokens.cost_usd is None


def test_params_round_trip_through_dict():
    params = GenerationParams(system_prompt="s", temperature=0.2, top_p=0.9, max_tokens=7, seed=3, stop=("a", "b"))
    assert GenerationParams.from_dict(params.to_dict()) == params


def test_column_config_round_trips_and_builds_params():
    from playground.compare.columns import ColumnConfig, parse_stop

    column = ColumnConfig(
        model_key="m",
        system_prompt="s",
        temperature=0.3,
        top_p=0.8,
        max_tokens=9,
        seed=4,
        stop=parse_stop("END\n\\n\n  \n"),
    )
    assert ColumnConfig.from_dict(column.to_dict()) == column
    assert column.params() == GenerationParams(
        system_prompt="s", temperature=0.3, top_p=0.8, max_tokens=9, seed=4, stop=("END", "\n")
    )
