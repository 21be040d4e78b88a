"""Faster, equivalent pieces of a LoRA training step on the CPU.

Measured on the embedded SmolLM2 (benchmarks/finetune_throughput.py): LoRA dropout was about a
third of a CPU step. PyTorch draws one random number per element for every adapted layer's
input (``bernoulli_``, ~14 ns an element on one core), then masks and rescales it in two more
passes. ``SparseDropout`` draws the same Bernoulli(p) mask by sampling only the gaps between
dropped elements (a geometric distribution), so it draws about p·n numbers instead of n, and
rescales in the same pass: each element is still kept with probability 1 - p, independently,
and scaled by 1 / (1 - p), as ``torch.nn.Dropout`` does.

``FusedLoraLinear`` runs a LoRA layer over a frozen ``torch.nn.Linear`` as one autograd step:
y = x·Wᵀ + b + scaling·B·A·dropout(x), with the LoRA product added inside the base matrix
multiply (``addmm``) and the scaling applied to the rank-r intermediate, so the only
full-size elementwise pass left is the dropout itself (PEFT's path makes about five more, and
sums the two input gradients in another). The arithmetic is the same; only its order differs.

``answer_cross_entropy`` takes the loss on the answer positions through the output head in
chunks, and works out the gradient for the hidden states in the same pass, so the
vocabulary-wide logits are never kept for the backward pass (less memory, fewer passes).
"""

from __future__ import annotations

import math
from typing import Any

CE_CHUNK = 256  # answer positions per chunk of logits: 256 x 49,152 fp32 = 48 MiB for SmolLM2


def dropped_positions(numel: int, p: float) -> Any:
    """Sorted flat indices of the elements a Bernoulli(p) dropout zeroes, out of ``numel``.

    The gap between one dropped element and the next is geometric: P(gap = g) = (1-p)^(g-1) p,
    so each element is dropped with probability p, independently of the others."""
    import torch

    log_keep = math.log1p(-p)
    expected = numel * p
    batch = int(expected + 6 * math.sqrt(expected) + 16)  # enough gaps nearly always: one draw
    found, reached = [], 0
    while reached < numel:
        uniform = torch.rand(batch, dtype=torch.float64)
        gaps = torch.log1p(-uniform).div_(log_keep).floor_().to(torch.long).add_(1)
        positions = torch.cumsum(gaps, 0).add_(reached - 1)
        found.append(positions)
        reached = int(positions[-1]) + 1
    positions = found[0] if len(found) == 1 else torch.cat(found)
    return positions[: int(torch.searchsorted(positions, numel))]


def _dropout_function() -> Any:
    import torch

    class SparseDropoutFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, p: float) -> Any:
            positions = dropped_positions(x.numel(), p)
            out = x * (1.0 / (1.0 - p))
            out.view(-1).index_fill_(0, positions, 0.0)
            ctx.save_for_backward(positions)
            ctx.p = p
            return out

        @staticmethod
        def backward(ctx: Any, grad: Any) -> tuple[Any, None]:
            (positions,) = ctx.saved_tensors
            grad = grad * (1.0 / (1.0 - ctx.p))
            grad.view(-1).index_fill_(0, positions, 0.0)
            return grad, None

    return SparseDropoutFunction


_FUNCTIONS: dict[str, Any] = {}


def _function(name: str, build: Any) -> Any:
    if name not in _FUNCTIONS:
        _FUNCTIONS[name] = build()
    return _FUNCTIONS[name]


def sparse_dropout(x: Any, p: float) -> Any:
    return _function("dropout", _dropout_function).apply(x.contiguous(), p)


def sparse_dropout_module(p: float) -> Any:
    """A ``torch.nn.Dropout(p)`` drop-in (same distribution, same train/eval behaviour)."""
    import torch

    class SparseDropout(torch.nn.Dropout):
        def forward(self, x: Any) -> Any:
            if not self.training or self.p == 0.0:
                return x
            return sparse_dropout(x, self.p)

    return SparseDropout(p)


