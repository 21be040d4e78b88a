"""The 4-bit (QLoRA) paths: on the CPU when the user insists, and on a CUDA GPU, where the
issue asks for QLoRA against bf16 LoRA on a 1B-class Llama built from a config.

CI has no GPU, so the CUDA test skips and says why; on a GPU machine run
``pytest tests/integration/test_finetune_quantised.py -s`` to print the figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.finetune.config import TrainingConfig
from playground.models.embedded import SMOLLM2_KEY
from playground.models.prompt_formats import ALPACA
from tests.integration.models_fixtures import TEST_CACHE, model_cache
from tests.integration.zorp_job import EXAMPLES, FAST

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def services(finetune_services):
    return finetune_services


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_a_4bit_base_trains_on_the_cpu_when_asked(services):
    config = TrainingConfig(
        batch_size=4, epochs=1, eval_every=100, **{**FAST, "load_in_4bit": True}, force_4bit_on_cpu=True
    )
    job_id = services.finetune.create_job("four bit", SMOLLM2_KEY, ALPACA, config, EXAMPLES[:8], EXAMPLES[8:11])
    services.finetune.start(job_id)
    view = services.finetune.wait(job_id, timeout_s=600)
    assert view.status == "done", view.message
    assert "4-bit base on the CPU" in view.device and view.step == view.total_steps == 2
    assert all(loss == loss and loss > 0 for loss in view.train_losses)  # finite, real losses
    assert view.adapter_path and (Path(view.adapter_path) / "adapter_model.safetensors").is_file()


@pytest.mark.skipif(
    not _has_cuda(), reason="needs a CUDA GPU (none here): QLoRA vs bf16 LoRA is measured on the lent device only"
)
def test_qlora_against_bf16_lora_on_a_1b_llama_from_a_config(services, tmp_path):
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from playground.models.embedded import smollm2_path
    from playground.models.gguf_convert import convert_gguf

    tokenizer = AutoTokenizer.from_pretrained(str(convert_gguf(smollm2_path(), TEST_CACHE)))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=2048,
        intermediate_size=5632,
        num_hidden_layers=22,
        num_attention_heads=32,
        num_key_value_heads=4,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
    )  # TinyLlama-1.1B's shape, random weights
    folder = tmp_path / "llama-1b"
    LlamaForCausalLM(config).to(torch.bfloat16).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    figures = {}
    for four_bit in (True, False):
        settings = TrainingConfig(
            batch_size=8, epochs=1, eval_every=1000, **{**FAST, "load_in_4bit": four_bit, "max_length": 256}
        )
        job_id = services.finetune.create_job(
            f"llama1b-{'qlora' if four_bit else 'bf16'}", str(folder), ALPACA, settings, EXAMPLES * 4, EXAMPLES[:3]
        )
        services.finetune.start(job_id)
        view = services.finetune.wait(job_id, timeout_s=900)
        assert view.status == "done", view.message
        assert ("4-bit NF4" in view.device) == four_bit
        figures["QLoRA 4-bit" if four_bit else "LoRA bf16"] = (view.tokens_per_s, view.peak_memory_bytes)
    for name, (speed, peak) in figures.items():
        print(f"\n{name}: {speed:.0f} tokens/s, peak GPU memory {peak / 2**30:.2f} GiB")
    assert figures["QLoRA 4-bit"][1] < figures["LoRA bf16"][1]  # the point of 4-bit: a smaller base in memory
