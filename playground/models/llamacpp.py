"""Backend for GGUF files, run in-process with llama.cpp, using the model's own chat template."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playground.errors import GenerationError, ModelLoadError
from playground.models.base import (
    Backend,
    StopSequenceFilter,
    UsageClock,
    chat_messages,
    plain_completion_prompt,
)
from playground.models.embedded import resolve_model_path
from playground.models.types import GenerationParams, GenerationStream, Message, ModelSpec
from playground.models.validation import validate_gguf

log = logging.getLogger(__name__)
KV_OVERHEAD_BYTES = 64 * 1024 * 1024  # context buffers on top of the weights, at n_ctx 4096


class _TokenCounter:
    """A llama.cpp stopping criterion that counts sampled tokens and honours cancellation.

    llama.cpp calls it once per sampled token with the context so far (which grows by one
    each time), and once more after the loop; so the first call sees exactly the prompt and
    the longest context seen gives the number of sampled tokens. Copies nothing.
    """

    def __init__(self, cancel: threading.Event | None):
        self.cancel = cancel
        self.prompt_tokens: int | None = None
        self.longest = 0
        self.halted = False  # True once we asked llama.cpp to stop; that sample is discarded

    def __call__(self, input_ids: Any, _logits: Any) -> bool:
        length = len(input_ids)
        if self.prompt_tokens is None:
            self.prompt_tokens = length
        self.longest = max(self.longest, length)
        if self.cancel is not None and self.cancel.is_set():
            self.halted = True
        return self.halted

    @property
    def sampled(self) -> int:
        if self.prompt_tokens is None:
            return 0
        return self.longest - self.prompt_tokens + 1 - int(self.halted)


@functools.lru_cache(maxsize=16)
def compiled_grammar(text: str) -> Any:
    """A GBNF grammar parsed once: a judge sends the same one on every call."""
    from llama_cpp import LlamaGrammar

    try:
        return LlamaGrammar.from_string(text, verbose=False)
    except ValueError as err:
        raise GenerationError(f"The reply format (grammar) is not valid: {err}") from err


class LlamaCppBackend(Backend):
    def __init__(
        self, spec: ModelSpec, *, cache_dir: Path, n_ctx: int = 4096, n_threads: int = 0, lora_path: Path | None = None
    ):
        super().__init__(spec)
        self.cache_dir = cache_dir
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.lora_path = lora_path  # a LoRA adapter in GGUF applied on the model (benchmarks/gguf_lora.py)
        self._llm: Any = None
        self._formatter: Any = None

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    def load(self) -> None:
        if self.loaded:
            return
        path = validate_gguf(str(resolve_model_path(self.spec, self.cache_dir)))
        from llama_cpp import Llama

        try:
            self._llm = Llama(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads or None,
                lora_path=str(self.lora_path) if self.lora_path else None,
                verbose=False,
            )
        except MemoryError as err:
            raise ModelLoadError(
                f"Ran out of memory loading {self.spec.name}. Unload other models and try again."
            ) from err
        except (ValueError, RuntimeError, OSError) as err:
            raise ModelLoadError(f"llama.cpp could not load {path.name}: {err}") from err
        self._formatter = self._chat_formatter() if self.spec.chat_template else None

    def _chat_formatter(self) -> Any:
        """The model's own Jinja chat template, set up as llama-cpp-python sets it up.

        A GGUF without a template is prompted in plain completion format, like a base model.
        """
        from llama_cpp import llama_chat_format

        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            log.info("%s has no chat template; using plain completion format", self.spec.name)
            return None
        vocab = self._llm._model
        eos_id, bos_id = self._llm.token_eos(), self._llm.token_bos()
        return llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=vocab.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=vocab.token_get_text(bos_id) if bos_id != -1 else "",
            stop_token_ids=[eos_id],
        )

    def unload(self) -> None:
        llm, self._llm, self._formatter = self._llm, None, None
        if llm is not None:
            llm.close()

    def memory_bytes(self) -> int:
        return (self.spec.size_bytes or 0) + KV_OVERHEAD_BYTES

    def context_window(self) -> int | None:
        return self.n_ctx

    def count_prompt_tokens(self, messages: Sequence[Message], params: GenerationParams) -> int | None:
        """Exact: the prompt ``stream`` would send, through the model's own template and tokenizer."""
        if self._llm is None:
            return None
        dialogue = chat_messages(messages, params)
        if self._trained_format():
            return len(self._trained_prompt(dialogue)[0])
        if self._formatter is not None:
            return len(self._templated_prompt(dialogue)[0])
        prompt, _stops = plain_completion_prompt(dialogue)
        return len(self._llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))

    def _trained_format(self) -> str:
        """The prompt format a fine-tuned model's GGUF export was trained in, when it is not the
        chat template (the GGUF carries that one itself); "" for every other model."""
        from playground.models.prompt_formats import CHAT_TEMPLATE

        fmt = str(self.spec.extra.get("prompt_format") or "")
        return fmt if fmt != CHAT_TEMPLATE else ""

    def _trained_prompt(self, dialogue: list[dict[str, str]]) -> tuple[list[int], tuple[str, ...]]:
        """The prompt rendered as training rendered it (``prompt_formats``), and the format's stops."""
        from playground.models.prompt_formats import example_from_messages, format_stops, render_prompt

        fmt = self._trained_format()
        text = render_prompt(example_from_messages(dialogue), fmt)
        return self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=True), format_stops(fmt)

    def _templated_prompt(self, dialogue: list[dict[str, str]]) -> tuple[list[int], Any]:
        """What llama-cpp's own chat handler does, minus dropping our stopping criterion."""
        rendered = self._formatter(messages=dialogue)
        tokens = self._llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)
        return tokens, rendered

    def _request(
        self, dialogue: list[dict[str, str]], params: GenerationParams, counter: _TokenCounter
    ) -> tuple[Any, dict[str, Any], tuple[str, ...]]:
        """The prompt (text or tokens), ``create_completion``'s sampling arguments, and the stop
        strings this side applies: in the trained format of a fine-tuned export, by the model's
        chat template, or as a plain completion."""
        from llama_cpp import StoppingCriteriaList

        sampling: dict[str, Any] = {
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "seed": params.seed,
            "stream": True,
            "stopping_criteria": StoppingCriteriaList([counter]),
        }
        if params.grammar:
            sampling["grammar"] = compiled_grammar(params.grammar)
        if self._trained_format():  # a fine-tuned export answers only in the format it was trained on
            prompt, extra_stops = self._trained_prompt(dialogue)
            return prompt, sampling, extra_stops
        if self._formatter is not None:
            prompt, rendered = self._templated_prompt(dialogue)
            sampling["stop"] = rendered.stop
            if rendered.stopping_criteria is not None:
                sampling["stopping_criteria"] = StoppingCriteriaList([counter, *rendered.stopping_criteria])
            return prompt, sampling, ()
        text, stops = plain_completion_prompt(dialogue)
        return text, sampling, stops

    def stream(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> GenerationStream:
        self.load()
        clock = UsageClock()
        counter = _TokenCounter(cancel)
        prompt, sampling, extra_stops = self._request(chat_messages(messages, params), params, counter)
        chunks = self._llm.create_completion(prompt=prompt, **sampling)
        # Stop sequences are applied here rather than by llama.cpp so the token count stays exact.
        stops = StopSequenceFilter(tuple(params.stop) + extra_stops)
        finish_reason = None
        try:
            for chunk in chunks:
                choice = chunk["choices"][0]
                piece = choice["delta"].get("content") if "delta" in choice else choice.get("text")
                finish_reason = choice.get("finish_reason") or finish_reason
                text = stops.feed(piece) if piece else ""
                if text:
                    clock.mark_token()
                    yield text
                if stops.stopped:
                    break
        except (RuntimeError, ValueError) as err:
            raise GenerationError(f"{self.spec.name} failed while answering: {err}") from err
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        tail = stops.flush()
        if tail:
            clock.mark_token()
            yield tail
        completion_tokens = counter.sampled
        if cancel is not None and cancel.is_set():
            finish_reason = "cancelled"
        elif stops.stopped:
            finish_reason = "stop"
        elif finish_reason == "stop" and completion_tokens:
            completion_tokens -= 1  # the end-of-generation token was sampled but is not output
        yield clock.finish(
            prompt_tokens=counter.prompt_tokens,
            completion_tokens=completion_tokens,
            price=self.spec.price,
            finish_reason=finish_reason,
        )
