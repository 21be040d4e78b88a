"""A micro-batch's shared prefix runs once (playground/finetune/shared_prefix.py) and the loss
and gradients are the plain batch's: on a tiny Llama in float64 to 1e-9, and on the embedded
SmolLM2 with the demo data set in float32 to float32's rounding."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from playground.finetune import batching, shared_prefix, speedups
from playground.finetune.config import ALL_LINEAR, TrainingConfig
from playground.finetune.modeling import load_for_training, placement
from playground.finetune.trainer import TrainingSession, plain_head
from playground.models.gguf_convert import convert_gguf
from tests.integration.models_fixtures import model_cache, smollm2_gguf
from tests.integration.tiny_models import tiny_peft

HEADER = (5, 6, 7, 8, 9, 10, 11, 12, 13, 14)  # ten tokens every row opens with


def _row(ids, prompt_len):
    return batching.Row(tuple(ids), prompt_len)


def test_the_prefix_is_what_every_row_shares_and_stops_before_the_first_answer_is_predicted():
    rows = [_row(HEADER + (1, 2, 3, 40, 41), 13), _row(HEADER + (1, 2, 9, 9, 50), 14), _row(HEADER + (1, 2), 12)]
    assert shared_prefix.shared_prefix_length(rows) == 11  # the third row's answer is predicted at 11
    rows[2] = _row(HEADER + (1, 2, 3, 3, 60, 61), 15)
    assert shared_prefix.shared_prefix_length(rows) == 12  # tokens 0-11 alike in all three
    assert shared_prefix.shared_prefix_length(rows[:1]) == 0  # one row shares with nobody
    short = [_row((1, 2, 3, 4, 5, 6, 7, 90), 8), _row((1, 2, 3, 4, 5, 6, 7, 91), 8)]
    assert shared_prefix.shared_prefix_length(short) == 0  # under MIN_SHARED: not worth a pass
    assert batching.collate(rows, pad_id=0)["shared_prefix"] == 12


def _tiny_peft(model_type: str = "llama", **extra):
    return tiny_peft(0.0, model_type, **extra)


def _session(peft):
    """What ``TrainingSession._scored_loss`` reads of a session: the device and the plain head."""
    return SimpleNamespace(where=SimpleNamespace(device="cpu"), _head=plain_head(peft))


def _loss_and_grads(peft, batch):
    peft.train()
    peft.zero_grad(set_to_none=True)
    loss, count = TrainingSession._scored_loss(_session(peft), batch)
    (loss / count).backward()
    return float(loss), count, {n: p.grad.clone() for n, p in peft.named_parameters() if p.requires_grad}


def _tiny_rows():
    torch.manual_seed(4)
    tails = [torch.randint(20, 300, (n,)).tolist() for n in (9, 14, 6, 11)]
    prompt_ends = (4, 6, 2, 5)  # the answer starts this far after the header
    return [_row(HEADER + tuple(t), len(HEADER) + e) for t, e in zip(tails, prompt_ends)]


def _compare(peft, rows, loss_rtol=1e-12, grad_rtol=1e-6):
    """Loss and every LoRA gradient of the batch with its prefix shared against without.

    The gradients are compared to ``grad_rtol`` of each tensor's largest element: the sums over
    the rows' copies of the prefix are taken in another order, and HF's RMSNorm computes in
    float32 even in a float64 model, so orders differ at float32's rounding (~1e-7) there. A
    gradient path lost through the cache would differ by far more."""
    batch = batching.collate(rows, pad_id=0)
    assert batch["shared_prefix"] >= shared_prefix.MIN_SHARED
    shared_loss, shared_count, shared = _loss_and_grads(peft, batch)
    plain_loss, plain_count, plain = _loss_and_grads(peft, dict(batch, shared_prefix=0))
    assert shared_count == plain_count == sum(r.completion_tokens for r in rows)
    assert shared_loss == pytest.approx(plain_loss, rel=loss_rtol)
    assert set(shared) == set(plain) and plain
    for name, want in plain.items():
        assert float(want.abs().max()) > 0, name
        assert float((shared[name] - want).abs().max()) <= grad_rtol * float(want.abs().max()), name
    return batch


@pytest.mark.parametrize("fused", [False, True])
def test_a_shared_prefix_gives_the_plain_batch_s_loss_and_gradients(fused):
    peft = _tiny_peft()
    if fused:
        assert speedups.use_fast_lora(peft)["fused"] == 2 * 7
    batch = _compare(peft, _tiny_rows())
    assert batch["shared_prefix"] == len(HEADER)  # the rows differ right after the header


def test_the_prefix_pass_is_marked_for_token_counters_and_runs_on_one_row():
    peft = _tiny_peft()
    decoder = plain_head(peft)[0]
    seen = []
    decoder.register_forward_pre_hook(
        lambda _m, _a, kwargs: seen.append((shared_prefix.in_prefix_pass(), tuple(kwargs["input_ids"].shape))),
        with_kwargs=True,
    )
    batch = batching.collate(_tiny_rows(), pad_id=0)
    _loss_and_grads(peft, batch)
    width, shared = batch["input_ids"].shape[1], batch["shared_prefix"]
    assert seen == [(True, (1, shared)), (False, (4, width - shared))]
    assert not shared_prefix.in_prefix_pass()


def test_evaluation_without_gradients_shares_the_prefix_too():
    peft = _tiny_peft()
    batch = batching.collate(_tiny_rows(), pad_id=0)
    peft.eval()
    with torch.inference_mode():
        shared, _ = TrainingSession._scored_loss(_session(peft), batch)
        plain, _ = TrainingSession._scored_loss(_session(peft), dict(batch, shared_prefix=0))
    assert float(shared) == pytest.approx(float(plain), rel=1e-6)  # the head's logits are float32 here


def test_a_sliding_window_narrower_than_the_batch_and_gradient_checkpointing_run_the_whole_rows():
    rows = _tiny_rows()
    width = max(r.length for r in rows)
    windowed = _tiny_peft("mistral", sliding_window=width - 3)
    assert not shared_prefix.can_share(plain_head(windowed)[0], width)
    _compare(windowed, rows)  # the fallback slices the whole rows' states: still the plain answer
    wide = _tiny_peft("mistral", sliding_window=width + 3)
    assert shared_prefix.can_share(plain_head(wide)[0], width)
    _compare(wide, rows)
    checkpointed = _tiny_peft()
    checkpointed.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    assert not shared_prefix.can_share(plain_head(checkpointed)[0], width)
    _compare(checkpointed, rows)


@pytest.mark.slow
def test_smollm2_on_the_demo_set_shares_the_alpaca_header_and_trains_as_the_plain_batch(smollm2_gguf, model_cache):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from finetune_throughput_sides import load_examples  # the benchmark's data: the demo support replies

    config = TrainingConfig(r=8, alpha=16, dropout=0.0, target=ALL_LINEAR, batch_size=4, max_length=256)
    peft, tokenizer = load_for_training(convert_gguf(smollm2_gguf, model_cache), config, placement(config))
    speedups.use_fast_lora(peft)
    with torch.no_grad():
        for name, param in peft.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.01)
    rows, _ = batching.tokenize_examples(load_examples(), "alpaca", tokenizer, 256)
    lengths = [r.length for r in rows]
    order = batching.epoch_order(lengths, 4, seed=0, epoch=0)
    groups = [batching.micro_batches(order[i : i + 4], lengths, 4)[0] for i in range(0, len(order), 4)]
    batches = [batching.collate([rows[i] for i in group], tokenizer.pad_token_id) for group in groups]
    shared = sum(b["shared_prefix"] * (b["input_ids"].shape[0] - 1) for b in batches)
    positions = sum(b["input_ids"].numel() for b in batches)
    assert shared / positions > 0.15  # a quarter of the positions on this set, measured
    header = len(tokenizer("Below is an instruction that describes a task", add_special_tokens=False)["input_ids"])
    first = next(i for i, b in enumerate(batches) if b["shared_prefix"])
    assert batches[first]["shared_prefix"] > header
    _compare(peft, [rows[i] for i in groups[first]], loss_rtol=1e-5, grad_rtol=1e-4)
