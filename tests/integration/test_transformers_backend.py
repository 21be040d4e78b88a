"""The transformers backend on SmolLM2 converted from its GGUF, with and without a PEFT adapter."""

import pytest

from playground.errors import InvalidInput
from playground.generation import ensure_fits
from playground.models.context_window import ContextTooLong
from playground.models.gguf_convert import convert_gguf, is_converted
from playground.models.transformers_backend import TransformersBackend
from playground.models.types import BackendKind, GenerationParams, Message, ModelSource, ModelSpec, Usage
from tests.integration.models_fixtures import model_cache, smollm2_gguf

pytestmark = pytest.mark.slow
QUESTION = [Message("user", "What is the capital of France?")]


def collect(backend, params):
    *chunks, usage = list(backend.stream(QUESTION, params))
    assert isinstance(usage, Usage)
    return "".join(chunks), usage


@pytest.fixture(scope="module")
def converted(smollm2_gguf, model_cache):
    folder = convert_gguf(smollm2_gguf, model_cache)
    assert is_converted(folder) and (folder / "config.json").is_file()
    return folder


def spec_for(folder, adapter=None):
    return ModelSpec(
        key="test/hf",
        name="SmolLM2 (HF)",
        backend=BackendKind.TRANSFORMERS,
        source=ModelSource.USER,
        path=str(folder),
        adapter_path=str(adapter) if adapter else None,
    )


def test_conversion_is_cached(smollm2_gguf, model_cache, converted):
    stamp = (converted / "config.json").stat().st_mtime_ns
    assert convert_gguf(smollm2_gguf, model_cache) == converted
    assert (converted / "config.json").stat().st_mtime_ns == stamp


def test_streams_real_text(converted, model_cache):
    backend = TransformersBackend(spec_for(converted), cache_dir=model_cache)
    text, usage = collect(backend, GenerationParams(max_tokens=24, temperature=0))
    assert "Paris" in text
    assert usage.prompt_tokens > 5 and 0 < usage.completion_tokens <= 24
    assert 0 < usage.ttft_s <= usage.total_s
    assert usage.cost_usd is None
    _, short = collect(backend, GenerationParams(max_tokens=3, temperature=0))
    assert short.completion_tokens == 3 and short.finish_reason == "length"
    backend.unload()
    assert not backend.loaded


def test_two_copies_loading_at_once_both_answer_right(converted, model_cache):
    """Two threads loading at once used to corrupt each other's weights (meta-device loads)."""
    import threading

    params = GenerationParams(max_tokens=12, temperature=0)
    single = TransformersBackend(spec_for(converted), cache_dir=model_cache)
    expected, _ = collect(single, params)
    single.unload()
    copies = [TransformersBackend(spec_for(converted), cache_dir=model_cache) for _ in range(2)]
    answers, errors = {}, []

    def run(i):
        try:
            answers[i] = collect(copies[i], params)[0]
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == [] and answers == {0: expected, 1: expected}


def test_gguf_path_opens_through_the_cache(smollm2_gguf, model_cache, converted):
    backend = TransformersBackend(spec_for(smollm2_gguf.parent), cache_dir=model_cache, model_path=smollm2_gguf)
    assert backend.model_folder() == converted


def test_peft_adapter_changes_the_output(converted, model_cache, tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(converted))
    # init_lora_weights=False: random B, so the adapter really changes the answers.
    peft_model = get_peft_model(
        base, LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    adapter_dir = tmp_path / "adapter"
    peft_model.save_pretrained(str(adapter_dir))

    plain, _ = collect(
        TransformersBackend(spec_for(converted), cache_dir=model_cache), GenerationParams(max_tokens=12, temperature=0)
    )
    tuned_backend = TransformersBackend(spec_for(converted, adapter_dir), cache_dir=model_cache)
    tuned, usage = collect(tuned_backend, GenerationParams(max_tokens=12, temperature=0))
    assert usage.completion_tokens > 0
    assert tuned != plain
    assert type(tuned_backend._model).__name__.startswith("Peft")


def test_folder_without_weights_is_refused(tmp_path, model_cache):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(InvalidInput, match="no model weights"):
        TransformersBackend(spec_for(tmp_path), cache_dir=model_cache).load()


def test_a_prompt_over_the_model_s_positions_is_counted_and_refused_before_generating(converted, model_cache):
    spec = spec_for(converted)
    backend = TransformersBackend(spec, cache_dir=model_cache)
    backend.load()
    params = GenerationParams(max_tokens=8, temperature=0)
    assert backend.context_window() == 8192  # SmolLM2's max_position_embeddings
    counted = backend.count_prompt_tokens(QUESTION, params)
    assert counted == collect(backend, params)[1].prompt_tokens  # the count is what generate was given
    long = [Message("user", "river " * 9000)]
    with pytest.raises(ContextTooLong, match="takes at most 8,192 tokens .* this prompt alone is 9,0"):
        ensure_fits(spec, backend, long, params)
    ensure_fits(spec, backend, QUESTION, params)  # a short one passes
