"""The tokenizer of a base model, to count training tokens and render its chat template.

Only the tokenizer is needed here, so a GGUF model whose converted folder is not made yet
is read for its tokenizer alone (a few seconds) instead of being converted (20-45 s); the
converted folder, once the worker has made it, holds the same tokenizer and is used first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playground.errors import InvalidInput, ModelLoadError
from playground.i18n import t
from playground.models.embedded import resolve_model_path
from playground.models.gguf_convert import converted_folder_for, is_converted
from playground.models.registry import ModelRegistry
from playground.models.types import BackendKind, ModelSpec
from playground.models.validation import is_gguf_file

_cache: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def can_fine_tune(spec: ModelSpec) -> bool:
    """Local weights (GGUF or a Hugging Face folder), not an endpoint or an adapter."""
    return spec.backend != BackendKind.OPENAI and not spec.adapter_path


def tokenizer_for(registry: ModelRegistry, key: str) -> Any:
    """The AutoTokenizer of base model ``key`` (a ModelRegistry key), cached per key and file."""
    spec = registry.get_spec(key)
    if not can_fine_tune(spec):
        raise InvalidInput(t("finetune.not_local_base", name=spec.name))
    path = resolve_model_path(spec, registry.settings.cache_dir)
    cache_key = (key, str(path))
    with _lock:
        if cache_key not in _cache:
            _cache[cache_key] = load_tokenizer(path, registry.settings.cache_dir, spec.name)
        return _cache[cache_key]


def load_tokenizer(path: Path, cache_dir: Path, name: str = "") -> Any:
    from transformers import AutoTokenizer

    name = name or path.name
    try:
        if path.is_file() and is_gguf_file(path):
            folder = converted_folder_for(path, cache_dir)
            if is_converted(folder):
                return AutoTokenizer.from_pretrained(str(folder))
            return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        if path.is_dir():
            return AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise ModelLoadError(t("finetune.tokenizer_unreadable", name=name, error=str(err))) from err
    raise ModelLoadError(t("finetune.not_gguf_or_folder", name=name, path=str(path)))


def token_counter(tokenizer: Any) -> Callable[[str], int]:
    """Tokens in a text: a tokenizer's ``encode`` without added special tokens, or a plain
    callable (text -> count) passed as is."""
    encode = getattr(tokenizer, "encode", None)
    if encode is not None:
        return lambda text: len(encode(text, add_special_tokens=False))
    if callable(tokenizer):
        return tokenizer
    raise TypeError(f"Expected a tokenizer or a text -> token count callable, got {type(tokenizer).__name__}.")


def estimate_tokens(text: str) -> int:
    """About four characters per token in English, for when no tokenizer is at hand."""
    return max(1, round(len(text) / 4)) if text else 0
