"""The LoRA study's trainable-parameter counts (shared/MISSION.md), reproduced with the app's own
``count_trainable`` on a config of OpenLLaMA-3B-v2's sizes, built on the meta device.

| r | target modules | the study |
|---|---|---|
| 8 | attention (q_proj, v_proj) | 2,662,400 |
| 16 | attention (q_proj, v_proj) | 5,324,800 |
| 8 | all linear layers (+lm_head) | 12,994,560 = 12,712,960 + 281,600 (r x (hidden + vocab)) |
"""

from __future__ import annotations

import pytest

from playground.finetune.config import (
    ALL_LINEAR,
    ALL_LINEAR_HEAD,
    ATTENTION,
    DEFAULT_PRESET,
    PRESETS,
    TrainingConfig,
)
from playground.finetune.modeling import count_trainable, output_head_note


def _llama_folder(path, **sizes):
    from transformers import LlamaConfig

    LlamaConfig(**sizes).save_pretrained(str(path))
    return path


@pytest.fixture(scope="module")
def open_llama_3b(tmp_path_factory):
    """OpenLLaMA-3B-v2's config.json sizes (its head is not tied to the embeddings)."""
    return _llama_folder(
        tmp_path_factory.mktemp("open_llama_3b_v2"),
        vocab_size=32000,
        hidden_size=3200,
        intermediate_size=8640,
        num_hidden_layers=26,
        num_attention_heads=32,
        num_key_value_heads=32,
        max_position_embeddings=2048,
        rms_norm_eps=1e-6,
        tie_word_embeddings=False,
    )


@pytest.fixture(scope="module")
def smollm2_sized(tmp_path_factory):
    """SmolLM2-135M's sizes: its output head is tied to the input embeddings."""
    return _llama_folder(
        tmp_path_factory.mktemp("smollm2_135m"),
        vocab_size=49152,
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=30,
        num_attention_heads=9,
        num_key_value_heads=3,
        tie_word_embeddings=True,
    )


@pytest.mark.parametrize(
    ("r", "target", "study"),
    [(8, ATTENTION, 2_662_400), (16, ATTENTION, 5_324_800), (8, ALL_LINEAR_HEAD, 12_994_560)],
)
def test_the_studys_three_counts_on_open_llama_3b_v2(open_llama_3b, r, target, study):
    trainable, total = count_trainable(open_llama_3b, TrainingConfig(r=r, target=target))
    assert trainable == study
    assert 3.4e9 < total - trainable < 3.5e9  # the base: OpenLLaMA-3B-v2's 3.43 B parameters


def test_all_linear_without_the_head_is_the_studys_count_less_r_times_hidden_plus_vocab(open_llama_3b):
    without_head, _ = count_trainable(open_llama_3b, TrainingConfig(r=8, target=ALL_LINEAR))
    assert without_head == 12_712_960
    assert 12_994_560 - without_head == 8 * (3200 + 32000) == 281_600


def test_the_recommended_preset_is_the_studys_winner_where_the_head_is_untied(open_llama_3b):
    recommended = PRESETS[DEFAULT_PRESET]
    assert (recommended.r, recommended.alpha, recommended.dropout, recommended.target) == (8, 8, 0.05, ALL_LINEAR_HEAD)
    assert count_trainable(open_llama_3b, recommended)[0] == 12_994_560
    assert "gets a LoRA too" in output_head_note(open_llama_3b, recommended).render("en")
    assert "cabeça de saída também" in output_head_note(open_llama_3b, recommended).render("pt-BR")


def test_a_tied_head_is_left_out_and_the_check_says_why(smollm2_sized):
    with_head, _ = count_trainable(smollm2_sized, TrainingConfig(r=8, target=ALL_LINEAR_HEAD))
    without, _ = count_trainable(smollm2_sized, TrainingConfig(r=8, target=ALL_LINEAR))
    assert with_head == without == 30 * 8 * (2 * (576 + 576) + 2 * (576 + 192) + 3 * (576 + 1536))
    note = output_head_note(smollm2_sized, TrainingConfig(target=ALL_LINEAR_HEAD)).render("en")
    assert "tied" in note and "left out" in note
    assert output_head_note(smollm2_sized, TrainingConfig(target=ALL_LINEAR)) == ""
