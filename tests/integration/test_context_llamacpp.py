"""The context check on real llama.cpp models: the count is the model's own (chat template and
tokenizer), equal to what llama.cpp then reports, and a prompt over ``n_ctx`` is refused with
that exact count, before llama.cpp is asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.types import GenerationParams, Message, Usage
from playground.services import Services
from playground.settings import Settings

pytestmark = pytest.mark.slow
N_CTX = 512


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("home")
    settings = Settings(home=root, database_url=f"sqlite:///{root / 'playground.db'}", n_ctx=N_CTX)
    made = Services.create(settings)
    yield made
    made.close()


@pytest.mark.parametrize("key", [SMOLLM2_KEY, GEMMA3_KEY])  # a chat template, and a base model's plain prompt
def test_the_count_is_the_one_llama_cpp_reports(services, key):
    messages = [Message("user", "Name three rivers of Brazil.")]
    params = GenerationParams(max_tokens=8, temperature=0, seed=1, system_prompt="Be brief.")
    with services.registry.use(key) as backend:
        counted = backend.count_prompt_tokens(messages, params)
        assert backend.context_window() == N_CTX
        usage = [e for e in backend.stream(messages, params) if isinstance(e, Usage)][0]
    assert counted == usage.prompt_tokens > 5


def test_a_prompt_over_n_ctx_is_refused_with_its_exact_size(services):
    prompt = "The river flows past the old mill and on to the sea. " * 60  # ~700 tokens for SmolLM2
    final = list(services.models.try_prompt(SMOLLM2_KEY, prompt, GenerationParams(max_tokens=16)))[-1]
    assert final.status == "error" and final.usage is None
    english = str(final.error)  # a Text, shown in the reader's language
    assert english.startswith(f"SmolLM2 135M Instruct takes at most {N_CTX} tokens")
    assert "this prompt alone is " in english and "about" not in english  # counted, not estimated
    with services.registry.use(SMOLLM2_KEY) as backend:
        exact = backend.count_prompt_tokens([Message("user", prompt)], GenerationParams())
    assert f"this prompt alone is {exact} tokens" in final.error


def test_a_prompt_that_leaves_too_little_room_for_the_answer_is_refused(services):
    prompt = "The river flows past the old mill and on to the sea. " * 30  # ~360 tokens: fits alone
    final = list(services.models.try_prompt(SMOLLM2_KEY, prompt, GenerationParams(max_tokens=300)))[-1]
    assert final.status == "error" and "lower Max tokens" in final.error and "asks for up to 300 more" in final.error
    fits = list(services.models.try_prompt(SMOLLM2_KEY, prompt, GenerationParams(max_tokens=16, temperature=0)))[-1]
    assert fits.status in ("ok", "cancelled") and fits.usage is not None
    assert (fits.usage.cost_usd, fits.usage.price_source) == (0.0, "local")