def use_sparse_dropout(module: Any) -> bool:
    """Swap a LoRA layer's ``torch.nn.Dropout`` modules for ``SparseDropout``; True if it had one."""
    import torch

    dropouts = getattr(module, "lora_dropout", None)
    swapped = False
    if isinstance(dropouts, torch.nn.ModuleDict):
        for name, layer in list(dropouts.items()):
            if type(layer) is torch.nn.Dropout and 0.0 < layer.p < 1.0:
                dropouts[name] = sparse_dropout_module(layer.p)
                swapped = True
    return swapped


def _lora_function() -> Any:
    import torch

    class FusedLoraLinear(torch.autograd.Function):
        @staticmethod
        def forward(
            ctx: Any, x: Any, weight: Any, bias: Any, lora_a: Any, lora_b: Any, scaling: float, p: float
        ) -> Any:
            flat = x.reshape(-1, x.shape[-1])
            positions = None
            dropped = flat
            if p > 0.0:
                positions = dropped_positions(flat.numel(), p)
                dropped = flat * (1.0 / (1.0 - p))
                dropped.view(-1).index_fill_(0, positions, 0.0)
            low_rank = (dropped @ lora_a.t()).mul_(scaling)
            out = flat @ weight.t() if bias is None else torch.addmm(bias, flat, weight.t())
            out.addmm_(low_rank, lora_b.t())
            ctx.save_for_backward(dropped, weight, lora_a, lora_b, low_rank, positions)
            ctx.scaling, ctx.keep, ctx.shape = scaling, 1.0 / (1.0 - p), x.shape
            return out.view(*x.shape[:-1], out.shape[-1])

        @staticmethod
        def backward(ctx: Any, grad: Any) -> tuple[Any, ...]:
            dropped, weight, lora_a, lora_b, low_rank, positions = ctx.saved_tensors
            flat_grad = grad.reshape(-1, grad.shape[-1])
            grad_b = flat_grad.t() @ low_rank
            grad_low = (flat_grad @ lora_b).mul_(ctx.scaling)
            grad_a = grad_low.t() @ dropped
            grad_x = grad_bias = None
            if ctx.needs_input_grad[0]:
                if positions is None:
                    grad_x = (flat_grad @ weight).addmm_(grad_low, lora_a)
                else:  # the LoRA branch's share is masked and rescaled like its input
                    through_lora = grad_low.mul_(ctx.keep) @ lora_a
                    through_lora.view(-1).index_fill_(0, positions, 0.0)
                    grad_x = torch.addmm(through_lora, flat_grad, weight)
                grad_x = grad_x.view(ctx.shape)
            if ctx.needs_input_grad[2]:
                grad_bias = flat_grad.sum(0)
            return grad_x, None, grad_bias, grad_a, grad_b, None, None

    return FusedLoraLinear


def _fusable(module: Any) -> bool:
    """A PEFT LoRA ``Linear`` with one plain LoRA adapter over a frozen ``torch.nn.Linear``."""
    import torch
    from peft.tuners.lora.layer import Linear as LoraLinear

    if type(module) is not LoraLinear or type(module.base_layer) is not torch.nn.Linear:
        return False
    base = module.base_layer
    frozen = not base.weight.requires_grad and (base.bias is None or not base.bias.requires_grad)
    plain = len(module.lora_A) == 1 and not module.lora_variant and not getattr(module, "use_dora", {}).get("default")
    return frozen and plain and type(next(iter(module.lora_dropout.values()))) in (torch.nn.Dropout, torch.nn.Identity)


