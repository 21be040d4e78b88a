"""A request that cannot fit the model's context window is refused before it is sent: counted
exactly where the backend has a tokenizer, else estimated (and then said to be "about")."""

from __future__ import annotations

import pytest

from playground.generation import ensure_fits
from playground.models.context_window import (
    ESTIMATE_CHARS_PER_TOKEN,
    ContextTooLong,
    PromptSize,
    check_fits,
    estimate_prompt_tokens,
    estimate_tokens,
)
from playground.models.fake import FakeBackend
from playground.models.types import BackendKind, GenerationParams, Message, ModelSource, ModelSpec


def test_the_estimate_is_four_characters_a_token_plus_each_messages_markers():
    assert ESTIMATE_CHARS_PER_TOKEN == 4
    assert estimate_tokens("") == 0 and estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2
    messages = [{"role": "system", "content": "x" * 40}, {"role": "user", "content": "y" * 400}]
    assert estimate_prompt_tokens(messages) == (10 + 4) + (100 + 4)


def test_a_request_that_fits_exactly_is_sent():
    check_fits("M", 1000, PromptSize(744, True), 256)  # 744 + 256 = 1000: fits
    check_fits("M", None, PromptSize(10**9, False), 10**9)  # no window known: nothing to check


def test_an_answer_that_would_not_fit_names_the_model_window_and_size():
    with pytest.raises(ContextTooLong) as refused:
        check_fits("SmolLM2", 4096, PromptSize(3900, True), 256)
    english = str(refused.value)
    assert english.startswith("SmolLM2 takes at most 4,096 tokens (prompt and answer together)")
    assert "this prompt is 3,900 tokens and asks for up to 256 more, 4,156 in all" in english
    assert "Nothing was sent" in english and "about" not in english
    portuguese = refused.value.message_in("pt-BR")
    assert "SmolLM2 aceita no máximo 4.096 tokens" in portuguese and "4.156 ao todo" in portuguese


def test_an_estimated_size_says_about_and_how_it_was_estimated():
    with pytest.raises(ContextTooLong) as refused:
        check_fits("gpt-4o-mini", 128000, PromptSize(150000, False), 256)
    assert "this prompt alone is about 150,000 tokens (estimated at 4 characters a token)" in str(refused.value)
    assert "cerca de 150.000 tokens" in refused.value.message_in("pt-BR")


class CountingBackend(FakeBackend):
    def __init__(self, spec, window, exact):
        super().__init__(spec)
        self.window, self.exact = window, exact

    def context_window(self):
        return self.window

    def count_prompt_tokens(self, messages, params):
        return self.exact


SPEC = ModelSpec("entry/1", "Remote", BackendKind.OPENAI, ModelSource.USER, context_length=1000)
ASK = [Message("user", "z" * 3600)]  # about 900 tokens, + 4 for the message's markers


def test_the_shared_check_estimates_where_no_tokenizer_is_at_hand():
    ensure_fits(SPEC, FakeBackend(SPEC), ASK, GenerationParams(max_tokens=96))  # 904 + 96 = 1000
    with pytest.raises(ContextTooLong, match="about 904 tokens"):
        ensure_fits(SPEC, FakeBackend(SPEC), ASK, GenerationParams(max_tokens=97))
    with pytest.raises(ContextTooLong, match="about"):  # the system prompt is counted too
        ensure_fits(SPEC, FakeBackend(SPEC), ASK, GenerationParams(max_tokens=96, system_prompt="Be brief."))


def test_the_backends_own_window_and_exact_count_win():
    backend = CountingBackend(SPEC, window=2048, exact=2000)  # e.g. llama.cpp: n_ctx and its tokenizer
    ensure_fits(SPEC, backend, ASK, GenerationParams(max_tokens=48))
    with pytest.raises(ContextTooLong) as refused:
        ensure_fits(SPEC, backend, ASK, GenerationParams(max_tokens=49))
    assert "2,048 tokens" in str(refused.value) and "this prompt is 2,000 tokens" in str(refused.value)
    no_window = ModelSpec("embedded/x", "Tiny", BackendKind.TRANSFORMERS, ModelSource.EMBEDDED)
    ensure_fits(no_window, FakeBackend(no_window), [Message("user", "z" * 10**6)], GenerationParams())
