"""Tokens/s of a tuned model exported to GGUF (llama.cpp backend) vs the same tuned model on the
transformers path (base folder + PEFT adapter), in one run.

The tuned model: the embedded SmolLM2-135M-Instruct as a Hugging Face folder (the app's own
one-time conversion) with a LoRA adapter (r=8, alpha=16, all linear layers, the app's fine-tune
defaults) trained for a few optimizer steps on random tokens so its weights are not zero; how good
its answers are does not matter here, only how fast the two paths decode the same weights.

* transformers: the app's ``TransformersBackend`` on that base folder with ``adapter_path`` set,
  which is how a tuned model answered before export (PEFT wraps every adapted layer).
* GGUF: the same adapter merged into the base (``playground.finetune.merge``), converted to an
  f16 GGUF by the packaged llama.cpp converter and quantised with llama.cpp's quantiser (the
  app's export steps, ``playground.finetune.gguf_converter``), then the app's ``LlamaCppBackend``.

Both sides get the same chat messages, greedy decoding (temperature 0), the same ``max_tokens``
and the same thread count; tokens/s is ``Usage.tokens_per_s`` on both sides (tokens after the
first over the time after the first token, the figure every tab shows). Rounds alternate
(transformers, GGUF, transformers, ...); medians are compared. Goal: GGUF / transformers >= 3.

    .venv/bin/python benchmarks/tuned_inference.py [--rounds 5] [--max-tokens 96] [--quant Q8_0] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playground.finetune.gguf_converter import convert_to_f16, quantise
from playground.finetune.gguf_quantize import check_quant
from playground.finetune.merge import merge_adapter
from playground.models.embedded import embedded_specs
from playground.models.gguf_convert import convert_gguf
from playground.models.llamacpp import LlamaCppBackend
from playground.models.transformers_backend import TransformersBackend
from playground.models.types import BackendKind, GenerationParams, Message, ModelSource, ModelSpec, Usage

PROMPTS = [
    "Write a short paragraph about why the sea is salty.",
    "Explain in a few sentences how a refund request should be answered politely.",
    "List three things to check before sending an invoice.",
]


def make_adapter(base: Path, target: Path, steps: int = 3) -> Path:
    """A LoRA adapter with non-zero weights: a few AdamW steps on random tokens."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
    model = get_peft_model(model, config)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    ids = torch.randint(0, model.config.vocab_size, (2, 32))
    for _ in range(steps):
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(str(target))
    return target


def export_gguf(base: Path, adapter: Path, work: Path, quant_name: str) -> Path:
    quant = check_quant(quant_name)
    merged = merge_adapter(base, adapter, work / "merged")
    f16 = work / "tuned-f16.gguf"
    never = threading.Event()
    started = time.perf_counter()
    convert_to_f16(merged, f16, never, work / "convert.log")
    print(f"converted to f16 GGUF in {time.perf_counter() - started:.1f} s ({f16.stat().st_size / 1e6:.0f} MB)")
    if quant.name == "f16":
        return f16
    target = work / f"tuned-{quant.name}.gguf"
    started = time.perf_counter()
    quantise(f16, target, quant, never, work / "quantise.log")
    print(f"quantised to {quant.name} in {time.perf_counter() - started:.1f} s ({target.stat().st_size / 1e6:.0f} MB)")
    return target


def spec(key: str, backend: BackendKind, path: Path, adapter: Path | None = None) -> ModelSpec:
    return ModelSpec(
        key=key,
        name=key,
        backend=backend,
        source=ModelSource.FINETUNED,
        path=str(path),
        adapter_path=str(adapter) if adapter else None,
    )


def decode_rate(backend, prompt: str, params: GenerationParams) -> tuple[float, int]:
    usage = None
    for event in backend.stream([Message("user", prompt)], params):
        if isinstance(event, Usage):
            usage = event
    assert usage is not None and usage.tokens_per_s, "no decoding speed reported"
    return usage.tokens_per_s, usage.completion_tokens or 0


def measure(backends: dict, rounds: int, params: GenerationParams) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {name: [] for name in backends}
    for backend in backends.values():  # warm-up: first-call costs hit neither side's figures
        decode_rate(backend, PROMPTS[0], params)
    for round_no in range(rounds):
        prompt = PROMPTS[round_no % len(PROMPTS)]
        for name, backend in backends.items():
            rate, tokens = decode_rate(backend, prompt, params)
            rates[name].append(rate)
            print(f"  round {round_no + 1} {name:<13} {rate:7.1f} tokens/s ({tokens} tokens)")
    return rates


def arguments() -> argparse.Namespace:
    """The options every tuned-model decoding benchmark takes."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--quant", default="Q8_0")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    return parser.parse_args()


def medians(backends: dict, args: argparse.Namespace, params: GenerationParams) -> list[float]:
    """Each side's median tokens/s over interleaved rounds, printed as it goes, in ``backends``' order."""
    print(f"threads {args.threads}; max_tokens {args.max_tokens}; greedy; {args.rounds} interleaved rounds")
    rates = measure(backends, args.rounds, params)
    found = [statistics.median(rates[name]) for name in backends]
    for name, median in zip(backends, found):
        print(f"{name:<29} median {median:7.1f} tokens/s")
    for backend in backends.values():
        backend.unload()
    return found


def main() -> int:
    args = arguments()
    cache = Path(tempfile.gettempdir()) / "playground-bench-cache"
    embedded = embedded_specs(cache)[0]
    base = convert_gguf(Path(embedded.path or ""), cache)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        adapter = make_adapter(base, work / "adapter")
        gguf = export_gguf(base, adapter, work, args.quant)
        backends = {
            "transformers + PEFT adapter": TransformersBackend(
                spec("tuned-hf", BackendKind.TRANSFORMERS, base, adapter), cache_dir=cache, n_threads=args.threads
            ),
            f"GGUF {args.quant}": LlamaCppBackend(
                spec("tuned-gguf", BackendKind.LLAMA_CPP, gguf), cache_dir=cache, n_ctx=2048, n_threads=args.threads
            ),
        }
        for backend in backends.values():
            backend.load()
        params = GenerationParams(temperature=0.0, top_p=1.0, max_tokens=args.max_tokens, seed=0)
        hf, fast = medians(backends, args, params)
        ratio = fast / hf
        print(f"ratio GGUF/transformers = {ratio:.2f}  (goal >= 3: {'met' if ratio >= 3 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
