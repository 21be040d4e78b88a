"""The two sides of benchmarks/finetune_throughput.py, each run in its own process: our worker
with a timer around its steps, and a plain Hugging Face ``Trainer`` + PEFT script."""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent

DATASET = REPO / "assets" / "demo" / "finetune_support_replies.csv"
LORA = dict(r=8, alpha=16, dropout=0.05)
LEARNING_RATE = 2e-4
WARMUP_RATIO = 0.05  # TrainingConfig's default; the HF side gets the same warm-up steps


# ---- shared by both children --------------------------------------------------------------
def load_examples(path: Path = DATASET):
    from playground.finetune.datasets import detect_mapping, read_dataset_table, to_examples

    table = read_dataset_table(path)
    return to_examples(table.rows, detect_mapping(table.columns))


def _proc_status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


class Memory:
    """Memory over the training steps: RSS growth on the CPU, allocated peak on CUDA."""

    def __init__(self, cuda: bool):
        self.cuda = cuda
        self.result: dict[str, Any] = {}

    def start(self) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        self.result["rss_before_kib"] = _proc_status_kib("VmRSS")
        try:  # "5" resets the peak resident set size (VmHWM) to the current RSS (Linux >= 4.0)
            Path("/proc/self/clear_refs").write_text("5")
            self.result["hwm_reset"] = True
        except OSError:
            self.result["hwm_reset"] = False

    def stop(self) -> None:
        self.result["hwm_kib"] = _proc_status_kib("VmHWM")
        self.result["ru_maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if self.cuda:
            import torch

            self.result["cuda_peak_bytes"] = int(torch.cuda.max_memory_allocated())


class StepMeter:
    """Per optimizer step: non-padding tokens and padded positions of every training forward
    (a pre-hook on the base model's decoder, so both sides count identically), and when the step ended."""

    def __init__(self, model: Any, cuda: bool):
        import torch

        from playground.finetune.shared_prefix import in_prefix_pass

        self.cuda = cuda
        self._in_prefix_pass = in_prefix_pass  # imported once, not in every measured forward
        self.active = False
        self._masks: list[Any] = []
        self.steps: list[dict[str, float]] = []
        # The decoder under the output head: the HF path reaches it through the PEFT model's
        # forward, our trainer may call it directly (it runs the head on answer positions only).
        decoder = getattr(model.get_base_model(), "model", None)
        (decoder if isinstance(decoder, torch.nn.Module) else model).register_forward_pre_hook(
            self._hook, with_kwargs=True
        )

    def _hook(self, module: Any, args: Any, kwargs: dict[str, Any]) -> None:
        # A shared prefix's tokens are counted once per row in the pass after it, whose mask covers them.
        if self.active and module.training and not self._in_prefix_pass():
            mask = kwargs.get("attention_mask")
            if mask is None:  # no padding mask: every position is a real token
                ids = kwargs.get("input_ids", args[0] if args else None)
                self._masks.append((ids.numel(), ids.numel()))
            else:
                self._masks.append((mask.sum(), mask.numel()))  # summed lazily: no sync per forward

    def begin(self) -> None:
        self._masks = []
        self.active = True

    def end(self) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize()
        ended = time.perf_counter()
        self.active = False
        tokens = sum(int(t) for t, _ in self._masks)
        positions = sum(int(p) for _, p in self._masks)
        self.steps.append({"tokens": tokens, "positions": positions, "ended": ended})


def _write(path: str, data: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(data))


# ---- child: our worker ------------------------------------------------------------------------
def _set_up_worker(args: argparse.Namespace) -> None:
    """The thread count both sides get, and the parts ``--ablate`` turns off."""
    import torch

    from playground.finetune import trainer, worker

    if args.threads:  # --threads: the count both sides get, instead of the worker's Settings.n_threads
        worker.set_threads = lambda _n: torch.set_num_threads(args.threads)
    if args.plain:  # the worker without its CPU speed-ups (PEFT's layers, the plain head loss)
        trainer.speedups.use_fast_lora = lambda _model: {}
        trainer.frozen_linear = lambda _head: False
    if args.plain or args.no_shared_prefix:  # every row runs its whole length
        trainer.batching.shared_prefix_length = lambda _rows: 0


def child_ours(args: argparse.Namespace) -> int:
    """Run ``worker.main(job_id)`` with a timer around each ``TrainingSession.train_step``."""
    import torch

    from playground.finetune import trainer, worker

    cuda = torch.cuda.is_available()
    memory = Memory(cuda)
    state: dict[str, Any] = {"meter": None, "step_tokens": []}
    original_step = trainer.TrainingSession.train_step
    original_reset = worker.reset_peak_memory
    _set_up_worker(args)

    def train_step(self, step: int, micro_batch: int):
        if state["meter"] is None:
            state["meter"] = StepMeter(self.model, cuda)
            state["dataset_tokens"] = sum(self.lengths)
            state["examples"] = len(self.rows)
            state["threads"] = torch.get_num_threads()
            state["total_steps"] = self.total_steps
        meter = state["meter"]
        meter.begin()
        try:
            result = original_step(self, step, micro_batch)
        finally:
            meter.active = False
        meter.end()
        state["step_tokens"].append(result.tokens)  # the worker's own count, to check the hook's
        if step == self.total_steps:
            memory.stop()
        return result

    def reset_peak_memory() -> None:  # called by run_training right before its step loop
        original_reset()
        memory.start()

    trainer.TrainingSession.train_step = train_step
    worker.reset_peak_memory = reset_peak_memory
    rc = worker.main([str(args.job_id)])
    meter = state["meter"]
    _write(
        args.result,
        {
            "rc": rc,
            "steps": meter.steps if meter else [],
            "worker_step_tokens": state["step_tokens"],
            "dataset_tokens": state.get("dataset_tokens"),
            "examples": state.get("examples"),
            "threads": state.get("threads"),
            "total_steps": state.get("total_steps"),
            "cuda": cuda,
            **memory.result,
        },
    )
    return rc


# ---- child: plain Hugging Face Trainer + PEFT ------------------------------------------------
def _hf_dataset(tokenizer: Any, max_length: int) -> list[dict[str, list[int]]]:
    """The examples as a plain script would tokenise them: labels -100 on the prompt."""
    from playground.models.prompt_formats import ALPACA, render_training_pair

    dataset = []
    for example in load_examples():
        prompt, completion = render_training_pair(example, ALPACA, tokenizer)
        prompt_ids = tokenizer(prompt)["input_ids"]
        completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
        ids = (prompt_ids + completion_ids)[:max_length]
        if len(ids) <= len(prompt_ids):
            continue
        labels = ([-100] * len(prompt_ids) + completion_ids)[:max_length]
        dataset.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels})
    return dataset