def _fused_forward(module: Any, peft_forward: Any) -> Any:
    import torch

    (adapter,) = module.lora_A.keys()
    dropout = module.lora_dropout[adapter]
    p = float(dropout.p) if isinstance(dropout, torch.nn.Dropout) else 0.0

    def forward(x: Any, *args: Any, **kwargs: Any) -> Any:
        weight = module.base_layer.weight
        usual = module.training and torch.is_grad_enabled() and x.dtype == weight.dtype
        if args or kwargs or not usual or module.disable_adapters or module.merged:
            return peft_forward(x, *args, **kwargs)  # evaluation, generation, adapters off or merged
        if list(module.active_adapters) != [adapter]:
            return peft_forward(x, *args, **kwargs)
        lora_a, lora_b = module.lora_A[adapter].weight, module.lora_B[adapter].weight
        return _function("lora", _lora_function).apply(
            x, weight, module.base_layer.bias, lora_a, lora_b, float(module.scaling[adapter]), p
        )

    return forward


def use_fast_lora(peft_model: Any) -> dict[str, int]:
    """On the CPU: fuse every plain LoRA ``Linear`` (``FusedLoraLinear``), and give any other LoRA
    layer ``SparseDropout``. How many of each. (A GPU's dropout and elementwise passes are
    already cheap there, and finding the dropped positions would wait on the device.)"""
    fused = sparse = 0
    for module in peft_model.modules():
        if _fusable(module):
            module.forward = _fused_forward(module, module.forward)
            fused += 1
        elif use_sparse_dropout(module):
            sparse += 1
    return {"fused": fused, "sparse_dropout": sparse}


def _cross_entropy_function() -> Any:
    import torch

    class AnswerCrossEntropy(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, hidden: Any, weight: Any, targets: Any, softcap: float | None) -> Any:
            total = torch.zeros((), dtype=torch.promote_types(hidden.dtype, torch.float32), device=hidden.device)
            grad_hidden = torch.empty_like(hidden)
            for start in range(0, hidden.shape[0], CE_CHUNK):
                part = slice(start, start + CE_CHUNK)
                loss, grad_hidden[part] = _chunk_loss_and_grad(hidden[part], weight, targets[part], softcap)
                total += loss
            ctx.save_for_backward(grad_hidden)
            return total

        @staticmethod
        def backward(ctx: Any, grad: Any) -> tuple[Any, None, None, None]:
            (grad_hidden,) = ctx.saved_tensors
            return grad_hidden * grad.to(grad_hidden.dtype), None, None, None

    return AnswerCrossEntropy


def _chunk_loss_and_grad(hidden: Any, weight: Any, targets: Any, softcap: float | None) -> tuple[Any, Any]:
    """Summed cross-entropy of one chunk, and d(loss)/d(hidden), with logits in fp32 at least."""
    import torch

    logits = (hidden @ weight.t()).to(torch.promote_types(hidden.dtype, torch.float32))
    capped = None
    if softcap:
        capped = torch.tanh(logits.div_(softcap))
        logits = capped * softcap
    rows = torch.arange(hidden.shape[0], device=hidden.device)
    target_logits = logits[rows, targets]
    top = logits.amax(dim=1, keepdim=True)
    probs = logits.sub_(top).exp_()
    sums = probs.sum(dim=1, keepdim=True)
    loss = (sums.log() + top).squeeze(1).sub_(target_logits).sum()
    probs.div_(sums)
    probs[rows, targets] -= 1.0  # d(loss)/d(logits) = softmax - one-hot
    if capped is not None:
        probs.mul_(1.0 - capped * capped)  # through c·tanh(z / c)
    return loss, (probs.to(weight.dtype) @ weight).to(hidden.dtype)


def answer_cross_entropy(hidden: Any, weight: Any, targets: Any, softcap: float | None = None) -> Any:
    """sum(cross_entropy(softcap(hidden @ weight.T), targets)) for a frozen head ``weight``.

    The same value and hidden-state gradient as the plain expression, without keeping the
    [positions, vocabulary] logits for the backward pass."""
    return _function("cross_entropy", _cross_entropy_function).apply(hidden, weight, targets, softcap)
