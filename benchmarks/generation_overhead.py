"""Tokens/s through our llama.cpp backend vs raw ``llama_cpp.Llama.create_chat_completion``.

Same model (the embedded SmolLM2), same prompt, same seed and sampling, same Llama
instance; runs interleaved (ours, raw, ours, raw, ...) so machine noise hits both sides.
Tokens/s is measured the same way for both by this script: tokens after the first (output
re-tokenized) over the time after the first chunk. Goal: ratio (ours / raw) >= 0.97.

    .venv/bin/python benchmarks/generation_overhead.py [--runs 5] [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playground.models.embedded import embedded_specs
from playground.models.llamacpp import LlamaCppBackend
from playground.models.types import GenerationParams, Message, Usage

PROMPT = "Write a short paragraph about why the sea is salty."


def decode_rate(tokens: int, started: float, first: float, ended: float) -> float:
    return (tokens - 1) / (ended - first)


def count_tokens(llm, text: str) -> int:
    """Both sides are counted this same way, so the ratio compares like with like."""
    return len(llm.tokenize(text.encode(), add_bos=False, special=False))


def run_ours(backend: LlamaCppBackend, params: GenerationParams) -> tuple[float, str]:
    started = time.perf_counter()
    first = None
    text = []
    for event in backend.stream([Message("user", PROMPT)], params):
        if isinstance(event, Usage):
            continue
        if first is None:
            first = time.perf_counter()
        text.append(event)
    ended = time.perf_counter()
    joined = "".join(text)
    return decode_rate(count_tokens(backend._llm, joined), started, first, ended), joined


def run_raw(llm, params: GenerationParams) -> tuple[float, str]:
    started = time.perf_counter()
    first = None
    text = []
    for chunk in llm.create_chat_completion(
        messages=[{"role": "user", "content": PROMPT}],
        temperature=params.temperature,
        top_p=params.top_p,
        max_tokens=params.max_tokens,
        seed=params.seed,
        stream=True,
    ):
        piece = chunk["choices"][0]["delta"].get("content")
        if piece:
            if first is None:
                first = time.perf_counter()
            text.append(piece)
    ended = time.perf_counter()
    joined = "".join(text)
    return decode_rate(count_tokens(llm, joined), started, first, ended), joined


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    spec = embedded_specs(Path(tempfile.gettempdir()))[0]
    backend = LlamaCppBackend(spec, cache_dir=Path(tempfile.gettempdir()), n_ctx=2048)
    backend.load()
    llm = backend._llm  # the very same weights and context for both sides
    params = GenerationParams(temperature=0.7, top_p=0.95, max_tokens=args.max_tokens, seed=42)
    run_ours(backend, params)  # warm-up: first-call costs hit neither side's figures
    run_raw(llm, params)
    ours, raw = [], []
    same_text = True
    for _ in range(args.runs):
        rate_ours, text_ours = run_ours(backend, params)
        rate_raw, text_raw = run_raw(llm, params)
        ours.append(rate_ours)
        raw.append(rate_raw)
        same_text &= text_ours == text_raw
    med_ours, med_raw = statistics.median(ours), statistics.median(raw)
    print(
        f"model: {spec.name}; prompt tokens ~{len(llm.tokenize(PROMPT.encode()))}; max_tokens {args.max_tokens}; runs {args.runs} each, interleaved"
    )
    print(
        f"ours (LlamaCppBackend.stream)          median {med_ours:7.1f} tokens/s  runs: {', '.join(f'{r:.1f}' for r in ours)}"
    )
    print(
        f"raw  (Llama.create_chat_completion)    median {med_raw:7.1f} tokens/s  runs: {', '.join(f'{r:.1f}' for r in raw)}"
    )
    print(f"same text on both sides every run: {same_text}")
    ratio = med_ours / med_raw
    print(f"ratio ours/raw = {ratio:.3f}  (goal >= 0.97: {'met' if ratio >= 0.97 else 'NOT met'})")
    backend.unload()
    return 0


if __name__ == "__main__":
    sys.exit(main())
