"""Training settings: presets named by what the user wants, advanced knobs, and their checks.

The default is the LoRA study's winner: r=8 on all linear layers and the output head, alpha 8,
dropout 0.05, max length 256, 3 epochs, 4-bit base where a GPU allows it. Raising r past a point
adds nothing, so presets change epochs and learning rate rather than r.

The output head is adapted only where it is a layer of its own (OpenLLaMA, Llama 3 8B,
Mistral). Small models such as SmolLM2 and Gemma 3 tie it to the input embeddings: the same
matrix reads the input and scores the output, so a LoRA on it would also change the input
embeddings once merged, or force the export to untie them (for SmolLM2 another 28 M
parameters, a fifth of the model). There the preset trains all linear layers only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from playground.errors import InvalidInput
from playground.i18n import Text, t

ATTENTION = "attention"
ALL_LINEAR = "all_linear"
ALL_LINEAR_HEAD = "all_linear_head"  # + the output head where it is not tied to the embeddings
TARGETS: dict[str, str] = {
    ATTENTION: "Attention only (q_proj, v_proj)",
    ALL_LINEAR: "All linear layers",
    ALL_LINEAR_HEAD: "All linear layers + output head (the study's winner; the head only where it is not tied)",
}
# The attention projections every common decoder calls q_proj / v_proj (Llama, Gemma, Qwen, Mistral).
ATTENTION_MODULES = ("q_proj", "v_proj")


@dataclass(frozen=True)
class TrainingConfig:
    r: int = 8
    alpha: int = 8
    dropout: float = 0.05
    target: str = ALL_LINEAR_HEAD
    epochs: float = 3.0
    learning_rate: float = 2e-4
    batch_size: int = 4  # micro-batch: examples per forward pass
    grad_accum: int = 1  # micro-batches per optimizer step
    max_length: int = 256
    load_in_4bit: bool = True  # honoured with a GPU; on the CPU only if the user insists (see effective_4bit)
    force_4bit_on_cpu: bool = False
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    eval_every: int = 0  # steps between holdout losses and sample answers; 0 = about 10 times per run
    checkpoint_every: int = 0  # 0 = at every evaluation
    sample_max_tokens: int = 48
    seed: int = 0

    @property
    def effective_batch(self) -> int:
        return self.batch_size * self.grad_accum

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def with_changes(self, **changes: Any) -> TrainingConfig:
        return replace(self, **changes)

    def effective_4bit(self, has_cuda: bool) -> bool:
        """4-bit (QLoRA) runs on a GPU; on the CPU bitsandbytes works but trains far slower than fp32 LoRA."""
        return self.load_in_4bit and (has_cuda or self.force_4bit_on_cpu)


DEFAULT_PRESET = "Recommended (r=8, all linear layers)"
PRESETS: dict[str, TrainingConfig] = {
    DEFAULT_PRESET: TrainingConfig(),
    "Quick test": TrainingConfig(epochs=1.0, learning_rate=3e-4, max_length=128),
    # Style is shallow: a few epochs at a moderate rate, without overfitting the wording.
    "Teach a style": TrainingConfig(epochs=2.0, learning_rate=2e-4),
    # Facts need the model to memorise: more epochs and a higher rate.
    "Teach facts": TrainingConfig(epochs=5.0, learning_rate=3e-4),
}
PRESET_HELP: dict[str, str] = {
    DEFAULT_PRESET: "The LoRA study's winner: r=8 on all linear layers and the output head, 3 epochs "
    "(models whose head is tied to the input embeddings, such as SmolLM2, leave the head out).",
    "Quick test": "One short epoch to check that everything works (minutes, not hours).",
    "Teach a style": "Tone, format and length of answers: 2 epochs.",
    "Teach facts": "New knowledge the model must recall: 5 epochs at a higher learning rate.",
}


def preset(name: str) -> TrainingConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidInput(t("finetune.unknown_preset", name=name, presets=", ".join(PRESETS))) from None


# The max lengths a preset may grow to so that a checked dataset's rows fit (powers of two keep
# memory predictable); never past the cut-off the user checked the dataset with.
LENGTH_STEPS = (64, 128, 256, 512, 1024, 2048, 4096, 8192)


@dataclass(frozen=True)
class LengthFit:
    """The max length to train with, and one plain sentence on what it does to the dataset's rows."""

    max_length: int
    note: Text | str  # "" when there is nothing to say


