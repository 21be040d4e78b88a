"""Cost and time before a big run, as estimates; what the run actually used, after it.

A batch run, an Arena pre-generation and a Judge run each list the calls they will make
(``PlannedCall``: the model, the messages as the model will see them, max tokens). This module
turns them, per model, into calls, input and output tokens, a cost and a time: pure functions,
handed what they need (each model's recent answers from the database, a token counter).

How each figure is made, and said beside it:

- **Input tokens.** ``tokenizer``: counted with the model's own tokenizer and chat template (a
  llama.cpp GGUF model: exact). ``measured``: from this model's recent prompts, the tokens it
  reported against their characters (per character, plus a per-call overhead such as the chat
  template and a default system prompt). ``rule_of_thumb``: 4 characters a token plus 4 tokens
  a message and 3 for the reply's start (OpenAI's rule for English text; other languages and
  code take more tokens).
- **Output tokens.** ``recent``: the mean length of this model's recent answers asked with a
  similar max tokens (half to twice), never above max tokens. ``max_tokens``: max tokens itself,
  an upper bound.
- **Cost**: the model's price (``ModelSpec.price``); none is "cost unknown", never $0.
- **Time**: the median time to first token plus the answer's tokens at the median decoding speed
  of the model's recent answers, plus its last load time when it is not loaded. No recent speed:
  the time is unknown, not guessed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from playground.models.types import ModelSpec

TOKENIZER, MEASURED, RULE_OF_THUMB = "tokenizer", "measured", "rule_of_thumb"  # input counts
RECENT, MAX_TOKENS = "recent", "max_tokens"  # output counts
CHARS_PER_TOKEN = 4.0
TOKENS_PER_MESSAGE = 4
REPLY_PRIMING_TOKENS = 3
MIN_OUTPUT_SAMPLES = 3  # fewer recent answers than this say too little about a model's length
SIMILAR_MAX_TOKENS = 2.0  # a recent answer counts when its max tokens was within this factor
MIN_SPREAD = 0.25  # prompt lengths must vary this much (of their mean) to fit a slope to them

# Counts a call's input tokens with the model's own tokenizer; None where it has none to hand.
TokenCounter = Callable[[ModelSpec, Sequence[Mapping[str, str]]], int | None]


@dataclass(frozen=True)
class PlannedCall:
    """One call a run will make: the messages as the model will see them (system prompt in)."""

    model_key: str
    messages: tuple[Mapping[str, str], ...]
    max_tokens: int

    @property
    def chars(self) -> int:
        return sum(len(m.get("content", "")) for m in self.messages)


@dataclass(frozen=True)
class PastCall:
    """One of a model's recent answers, as stored."""

    prompt_chars: int
    prompt_tokens: int | None
    completion_tokens: int | None
    max_tokens: int | None
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    tokens_reported: bool = True  # False: the app counted them itself (the endpoint reported none)


@dataclass(frozen=True)
class PromptFit:
    """Input tokens ≈ overhead + per_char × characters, from a model's recent prompts."""

    per_char: float
    overhead: float
    samples: int

    def tokens(self, chars: int) -> int:
        return max(1, round(self.overhead + self.per_char * chars))


@dataclass(frozen=True)
class Speed:
    ttft_s: float
    tokens_per_s: float
    samples: int

    def seconds(self, output_tokens: int) -> float:
        return self.ttft_s + max(output_tokens - 1, 0) / self.tokens_per_s


@dataclass(frozen=True)
class ModelEstimate:
    model_key: str
    model_name: str
    calls: int
    input_tokens: int
    input_method: str  # TOKENIZER | MEASURED | RULE_OF_THUMB
    output_tokens: int
    output_method: str  # RECENT | MAX_TOKENS (then an upper bound)
    cost_usd: float | None  # None: the model has no price ("cost unknown")
    seconds: float | None  # None: no recent speed ("time unknown")
    speed_samples: int = 0
    tokens_per_s: float | None = None
    ttft_s: float | None = None
    load_s: float | None = None  # its last load time, counted in ``seconds`` (not loaded now)
    price_source: str | None = None  # a PriceSource: "local" is $0 by choice


