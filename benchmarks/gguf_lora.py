"""The lighter path the GGUF export does not take, measured: a LoRA adapter applied by llama.cpp on
the base GGUF, against the merged export the app makes, in one run.

The tuned model is ``tuned_inference.py``'s: the embedded SmolLM2-135M-Instruct as a Hugging Face
folder with a LoRA adapter (r=8, alpha=16, all linear layers) trained a few steps so its weights
are not zero.

* merged: the app's export steps (merge → f16 GGUF → quantise), as in ``tuned_inference.py``.
* LoRA on base: the base folder through the same converter and quantiser (the same type), and
  the adapter written as a llama.cpp LoRA GGUF here (``write_lora_gguf``: llama.cpp's tensor
  names, ``.lora_a``/``.lora_b``, alpha in the header, the q/k rows of B permuted as the
  converter permutes the base's q/k weights), loaded with ``Llama(lora_path=...)``.

Both run through the app's ``LlamaCppBackend``, greedy, same prompts, threads and ``max_tokens``;
rounds alternate. Printed: each side's median tokens/s and the ratio, the files' sizes, and how
many greedy answers agree between the two (quantising the base and the merged weights separately
rounds differently, so a few may differ).

    .venv/bin/python benchmarks/gguf_lora.py [--rounds 5] [--max-tokens 96] [--quant Q8_0] [--threads N]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tuned_inference import PROMPTS, arguments, export_gguf, make_adapter, medians, spec

from playground.finetune.gguf_converter import convert_to_f16, quantise
from playground.finetune.gguf_quantize import check_quant
from playground.models.embedded import embedded_specs
from playground.models.gguf_convert import convert_gguf
from playground.models.llamacpp import LlamaCppBackend
from playground.models.transformers_backend import TransformersBackend
from playground.models.types import BackendKind, GenerationParams, Message, Usage


def permute_rows(weights, n_head: int, n_head_kv: int | None = None):
    """The row order llama.cpp's converter gives q/k projections (``LlamaModel.permute``)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def write_lora_gguf(adapter: Path, base: Path, target: Path) -> Path:
    """A PEFT LoRA adapter of a Llama-architecture base as a llama.cpp LoRA GGUF (f32)."""
    import gguf
    from safetensors.torch import load_file

    config = json.loads((base / "config.json").read_text())
    alpha = float(json.loads((adapter / "adapter_config.json").read_text())["lora_alpha"])
    n_head, n_kv = config["num_attention_heads"], config.get("num_key_value_heads")
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config["num_hidden_layers"])
    writer = gguf.GGUFWriter(str(target), "llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    for key, tensor in sorted(load_file(str(adapter / "adapter_model.safetensors")).items()):
        stem, part = key.rsplit(".lora_", 1)  # "...q_proj", "A.weight"
        hf_name = stem.removeprefix("base_model.model.") + ".weight"
        name = names.get_name(hf_name, try_suffixes=(".weight",))
        if name is None:
            raise ValueError(f"no llama.cpp name for {hf_name}")
        data = tensor.float()
        if part.startswith("B") and hf_name.endswith("q_proj.weight"):
            data = permute_rows(data, n_head, n_head)
        elif part.startswith("B") and hf_name.endswith("k_proj.weight"):
            data = permute_rows(data, n_head, n_kv)
        writer.add_tensor(f"{name}.lora_{part[0].lower()}", data.numpy())
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return target


def base_gguf(base: Path, work: Path, quant_name: str) -> Path:
    never = threading.Event()
    f16 = work / "base-f16.gguf"
    convert_to_f16(base, f16, never, work / "convert-base.log")
    quant = check_quant(quant_name)
    if quant.name == "f16":
        return f16
    target = work / f"base-{quant.name}.gguf"
    quantise(f16, target, quant, never, work / "quantise-base.log")
    return target


def greedy(backend, prompt: str, params: GenerationParams) -> str:
    return "".join(str(e) for e in backend.stream([Message("user", prompt)], params) if not isinstance(e, Usage))


def agreement(backends: dict, base: Path, adapter: Path, plain: Path, cache: Path, params: GenerationParams) -> None:
    """How many greedy answers agree: LoRA-on-base and the base alone with the merged export (the
    adapter is applied when the first agree and the second do not), and both sides with the tuned
    model itself (transformers, fp32)."""
    answers = {name: [greedy(b, p, params).strip() for p in PROMPTS] for name, b in backends.items()}
    for name, model in {
        "base alone": LlamaCppBackend(spec("base", BackendKind.LLAMA_CPP, plain), cache_dir=cache, n_ctx=2048),
        "tuned": TransformersBackend(spec("tuned-hf", BackendKind.TRANSFORMERS, base, adapter), cache_dir=cache),
    }.items():
        answers[name] = [greedy(model, p, params).strip() for p in PROMPTS]
        model.unload()
    merged_name, lora_name = list(backends)
    for one, other in (
        (lora_name, merged_name),
        ("base alone", merged_name),
        (merged_name, "tuned"),
        (lora_name, "tuned"),
    ):
        agree = sum(a == b for a, b in zip(answers[one], answers[other]))
        print(f"greedy answers of {one} that agree with {other}: {agree} of {len(PROMPTS)}")


def main() -> int:
    args = arguments()
    cache = Path(tempfile.gettempdir()) / "playground-bench-cache"
    base = convert_gguf(Path(embedded_specs(cache)[0].path or ""), cache)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        adapter = make_adapter(base, work / "adapter")
        merged = export_gguf(base, adapter, work, args.quant)
        started = time.perf_counter()
        plain = base_gguf(base, work, args.quant)
        lora = write_lora_gguf(adapter, base, work / "adapter-f32.gguf")
        print(f"base GGUF and LoRA GGUF written in {time.perf_counter() - started:.1f} s")
        print(
            f"sizes: merged {merged.stat().st_size / 1e6:.0f} MB; base {plain.stat().st_size / 1e6:.0f} MB"
            f" + adapter {lora.stat().st_size / 1e6:.1f} MB"
        )
        backends = {
            f"merged {args.quant}": LlamaCppBackend(
                spec("merged", BackendKind.LLAMA_CPP, merged), cache_dir=cache, n_ctx=2048, n_threads=args.threads
            ),
            "base + LoRA": LlamaCppBackend(
                spec("lora", BackendKind.LLAMA_CPP, plain),
                cache_dir=cache,
                n_ctx=2048,
                n_threads=args.threads,
                lora_path=lora,
            ),
        }
        for name, backend in backends.items():
            started = time.perf_counter()
            backend.load()
            print(f"{name} loaded in {time.perf_counter() - started:.2f} s")
        params = GenerationParams(temperature=0.0, top_p=1.0, max_tokens=args.max_tokens, seed=0)
        agreement(backends, base, adapter, plain, cache, params)
        fast, light = medians(backends, args, params)
        print(f"ratio LoRA-on-base / merged = {light / fast:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