def fit_max_length(wanted: int, lengths: Sequence[int], cutoff: int | None = None) -> LengthFit:
    """``wanted`` (a preset's or the form's max length), raised to the smallest of LENGTH_STEPS that
    holds the longest checked row, but not past ``cutoff`` (the user's own choice in the check).
    ``lengths``: tokens per usable row, as the dataset check counted them."""
    if not lengths:
        return LengthFit(int(wanted), "")
    longest = max(lengths)
    length = int(wanted)
    if longest > length:
        covering = next((step for step in LENGTH_STEPS if step >= longest), LENGTH_STEPS[-1])
        length = max(length, min(covering, int(cutoff)) if cutoff else covering)
    cut = sum(n > length for n in lengths)
    if cut:
        note = t("finetune.fit_cut", length=length, cut=cut, rows=len(lengths), longest=longest)
    elif length > wanted:
        note = t("finetune.fit_raised", wanted=int(wanted), length=length, longest=longest)
    else:
        note = t("finetune.fit_all", length=length, longest=longest)
    return LengthFit(length, note)


# name -> (low, high); ranges are inclusive. Each setting is named in a refusal by "finetune.setting_<name>".
_RANGES: dict[str, tuple[float, float]] = {
    "r": (1, 256),
    "alpha": (1, 1024),
    "dropout": (0.0, 0.5),
    "epochs": (0.1, 100),
    "learning_rate": (1e-6, 1e-2),
    "batch_size": (1, 256),
    "grad_accum": (1, 256),
    "max_length": (16, 8192),
    "warmup_ratio": (0.0, 0.5),
    "weight_decay": (0.0, 1.0),
    "max_grad_norm": (0.0, 100.0),
    "eval_every": (0, 1_000_000),
    "checkpoint_every": (0, 1_000_000),
    "sample_max_tokens": (1, 512),
}
_WHOLE = {"r", "alpha", "batch_size", "grad_accum", "max_length", "eval_every", "checkpoint_every", "sample_max_tokens"}


def _number(name: str, value: Any, label: Text) -> float:
    if isinstance(value, bool):
        raise InvalidInput(t("finetune.must_be_number", label=label))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(t("finetune.must_be_number_got", label=label, value=repr(value))) from None
    if not math.isfinite(number):
        raise InvalidInput(t("finetune.must_be_finite", label=label))
    if name in _WHOLE and number != int(number):
        raise InvalidInput(t("finetune.must_be_whole", label=label, value=repr(value)))
    return number


def validate(config: TrainingConfig) -> TrainingConfig:
    """The config with numbers normalised, or InvalidInput with one plain sentence."""
    changes: dict[str, Any] = {}
    for name, (low, high) in _RANGES.items():
        label = t(f"finetune.setting_{name}")
        number = _number(name, getattr(config, name), label)
        if not low <= number <= high:
            raise InvalidInput(
                t("finetune.must_be_between", label=label, low=float(low), high=float(high), number=number)
            )
        changes[name] = int(number) if name in _WHOLE else number
    if config.target not in TARGETS:
        raise InvalidInput(t("finetune.unknown_target_of", target=config.target, choices=", ".join(TARGETS)))
    return replace(config, **changes)


def config_from_form(preset_name: str, overrides: Mapping[str, Any] | None = None) -> TrainingConfig:
    """A preset with the advanced fields the user changed; unknown fields are refused."""
    base = preset(preset_name)
    names = {f.name for f in fields(TrainingConfig)}
    unknown = sorted(set(overrides or {}) - names)
    if unknown:
        raise InvalidInput(t("finetune.unknown_settings", names=", ".join(unknown)))
    return validate(replace(base, **dict(overrides or {})))


def steps_per_epoch(n_examples: int, effective_batch: int) -> int:
    return max(1, math.ceil(n_examples / max(1, effective_batch)))


def total_steps(n_examples: int, config: TrainingConfig) -> int:
    """Optimizer steps for the whole run; fractional epochs round up to a whole step."""
    return max(1, math.ceil(config.epochs * steps_per_epoch(n_examples, config.effective_batch)))


def eval_interval(config: TrainingConfig, steps: int) -> int:
    return config.eval_every or max(1, steps // 10)


def checkpoint_interval(config: TrainingConfig, steps: int) -> int:
    return config.checkpoint_every or eval_interval(config, steps)


def halve_batch(micro_batch: int, effective_batch: int) -> tuple[int, int] | None:
    """After running out of memory: (half the micro-batch, the accumulation that keeps the
    same effective batch). None when the micro-batch is already 1."""
    if micro_batch <= 1:
        return None
    half = micro_batch // 2
    return half, math.ceil(effective_batch / half)