@dataclass(frozen=True)
class RunEstimate:
    models: tuple[ModelEstimate, ...]
    parallel: bool = False  # the models answer side by side (a batch's columns)
    after_generation_id: int = 0  # the run's own answers are those after this one

    @property
    def calls(self) -> int:
        return sum(m.calls for m in self.models)

    @property
    def input_tokens(self) -> int:
        return sum(m.input_tokens for m in self.models)

    @property
    def output_tokens(self) -> int:
        return sum(m.output_tokens for m in self.models)

    @property
    def known_cost_usd(self) -> float:
        return sum(m.cost_usd for m in self.models if m.cost_usd is not None)

    @property
    def unpriced(self) -> int:
        """How many models have no price (their cost is unknown)."""
        return sum(m.cost_usd is None for m in self.models)

    @property
    def cost_usd(self) -> float | None:
        """The total cost; None when any model's is unknown (``known_cost_usd`` has the rest)."""
        return None if self.unpriced else self.known_cost_usd

    @property
    def seconds(self) -> float | None:
        """One model after another; None when any model's time is unknown."""
        times = [m.seconds for m in self.models]
        return None if any(s is None for s in times) else sum(s for s in times if s is not None)

    @property
    def side_by_side_seconds(self) -> float | None:
        """The slowest model's time: the least a side-by-side run can take."""
        times = [m.seconds for m in self.models]
        return None if any(s is None for s in times) else max((s for s in times if s is not None), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": [asdict(m) for m in self.models],
            "parallel": self.parallel,
            "after_generation_id": self.after_generation_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunEstimate:
        known = ModelEstimate.__dataclass_fields__
        models = tuple(ModelEstimate(**{k: v for k, v in m.items() if k in known}) for m in data.get("models", []))
        return cls(models, bool(data.get("parallel")), int(data.get("after_generation_id") or 0))


# ---- input tokens ---------------------------------------------------------------------------
def rule_of_thumb_tokens(call: PlannedCall) -> int:
    return math.ceil(call.chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(call.messages) + REPLY_PRIMING_TOKENS


def fit_prompts(history: Sequence[PastCall]) -> PromptFit | None:
    """Tokens per character and per-call overhead from the prompts a model reported on.

    With prompts of varied lengths, a least-squares line; with alike ones, the rule of thumb's
    4 characters a token and the rest put down to overhead (the chat template, a default system
    prompt), which a batch's alike prompts share — or, where the model needs fewer tokens than
    the rule, its own tokens per character. Either way the recent prompts' mean is met exactly."""
    points = [(p.prompt_chars, p.prompt_tokens) for p in history if p.tokens_reported and p.prompt_tokens]
    if not points:
        return None
    chars = [float(c) for c, _ in points]
    tokens = [float(n) for _, n in points]
    mean_chars, mean_tokens = statistics.fmean(chars), statistics.fmean(tokens)
    spread = max(chars) - min(chars)
    if len(points) >= 2 and mean_chars > 0 and spread >= MIN_SPREAD * mean_chars:
        covariance = sum((c - mean_chars) * (n - mean_tokens) for c, n in points)
        variance = sum((c - mean_chars) ** 2 for c in chars)
        per_char = covariance / variance
        if 0 < per_char <= 1.5:  # a token is rarely shorter than a character; else the line is noise
            return PromptFit(per_char, max(0.0, mean_tokens - per_char * mean_chars), len(points))
    overhead = mean_tokens - mean_chars / CHARS_PER_TOKEN
    if overhead >= 0 or mean_chars <= 0:
        return PromptFit(1 / CHARS_PER_TOKEN, max(0.0, overhead), len(points))
    return PromptFit(mean_tokens / mean_chars, 0.0, len(points))  # a tokenizer denser than the rule


def input_tokens(
    spec: ModelSpec, calls: Sequence[PlannedCall], history: Sequence[PastCall], count: TokenCounter | None
) -> tuple[int, str]:
    """The calls' input tokens and how they were found (the first way that works for every call)."""
    if count is not None:
        seen: dict[tuple[tuple[str, str], ...], int | None] = {}  # columns often ask the same thing
        counted = []
        for call in calls:
            asked = tuple((m.get("role", ""), m.get("content", "")) for m in call.messages)
            if asked not in seen:
                seen[asked] = count(spec, call.messages)
            counted.append(seen[asked])
        if calls and all(n is not None for n in counted):
            return sum(n for n in counted if n is not None), TOKENIZER
    fit = fit_prompts(history)
    if fit is not None:
        return sum(fit.tokens(call.chars) for call in calls), MEASURED
    return sum(rule_of_thumb_tokens(call) for call in calls), RULE_OF_THUMB


# ---- output tokens --------------------------------------------------------------------------
def recent_length(history: Sequence[PastCall], max_tokens: int) -> float | None:
    """The mean length of recent answers asked with a similar max tokens, capped at ``max_tokens``."""
    similar = [
        p.completion_tokens
        for p in history
        if p.completion_tokens is not None
        and p.max_tokens
        and max_tokens / SIMILAR_MAX_TOKENS <= p.max_tokens <= max_tokens * SIMILAR_MAX_TOKENS
    ]
    if len(similar) < MIN_OUTPUT_SAMPLES:
        return None
    return min(float(max_tokens), statistics.fmean(similar))


def output_tokens(calls: Sequence[PlannedCall], history: Sequence[PastCall]) -> tuple[list[int], str]:
    """Each call's output tokens: recent lengths where every max tokens has them, else the bound."""
    lengths = {m: recent_length(history, m) for m in {c.max_tokens for c in calls}}
    if calls and all(v is not None for v in lengths.values()):
        return [round(lengths[c.max_tokens] or 0) for c in calls], RECENT
    return [c.max_tokens for c in calls], MAX_TOKENS


# ---- speed ----------------------------------------------------------------------------------
def recent_speed(history: Sequence[PastCall]) -> Speed | None:
    timed = [(p.ttft_s, p.tokens_per_s) for p in history if p.ttft_s is not None and p.tokens_per_s]
    if not timed:
        return None
    ttft = statistics.median(t for t, _ in timed if t is not None)
    speed = statistics.median(s for _, s in timed if s is not None)
    return Speed(ttft, speed, len(timed))


# ---- a whole run ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelFacts:
    """What the estimate knows of one model besides the calls: who it is, its recent answers,
    and its last load time when it would have to load first."""

    spec: ModelSpec
    history: Sequence[PastCall] = field(default_factory=tuple)
    load_s: float | None = None


def estimate_model(facts: ModelFacts, calls: Sequence[PlannedCall], count: TokenCounter | None) -> ModelEstimate:
    spec = facts.spec
    inputs, input_method = input_tokens(spec, calls, facts.history, count)
    outputs, output_method = output_tokens(calls, facts.history)
    speed = recent_speed(facts.history)
    seconds = None
    if speed is not None:
        seconds = sum(speed.seconds(n) for n in outputs) + (facts.load_s or 0.0)
    cost = spec.price.cost(inputs, sum(outputs)) if spec.price is not None else None
    return ModelEstimate(
        model_key=spec.key,
        model_name=spec.name,
        calls=len(calls),
        input_tokens=inputs,
        input_method=input_method,
        output_tokens=sum(outputs),
        output_method=output_method,
        cost_usd=cost,
        seconds=seconds,
        speed_samples=speed.samples if speed else 0,
        tokens_per_s=speed.tokens_per_s if speed else None,
        ttft_s=speed.ttft_s if speed else None,
        load_s=facts.load_s,
        price_source=str(spec.price_source) if spec.price is not None and spec.price_source else None,
    )


def estimate_run(
    calls: Sequence[PlannedCall],
    facts: Mapping[str, ModelFacts],
    count: TokenCounter | None = None,
    *,
    parallel: bool = False,
    after_generation_id: int = 0,
) -> RunEstimate:
    """Per model (in the order the calls first name them), then the run's totals."""
    by_model: dict[str, list[PlannedCall]] = {}
    for call in calls:
        by_model.setdefault(call.model_key, []).append(call)
    models = tuple(estimate_model(facts[key], group, count) for key, group in by_model.items())
    return RunEstimate(models, parallel and len(models) > 1, after_generation_id)


# ---- after the run --------------------------------------------------------------------------
@dataclass(frozen=True)
class UsedCall:
    """One answer the run made, as stored (None: not measured)."""

    model_key: str
    model_name: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    total_s: float | None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class ModelActual:
    model_key: str
    model_name: str
    calls: int
    prompt_tokens: int  # of the calls that reported theirs
    completion_tokens: int
    uncounted: int  # calls with no input token count (failed, or the endpoint reports none)
    cost_usd: float | None  # None: some answer's cost is unknown
    seconds: float  # the model's own time, its answers one after another


@dataclass(frozen=True)
class RunActual:
    models: tuple[ModelActual, ...]
    elapsed_s: float | None  # from the first call's start to the last one's end

    @property
    def calls(self) -> int:
        return sum(m.calls for m in self.models)

    @property
    def prompt_tokens(self) -> int:
        return sum(m.prompt_tokens for m in self.models)

    @property
    def completion_tokens(self) -> int:
        return sum(m.completion_tokens for m in self.models)

    @property
    def cost_usd(self) -> float | None:
        costs = [m.cost_usd for m in self.models]
        return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)

    def model(self, key: str) -> ModelActual | None:
        return next((m for m in self.models if m.model_key == key), None)


def _model_actual(calls: Sequence[UsedCall]) -> ModelActual:
    measured = [c for c in calls if c.total_s is not None]
    return ModelActual(
        model_key=calls[0].model_key,
        model_name=calls[0].model_name,
        calls=len(calls),
        prompt_tokens=sum(c.prompt_tokens or 0 for c in calls),
        completion_tokens=sum(c.completion_tokens or 0 for c in calls),
        uncounted=sum(c.prompt_tokens is None for c in calls),
        cost_usd=None if any(c.cost_usd is None for c in measured) else sum(c.cost_usd or 0.0 for c in measured),
        seconds=sum(c.total_s or 0.0 for c in measured),
    )


def actual_run(calls: Sequence[UsedCall]) -> RunActual:
    """The run's answers added up per model (in the order they first answered)."""
    by_model: dict[str, list[UsedCall]] = {}
    for call in calls:
        by_model.setdefault(call.model_key, []).append(call)
    starts = [c.started_at for c in calls if c.started_at is not None]
    ends = [c.finished_at for c in calls if c.finished_at is not None]
    elapsed = (max(ends) - min(starts)).total_seconds() if starts and ends else None
    return RunActual(tuple(_model_actual(group) for group in by_model.values()), elapsed)
