"""Backend for Hugging Face model folders (optionally with a PEFT adapter), run with PyTorch."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playground.errors import GenerationError, ModelLoadError
from playground.models.base import (
    Backend,
    StopSequenceFilter,
    UsageClock,
    chat_messages,
    plain_completion_prompt,
)
from playground.models.gguf_convert import convert_gguf
from playground.models.types import GenerationParams, GenerationStream, Message, ModelSpec
from playground.models.validation import is_gguf_file, validate_adapter_folder, validate_hf_folder

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedModel

log = logging.getLogger(__name__)

# transformers builds a model on the meta device and then fills in its weights; two loads
# at once in one process corrupt each other ("Cannot copy out of meta tensor", or wrong
# weights and garbage answers). Loads take turns; generation stays concurrent.
_LOAD_LOCK = threading.Lock()


class TransformersBackend(Backend):
    def __init__(self, spec: ModelSpec, *, cache_dir: Path, n_threads: int = 0, model_path: Path | None = None):
        super().__init__(spec)
        self.cache_dir = cache_dir
        self.n_threads = n_threads
        self._model_path = model_path
        self._model: Any = None
        self._tokenizer: Any = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def model_folder(self) -> Path:
        path = self._model_path or Path(self.spec.path or "")
        if path.is_file() and is_gguf_file(path):
            return convert_gguf(path, self.cache_dir)
        return validate_hf_folder(str(path))

    def load(self) -> None:
        if self.loaded:
            return
        import torch

        if self.n_threads:
            torch.set_num_threads(self.n_threads)
        folder = self.model_folder()
        with _LOAD_LOCK:
            self._load_from(folder)

    def _load_from(self, folder: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(str(folder))
            model: PreTrainedModel | PeftModel = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
            if self.spec.adapter_path:
                from peft import PeftModel

                adapter = validate_adapter_folder(self.spec.adapter_path)
                model = PeftModel.from_pretrained(model, str(adapter))
        except MemoryError as err:
            raise ModelLoadError(
                f"Ran out of memory loading {self.spec.name}. Unload other models and try again."
            ) from err
        except (OSError, ValueError, KeyError, RuntimeError) as err:
            raise ModelLoadError(f"Could not load {self.spec.name} from {folder}: {err}") from err
        model.eval()
        self._model, self._tokenizer = model, tokenizer

    def unload(self) -> None:
        self._model = None
        self._tokenizer = None

    def memory_bytes(self) -> int:
        if self._model is None:
            return (self.spec.size_bytes or 0) * 4  # quantised files grow ~4x once dequantised to fp32
        return sum(p.numel() * p.element_size() for p in self._model.parameters())

    def context_window(self) -> int | None:
        """The model's position limit (``max_position_embeddings``) once loaded, else what the spec says."""
        limit = getattr(getattr(self._model, "config", None), "max_position_embeddings", None)
        return int(limit) if isinstance(limit, int) and limit > 0 else self.spec.context_length

    def count_prompt_tokens(self, messages: Sequence[Message], params: GenerationParams) -> int | None:
        """Exact: the ids ``stream`` would give ``generate``, from the same template and tokenizer."""
        if self._tokenizer is None:
            return None
        input_ids, _stops = self._prompt_ids(chat_messages(messages, params))
        return int(input_ids.shape[1])

    def _prompt_ids(self, messages: Sequence[dict[str, str]]) -> tuple[Any, tuple[str, ...]]:
        tok = self._tokenizer
        prompt_format = self.spec.extra.get("prompt_format")
        if prompt_format:  # a fine-tuned model answers only in the format it was trained on
            import torch

            from playground.models.prompt_formats import encode_text, example_from_messages, format_stops, render_prompt

            text = render_prompt(example_from_messages(messages), prompt_format, tok)
            return torch.tensor([encode_text(tok, text)]), format_stops(prompt_format)
        if self.spec.chat_template and getattr(tok, "chat_template", None):
            ids = tok.apply_chat_template(
                list(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            return ids["input_ids"], ()
        text, stops = plain_completion_prompt(messages)
        return tok(text, return_tensors="pt")["input_ids"], stops

    def stream(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> GenerationStream:
        self.load()
        from transformers import TextIteratorStreamer

        clock = UsageClock()
        input_ids, extra_stops = self._prompt_ids(chat_messages(messages, params))
        stops = StopSequenceFilter(tuple(params.stop) + extra_stops)
        halt = threading.Event()
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)

        def halted() -> bool:
            return halt.is_set() or bool(cancel and cancel.is_set())

        worker, result = self._start_generating(self._generation_kwargs(input_ids, params, streamer, halted), params)
        for piece in streamer:
            text = stops.feed(piece)
            if text:
                clock.mark_token()
                yield text
            if stops.stopped:
                halt.set()
        tail = stops.flush()
        if tail:
            clock.mark_token()
            yield tail
        worker.join()
        if "error" in result:
            raise self._failure(result["error"]) from result["error"]
        prompt_tokens = int(input_ids.shape[1])
        completion_tokens = int(result["output"].shape[1]) - prompt_tokens
        yield clock.finish(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            price=self.spec.price,
            finish_reason=finish_reason(cancel, stops.stopped, completion_tokens, params.max_tokens),
        )

    def _generation_kwargs(
        self, input_ids: Any, params: GenerationParams, streamer: Any, halted: Callable[[], bool]
    ) -> dict[str, Any]:
        """``generate``'s arguments: greedy or sampled as ``params`` say, halting when ``halted()``."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        class _Halt(StoppingCriteria):
            def __call__(self, *_: Any, **__: Any) -> bool:
                return halted()

        do_sample = params.temperature > 0
        gen_kwargs: dict[str, Any] = {
            "input_ids": input_ids,
            "attention_mask": torch.ones_like(input_ids),
            "max_new_tokens": params.max_tokens,
            "do_sample": do_sample,
            "streamer": streamer,
            "stopping_criteria": StoppingCriteriaList([_Halt()]),
            "pad_token_id": self._tokenizer.pad_token_id or self._tokenizer.eos_token_id,
        }
        if do_sample:
            gen_kwargs.update(temperature=params.temperature, top_p=params.top_p)
        return gen_kwargs

    def _start_generating(
        self, gen_kwargs: dict[str, Any], params: GenerationParams
    ) -> tuple[threading.Thread, dict[str, Any]]:
        """``generate`` on a thread of its own (the streamer is read here); its output or error
        lands in the dict returned."""
        import torch

        result: dict[str, Any] = {}

        def _run() -> None:
            try:
                if params.seed is not None:
                    torch.manual_seed(params.seed)
                with torch.inference_mode():
                    result["output"] = self._model.generate(**gen_kwargs)
            except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
                result["error"] = err
                gen_kwargs["streamer"].end()

        worker = threading.Thread(target=_run, name=f"generate-{self.spec.key}", daemon=True)
        worker.start()
        return worker, result

    def _failure(self, err: BaseException) -> GenerationError:
        if isinstance(err, MemoryError):
            return GenerationError(f"{self.spec.name} ran out of memory while answering. Try fewer max tokens.")
        return GenerationError(f"{self.spec.name} failed while answering: {err}")


def finish_reason(cancel: threading.Event | None, stopped: bool, completion_tokens: int, max_tokens: int) -> str:
    if cancel is not None and cancel.is_set():
        return "cancelled"
    if stopped or completion_tokens < max_tokens:
        return "stop"
    return "length"
