"""The fake backend behind the fast tier behaves like a real one: chunks, limits, cancel, usage."""

import threading

import pytest

from playground.models.fake import FakeBackend, count_tokens, fake_backends
from playground.models.types import BackendKind, GenerationParams, Message, ModelSource, ModelSpec, Price, Usage

SPEC = ModelSpec(key="fake/m", name="Fake", backend=BackendKind.LLAMA_CPP, source=ModelSource.EMBEDDED)


def run(backend, params=GenerationParams(), cancel=None, text="tell me something"):
    *chunks, usage = backend.stream([Message("user", text)], params, cancel)
    assert isinstance(usage, Usage) and all(isinstance(c, str) for c in chunks)
    return "".join(chunks), chunks, usage


def test_streams_the_scripted_answer_word_by_word_with_measured_usage():
    backend = FakeBackend(SPEC, lambda spec, messages: "one two three four")
    text, chunks, usage = run(backend, GenerationParams(system_prompt="Be kind."))
    assert text == "one two three four" and chunks == ["one", " two", " three", " four"]
    assert (usage.prompt_tokens, usage.completion_tokens, usage.finish_reason) == (
        count_tokens("Be kind.") + 3,
        4,
        "stop",
    )
    assert 0 <= usage.ttft_s <= usage.total_s and usage.cost_usd is None and backend.loaded


def test_the_default_script_echoes_the_prompt_with_the_model_name():
    assert run(FakeBackend(SPEC))[0] == "Fake answers: tell me something"


def test_max_tokens_cuts_the_answer():
    text, _, usage = run(FakeBackend(SPEC, lambda *_: "a b c d e"), GenerationParams(max_tokens=2))
    assert text == "a b" and (usage.completion_tokens, usage.finish_reason) == (2, "length")


def test_a_stop_sequence_ends_the_answer_and_is_not_shown():
    text, _, usage = run(FakeBackend(SPEC, lambda *_: "Answer: yes\nUser: more"), GenerationParams(stop=("\nUser:",)))
    assert text == "Answer: yes" and usage.finish_reason == "stop"


def test_cancel_stops_between_chunks():
    cancel = threading.Event()
    stream = FakeBackend(SPEC, lambda *_: "a b c d e").stream([Message("user", "x")], GenerationParams(), cancel)
    assert next(stream) == "a"
    cancel.set()
    rest = list(stream)
    assert rest[-1].finish_reason == "cancelled" and rest[-1].completion_tokens == 1 and rest[:-1] == []


def test_a_priced_model_has_a_cost():
    spec = ModelSpec(
        key="entry/1", name="Paid", backend=BackendKind.OPENAI, source=ModelSource.USER, price=Price(1.0, 2.0)
    )
    _, _, usage = run(FakeBackend(spec, lambda *_: "a b"))
    assert usage.cost_usd == pytest.approx((usage.prompt_tokens * 1.0 + 2 * 2.0) / 1e6)


def test_factories_cover_every_backend_kind():
    factories = fake_backends()
    assert set(factories) == set(BackendKind)
    assert all(isinstance(factory(SPEC), FakeBackend) for factory in factories.values())
