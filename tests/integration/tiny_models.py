"""A tiny decoder with LoRA, built from a config in float64, for tests that compare two ways of
computing the same training step exactly (the real model runs in the benchmark and the job tests)."""

from __future__ import annotations

import torch

from playground.finetune.config import ALL_LINEAR, TrainingConfig
from playground.finetune.modeling import lora_config

VOCAB = 300
HIDDEN = 48


def tiny_peft(dropout: float = 0.0, model_type: str = "llama", **config_extra):
    """A 2-layer Llama (or Mistral) with LoRA r=4 on all linear layers, LoRA's B drawn at random
    (it starts at zero) so every gradient path carries something."""
    from peft import get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM

    torch.manual_seed(3)
    kinds = {"llama": (LlamaConfig, LlamaForCausalLM), "mistral": (MistralConfig, MistralForCausalLM)}
    config_class, model_class = kinds[model_type]
    config = config_class(
        vocab_size=VOCAB,
        hidden_size=HIDDEN,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=True,
        **config_extra,
    )
    model = model_class(config).double()
    peft = get_peft_model(model, lora_config(TrainingConfig(r=4, alpha=8, dropout=dropout, target=ALL_LINEAR)))
    with torch.no_grad():
        for name, param in peft.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.1)
    return peft