def _hf_model(folder: str, cuda: bool) -> Any:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16 if cuda else torch.float32)
    if cuda:
        model = model.to("cuda")
    model.config.use_cache = False
    lora = LoraConfig(
        r=LORA["r"],
        lora_alpha=LORA["alpha"],
        lora_dropout=LORA["dropout"],
        target_modules="all-linear",
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def _hf_arguments(args: argparse.Namespace, out: str, cuda: bool) -> Any:
    """The Trainer's settings: the worker's optimizer, schedule, clipping and batch."""
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=out,
        per_device_train_batch_size=args.micro_batch,
        gradient_accumulation_steps=1,
        learning_rate=LEARNING_RATE,
        max_steps=args.steps,
        warmup_steps=math.ceil(WARMUP_RATIO * args.steps),
        lr_scheduler_type="linear",
        weight_decay=0.0,
        max_grad_norm=1.0,
        report_to="none",
        save_strategy="no",
        eval_strategy="no",
        use_cpu=not cuda,
        seed=0,
        train_sampling_strategy="group_by_length" if args.grouped else "random",
    )


def child_hf(args: argparse.Namespace) -> int:
    import torch
    from transformers import AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainerCallback

    torch.set_num_threads(args.threads)
    cuda = torch.cuda.is_available()
    tokenizer = AutoTokenizer.from_pretrained(args.folder)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    dataset = _hf_dataset(tokenizer, args.max_length)
    model = _hf_model(args.folder, cuda)
    meter = StepMeter(model, cuda)
    memory = Memory(cuda)

    class Timing(TrainerCallback):
        def on_train_begin(self, *_a, **_k):
            memory.start()

        def on_step_begin(self, *_a, **_k):
            meter.begin()

        def on_step_end(self, _args, state, *_a, **_k):
            meter.end()
            if state.global_step == args.steps:
                memory.stop()

    with tempfile.TemporaryDirectory(prefix="bench-hf-") as out:
        trainer = Trainer(
            model=model,
            args=_hf_arguments(args, out, cuda),
            train_dataset=dataset,
            data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100),
            callbacks=[Timing()],
        )
        trainer.train()
    _write(
        args.result,
        {
            "rc": 0,
            "steps": meter.steps,
            "dataset_tokens": sum(len(r["input_ids"]) for r in dataset),
            "examples": len(dataset),
            "threads": torch.get_num_threads(),
            "total_steps": trainer.state.global_step,
            "cuda": cuda,
            **memory.result,
        },
    )
    return 0
