"""A llama.cpp model's own token count for a prompt, for the estimates, without its weights.

llama.cpp loads a GGUF's vocabulary alone (``vocab_only``) in well under a second, with the
file's chat template; the prompt is then rendered and tokenized exactly as
``playground.models.llamacpp`` does before it generates, so the count is the one the model will
report. (A test compares the two on the embedded SmolLM2.) Other backends have no tokenizer to
hand this cheaply: the estimates measure them from their recent answers instead.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from playground.models.base import plain_completion_prompt
from playground.models.prompt_formats import CHAT_TEMPLATE
from playground.models.types import BackendKind, ModelSpec

log = logging.getLogger(__name__)
KEEP_VOCABULARIES = 4  # each is a few MB; a run names a handful of models


class _Vocabulary:
    """One GGUF's tokenizer and chat template (no weights)."""

    def __init__(self, path: Path, chat_template: bool):
        from llama_cpp import Llama, llama_chat_format

        self.llm = Llama(model_path=str(path), vocab_only=True, n_ctx=64, verbose=False)
        template = self.llm.metadata.get("tokenizer.chat_template") if chat_template else None
        self.formatter: Any = None
        if template:  # as LlamaCppBackend._chat_formatter sets it up
            eos_id, bos_id = self.llm.token_eos(), self.llm.token_bos()
            vocab = self.llm._model
            self.formatter = llama_chat_format.Jinja2ChatFormatter(
                template=template,
                eos_token=vocab.token_get_text(eos_id) if eos_id != -1 else "",
                bos_token=vocab.token_get_text(bos_id) if bos_id != -1 else "",
                stop_token_ids=[eos_id],
            )

    def count(self, messages: Sequence[Mapping[str, str]]) -> int:
        dialogue = [dict(m) for m in messages]
        if self.formatter is not None:
            rendered = self.formatter(messages=dialogue)
            tokens = self.llm.tokenize(
                rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
            )
            return len(tokens)
        prompt, _ = plain_completion_prompt(dialogue)
        return self._plain_count(prompt)

    def _plain_count(self, prompt: str) -> int:
        """What ``Llama.create_completion`` makes of a text prompt: BOS (when the model adds one),
        the text, and EOS where the model's tokenizer appends one."""
        model = self.llm._model
        body = len(self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)) if prompt else 0
        first = model.token_cls() if model.token_cls() != -1 else self.llm.token_bos()
        bos = int(model.add_bos_token() and first != -1)
        eos = int(model.add_eos_token() or model.token_sep() != -1)
        return bos + body + eos


class PromptTokenCounter:
    """``count(spec, messages)``: the prompt's tokens for a llama.cpp GGUF model on disk, else None.

    ``kinds``: the backends whose real tokenizer applies (the fast tests replace the llama.cpp
    backend with a scripted one that counts words, so there it must not apply)."""

    def __init__(self, kinds: Collection[BackendKind] = (BackendKind.LLAMA_CPP,)):
        self.kinds = frozenset(kinds)
        self._vocabularies: OrderedDict[tuple[str, bool], _Vocabulary | None] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, spec: ModelSpec, messages: Sequence[Mapping[str, str]]) -> int | None:
        return self.count(spec, messages)

    def count(self, spec: ModelSpec, messages: Sequence[Mapping[str, str]]) -> int | None:
        if spec.backend not in self.kinds or not spec.path or spec.adapter_path:
            return None
        if str(spec.extra.get("prompt_format") or CHAT_TEMPLATE) != CHAT_TEMPLATE:
            return None  # a fine-tuned export prompted in its training format: measured instead
        path = Path(spec.path)
        if not path.is_file():  # e.g. a model still to be assembled: not worth doing for an estimate
            return None
        with self._lock:
            vocabulary = self._vocabulary(path, spec.chat_template)
            if vocabulary is None:
                return None
            try:
                return vocabulary.count(messages)
            except Exception:
                log.exception("Could not count the prompt's tokens for %s", spec.name)
                return None

    def _vocabulary(self, path: Path, chat_template: bool) -> _Vocabulary | None:
        key = (str(path), chat_template)
        if key in self._vocabularies:
            self._vocabularies.move_to_end(key)
            return self._vocabularies[key]
        try:
            vocabulary: _Vocabulary | None = _Vocabulary(path, chat_template)
        except Exception:
            log.warning("Could not read the tokenizer of %s; estimating its tokens instead", path, exc_info=True)
            vocabulary = None
        self._vocabularies[key] = vocabulary
        while len(self._vocabularies) > KEEP_VOCABULARIES:
            _, dropped = self._vocabularies.popitem(last=False)
            if dropped is not None:
                dropped.llm.close()
        return vocabulary
