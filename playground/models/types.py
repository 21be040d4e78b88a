"""Plain value types shared by every backend, the registry and the services."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from playground.i18n import Text


class BackendKind(StrEnum):
    LLAMA_CPP = "llama_cpp"
    TRANSFORMERS = "transformers"
    OPENAI = "openai"


class ModelSource(StrEnum):
    EMBEDDED = "embedded"  # shipped inside a PyPI package
    DISCOVERED = "discovered"  # found by scanning a models folder
    USER = "user"  # added by hand in the Models tab (path or endpoint)
    FINETUNED = "finetuned"  # a base model plus a LoRA adapter from a Fine-tune job


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class GenerationParams:
    system_prompt: str = ""
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 256
    seed: int | None = None
    stop: tuple[str, ...] = ()
    # A GBNF grammar the reply must follow (e.g. the judge's "Reason: ... / Score: N").
    # Honoured by llama.cpp models; other backends ignore it.
    grammar: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationParams:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "stop" in known:
            known["stop"] = tuple(known["stop"] or ())
        return cls(**known)


class PriceSource(StrEnum):
    """Where a model's price came from (``ModelSpec.price_source``, ``Usage.price_source``)."""

    OVERRIDE = "override"  # the user set it for this model (Models tab, or the endpoint form)
    LOCAL = "local"  # runs on the user's own machine or network: $0 by choice, not a measured price
    TABLE = "table"  # LiteLLM's price map (playground.models.prices)


class ContextSource(StrEnum):
    """Where a model's context window came from (``ModelSpec.context_source``)."""

    SERVER = "server"  # the server's model list said so
    TABLE = "table"  # the price map's max_input_tokens
    N_CTX = "n_ctx"  # the window llama.cpp is loaded with (PLAYGROUND_N_CTX)


@dataclass(frozen=True)
class Price:
    """US dollars per one million tokens."""

    input_per_m: float
    output_per_m: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_m + completion_tokens * self.output_per_m) / 1_000_000


@dataclass
class Usage:
    """What one generation cost, as measured by the backend that ran it.

    ``None`` means *unknown* (e.g. an endpoint that does not report token counts, or a
    model with no price); it is never silently replaced by 0.
    """

    prompt_tokens: int | None
    completion_tokens: int | None
    ttft_s: float | None  # time to first token
    total_s: float
    cost_usd: float | None = None
    tokens_estimated: bool = False  # counts were not reported by the backend but counted by us
    finish_reason: str | None = None  # "stop", "length", "cancelled"
    price_source: str | None = None  # a PriceSource when cost_usd is known ("local": $0 by choice)

    @property
    def tokens_per_s(self) -> float | None:
        """Decoding speed: tokens after the first, over the time after the first token."""
        if not self.completion_tokens or self.ttft_s is None:
            return None
        decode_time = self.total_s - self.ttft_s
        if self.completion_tokens < 2 or decode_time <= 0:
            return None
        return (self.completion_tokens - 1) / decode_time

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tokens_per_s"] = self.tokens_per_s
        return data


# A backend stream yields text chunks, then exactly one Usage as its last item.
StreamEvent = str | Usage
GenerationStream = Iterator[StreamEvent]


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to load (or call) one model the user can pick."""

    key: str  # stable id used in the UI, the database and the registry
    name: str
    backend: BackendKind
    source: ModelSource
    path: str | None = None  # GGUF file or HF folder
    gguf_file: str | None = None  # a GGUF inside an HF-style folder, for the transformers backend
    adapter_path: str | None = None  # PEFT adapter folder on top of an HF model
    base_url: str | None = None  # OpenAI-compatible endpoint
    remote_model: str | None = None
    api_key_env: str | None = None  # name of the environment variable holding the key
    price: Price | None = None  # None: unknown ("cost unknown", never $0); a local model's is 0, by choice
    price_source: PriceSource | None = None  # why ``price`` is what it is (set by the registry)
    price_match: str | None = None  # the price map's entry that gave the price or window, e.g. "azure/gpt-4o-mini"
    context_length: int | None = None  # prompt + answer tokens one request may use; None: not known
    context_source: ContextSource | None = None
    size_bytes: int | None = None
    chat_template: bool = True  # False: a base model, prompted in plain completion format
    description: Text | str = ""  # a Text is shown in the reader's language
    entry_id: int | None = None  # row in model_entries for user-added models
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def is_remote(self) -> bool:
        return self.backend == BackendKind.OPENAI
