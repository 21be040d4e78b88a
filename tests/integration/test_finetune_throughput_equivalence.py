"""The CPU training speed-ups (playground/finetune/speedups.py) compute what PEFT and PyTorch
compute: the same dropout distribution, the same LoRA outputs and gradients, the same loss.

A tiny Llama built from a config keeps these fast; the real model runs in the benchmark and
in the fine-tune job tests."""

from __future__ import annotations

import math

import pytest
import torch

from playground.finetune import speedups
from tests.integration.tiny_models import tiny_peft


def test_dropped_positions_follow_bernoulli_p_independently():
    torch.manual_seed(0)
    n, p = 1_000_000, 0.05
    positions = speedups.dropped_positions(n, p)
    assert positions.dtype == torch.long and bool((positions[1:] > positions[:-1]).all())  # sorted, distinct
    assert int(positions[0]) >= 0 and int(positions[-1]) < n
    sd = math.sqrt(n * p * (1 - p))
    assert abs(positions.numel() - n * p) < 5 * sd  # the drop rate is p
    mask = torch.zeros(n, dtype=torch.bool)
    mask[positions] = True
    both = int((mask[1:] & mask[:-1]).sum())  # neighbours dropped together: p^2 if independent
    assert abs(both - (n - 1) * p * p) < 5 * math.sqrt(n * p * p)
    halves = [int(mask[: n // 2].sum()), int(mask[n // 2 :].sum())]  # no drift along the tensor
    assert abs(halves[0] - halves[1]) < 5 * math.sqrt(n * p)


def test_dropped_positions_cover_a_tiny_tensor_and_a_high_rate():
    torch.manual_seed(1)
    small = [speedups.dropped_positions(3, 0.5).tolist() for _ in range(400)]
    assert all(set(drawn) <= {0, 1, 2} for drawn in small)
    assert abs(sum(map(len, small)) / 400 - 1.5) < 0.2
    counts = [speedups.dropped_positions(10, 0.9).numel() for _ in range(300)]
    assert abs(sum(counts) / 300 - 9.0) < 0.3  # long tensors and short ones alike


def test_sparse_dropout_keeps_scales_and_passes_gradients_like_nn_dropout():
    torch.manual_seed(2)
    layer = speedups.sparse_dropout_module(0.25)
    assert isinstance(layer, torch.nn.Dropout)
    x = torch.ones(400, 300, requires_grad=True)
    y = layer(x)
    kept = y != 0
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / 0.75))
    assert abs(float(kept.float().mean()) - 0.75) < 0.01
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # d(out)/d(in) = mask / (1 - p)
    layer.eval()
    assert layer(x) is x


def _tiny_peft(dropout: float, bias: bool = False):
    return tiny_peft(dropout, attention_bias=bias)


def _loss_and_grads(peft, ids, mask):
    peft.train()
    peft.zero_grad()
    out = peft(input_ids=ids, attention_mask=mask, labels=ids.masked_fill(mask == 0, -100))
    out.loss.backward()
    return float(out.loss), {n: p.grad.clone() for n, p in peft.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("bias", [False, True])
def test_fused_lora_layers_give_peft_s_loss_and_gradients(bias):
    peft = _tiny_peft(dropout=0.0, bias=bias)
    ids = torch.randint(0, 300, (3, 11))
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    want_loss, want = _loss_and_grads(peft, ids, mask)
    counts = speedups.use_fast_lora(peft)
    assert counts["fused"] == 2 * 7  # q, k, v, o, gate, up, down in each layer
    got_loss, got = _loss_and_grads(peft, ids, mask)
    assert got_loss == pytest.approx(want_loss, rel=1e-12)
    assert set(got) == set(want)
    for name in want:
        assert torch.allclose(got[name], want[name], rtol=1e-9, atol=1e-12), name


def test_a_fused_layer_with_dropout_matches_peft_with_the_same_mask():
    layer = _tiny_peft(dropout=0.3).base_model.model.model.layers[0].mlp.up_proj
    x = torch.randn(2, 5, 48, dtype=torch.float64, requires_grad=True)
    layer.train()
    peft_forward = layer.forward
    speedups.use_fast_lora(layer)
    assert layer.forward is not peft_forward
    torch.manual_seed(4)
    fused = layer(x)
    torch.manual_seed(4)  # the same draw, applied by hand as PEFT would with this mask
    keep = torch.ones(x.numel(), dtype=torch.float64)
    keep[speedups.dropped_positions(x.numel(), 0.3)] = 0.0
    dropped = x * keep.view_as(x) / 0.7
    a, b = layer.lora_A["default"], layer.lora_B["default"]
    reference = layer.base_layer(x) + b(a(dropped)) * layer.scaling["default"]
    assert torch.allclose(fused, reference, atol=1e-12)
    grad = torch.randn_like(fused)
    params = (x, a.weight, b.weight)
    for got, want in zip(torch.autograd.grad(fused, params, grad), torch.autograd.grad(reference, params, grad)):
        assert torch.allclose(got, want, atol=1e-12)


def test_fused_layers_step_aside_for_evaluation_and_disabled_adapters():
    peft = _tiny_peft(dropout=0.3)
    speedups.use_fast_lora(peft)
    ids = torch.randint(0, 300, (2, 6))
    peft.eval()
    with torch.inference_mode():
        first, second = peft(input_ids=ids).logits, peft(input_ids=ids).logits
    assert torch.equal(first, second)  # no dropout outside training
    with peft.disable_adapter(), torch.inference_mode():
        base = peft(input_ids=ids).logits
    assert not torch.allclose(first, base)  # the adapter counts when on, and not when off


@pytest.mark.parametrize("softcap", [None, 3.0])
def test_answer_cross_entropy_matches_the_plain_loss_and_gradient(monkeypatch, softcap):
    monkeypatch.setattr(speedups, "CE_CHUNK", 7)  # several chunks and a short last one
    torch.manual_seed(5)
    hidden = torch.randn(30, 16, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(50, 16, dtype=torch.float64) * 2
    targets = torch.randint(0, 50, (30,))
    logits = hidden @ weight.t()
    if softcap:
        logits = torch.tanh(logits / softcap) * softcap
    want = torch.nn.functional.cross_entropy(logits, targets, reduction="sum")
    (want_grad,) = torch.autograd.grad(want, hidden)
    got = speedups.answer_cross_entropy(hidden, weight, targets, softcap)
    (got_grad,) = torch.autograd.grad(got * 2.5, hidden)  # the outer scale (1 / answer tokens) passes through
    assert float(got) == pytest.approx(float(want), rel=1e-12)
    assert torch.allclose(got_grad, want_grad * 2.5, atol=1e-12)
