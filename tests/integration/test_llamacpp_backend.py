"""The llama.cpp backend on the real embedded GGUF models."""

import threading

import pytest

from playground.errors import ModelLoadError
from playground.models.llamacpp import LlamaCppBackend
from playground.models.types import GenerationParams, Message, Usage
from tests.integration.models_fixtures import gemma_spec, model_cache, smollm2_spec

pytestmark = pytest.mark.slow


def collect(backend, messages, params, cancel=None):
    events = list(backend.stream(messages, params, cancel))
    *chunks, usage = events
    assert isinstance(usage, Usage) and all(isinstance(c, str) for c in chunks)
    return "".join(chunks), usage, chunks


@pytest.fixture(scope="module")
def smol(smollm2_spec, model_cache):
    backend = LlamaCppBackend(smollm2_spec, cache_dir=model_cache, n_ctx=2048)
    backend.load()
    yield backend
    backend.unload()


def test_streams_real_text_with_exact_usage(smol):
    question = [Message("user", "What is the capital of France? Answer in one sentence.")]
    text, usage, chunks = collect(smol, question, GenerationParams(max_tokens=48, temperature=0, seed=1))
    assert "Paris" in text
    assert len(chunks) > 2
    # Our counts must equal llama.cpp's own accounting of the same request.
    reference = smol._llm.create_chat_completion(
        messages=[m.to_dict() for m in question], max_tokens=48, temperature=0, seed=1
    )
    assert reference["choices"][0]["message"]["content"] == text
    assert usage.prompt_tokens == reference["usage"]["prompt_tokens"]
    assert usage.completion_tokens == reference["usage"]["completion_tokens"]
    assert 0 < usage.ttft_s <= usage.total_s
    assert usage.tokens_per_s and usage.tokens_per_s > 1
    assert usage.cost_usd is None  # a local model has no price: unknown, never 0
    assert usage.finish_reason == "stop"


def test_max_tokens_and_length_finish(smol):
    _, usage, _ = collect(
        smol, [Message("user", "Tell me a long story about dragons.")], GenerationParams(max_tokens=6, seed=3)
    )
    assert usage.completion_tokens == 6
    assert usage.finish_reason == "length"


def test_same_seed_same_text(smol):
    params = GenerationParams(max_tokens=30, temperature=0.9, seed=1234)
    prompt = [Message("user", "Invent a name for a cat.")]
    assert collect(smol, prompt, params)[0] == collect(smol, prompt, params)[0]


def test_system_prompt_reaches_the_model(smol):
    question = [Message("user", "What colour is the sky?")]
    system = "You are a pirate. Answer like a pirate, in one short sentence."
    plain_text, plain, _ = collect(smol, question, GenerationParams(max_tokens=20, temperature=0, seed=1))
    pirate_text, pirate, _ = collect(
        smol, question, GenerationParams(system_prompt=system, max_tokens=20, temperature=0, seed=1)
    )
    rendered = smol._formatter(
        messages=[{"role": "system", "content": system}, *[m.to_dict() for m in question]]
    ).prompt
    assert system in rendered
    assert pirate.prompt_tokens == len(smol._llm.tokenize(rendered.encode(), add_bos=False, special=True))
    assert pirate_text != plain_text


def test_stop_sequence_cuts_the_answer(smol):
    prompt = [Message("user", "Count from 1 to 10 separated by commas.")]
    full, _, _ = collect(smol, prompt, GenerationParams(max_tokens=40, temperature=0, seed=1))
    assert "4" in full
    cut, usage, _ = collect(smol, prompt, GenerationParams(max_tokens=40, temperature=0, seed=1, stop=("4",)))
    assert "4" not in cut and full.startswith(cut)
    assert usage.finish_reason == "stop"


def test_cancel_stops_early(smol):
    cancel = threading.Event()
    pieces = []
    for event in smol.stream(
        [Message("user", "Write a very long essay about the ocean.")], GenerationParams(max_tokens=400), cancel
    ):
        if isinstance(event, Usage):
            usage = event
            break
        pieces.append(event)
        if len(pieces) == 3:
            cancel.set()
    assert usage.finish_reason == "cancelled"
    assert usage.completion_tokens == 3 and len(pieces) == 3


def test_gemma_base_model_uses_plain_completion(gemma_spec, model_cache):
    backend = LlamaCppBackend(gemma_spec, cache_dir=model_cache, n_ctx=1024)
    try:
        text, usage, _ = collect(
            backend,
            [Message("user", "The three primary colours are red,")],
            GenerationParams(max_tokens=12, temperature=0, seed=1),
        )
        assert text.strip()
        backend._llm.reset()  # evaluate the prompt afresh, as the first call did: no reused prefix
        raw = backend._llm.create_completion("The three primary colours are red,", max_tokens=12, temperature=0, seed=1)
        assert raw["choices"][0]["text"] == text
        assert usage.prompt_tokens == raw["usage"]["prompt_tokens"]
        assert usage.completion_tokens == raw["usage"]["completion_tokens"]
    finally:
        backend.unload()


def test_not_a_gguf_fails_to_load_plainly(tmp_path, smollm2_spec, model_cache):
    from dataclasses import replace

    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"GGUF" + b"\x00" * 64)  # right signature, broken body
    backend = LlamaCppBackend(replace(smollm2_spec, key="local/x", path=str(bogus)), cache_dir=model_cache)
    with pytest.raises(ModelLoadError, match="could not load bogus.gguf"):
        backend.load()
    assert not backend.loaded
