"""Fine-tuning throughput: our worker vs a plain Hugging Face ``Trainer`` + PEFT script, in one run.

What is measured: training tokens per second, where tokens are the non-padding input tokens
(prompt + answer) that went through the model, counted the same way on both sides by one
forward pre-hook on the base model's decoder (``attention_mask.sum()`` of every training
forward; on our side checked against the worker's own ``StepResult.tokens``), over
the wall time of the training steps only: from the end of the warm-up step(s) (default 1,
excluded on both sides) to the end of the last step. Model loading, tokenisation and the
worker's final evaluation / adapter save fall outside that window; everything between steps
(our worker's per-step database writes, the Trainer's callbacks and dataloader) falls inside.

* ours: the real worker path users get. A temporary ``PLAYGROUND_HOME`` with its own SQLite
  database; each round creates a job through ``FinetuneService.create_job`` (the embedded
  SmolLM2 as base, Alpaca format) and runs the worker's own ``worker.main(JOB_ID)`` in a fresh
  subprocess with the environment and folder ``FinetuneService._launch`` gives it. The only
  difference from ``python -m playground.finetune.worker`` is a thin wrapper that times each
  ``TrainingSession.train_step`` call and reads memory; the training loop, the length-grouped
  batching, the progress writes and the heartbeat are the worker's. Evaluation and
  checkpoints are pushed past the last step (``eval_every``/``checkpoint_every`` = 1,000,000)
  so neither side evaluates or saves during the measured steps.
* HF Trainer: a plain script in its own subprocess: ``AutoModelForCausalLM`` + ``get_peft_model``,
  the same examples rendered by ``render_training_pair`` (Alpaca) and tokenised with plain
  tokenizer calls, labels -100 on prompt tokens (completion-only loss),
  ``DataCollatorForSeq2Seq`` (pads labels with -100), ``Trainer`` defaults (random batches,
  ``report_to="none"``, ``save_strategy="no"``, no eval). ``--hf-grouped`` adds a second HF
  line with ``train_sampling_strategy="group_by_length"`` for an honest comparison of the
  batching alone.

Settings are identical: LoRA r=8, alpha=16, dropout 0.05 on all linear layers, lr 2e-4 with
5 % linear warm-up then linear decay, gradient clipping 1.0, micro-batch 4, accumulation 1,
fp32 on the CPU (bf16 base on CUDA, no 4-bit), max length 256, the same number of optimizer
steps and the same torch thread count (the worker's ``Settings.n_threads`` = CPU count).

Peak memory: each side runs in a fresh subprocess. On the CPU it is the growth of resident
memory during training (``/proc/self/clear_refs`` resets the high-water mark after the model
is loaded; VmHWM at the end minus VmRSS at the start), plus the process's whole-life peak
(``ru_maxrss``). On CUDA it is ``torch.cuda.max_memory_allocated`` over the training steps.

Rounds alternate (ours, HF, [HF grouped], ours, HF, ...); medians are compared.
Goal: ratio (ours / HF Trainer) >= 1.0; with length-grouped batching aim >= 1.3.

    .venv/bin/python benchmarks/finetune_throughput.py [--rounds 3] [--steps 4] [--micro-batch 4] \\
        [--max-length 256] [--warmup-steps 1] [--hf-grouped]

The defaults are small because a 135M-parameter fp32 model trains at only tens of tokens/s
on a 2-core CPU, and each child also spends ~10-15 s importing and loading: the default run
uses about 8 CPU-minutes (roughly 4-5 minutes of wall time on an idle 2-core machine, more
when it is shared). Use ``--steps 12 --hf-grouped`` for steadier figures on a faster machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DATASET = REPO / "assets" / "demo" / "finetune_support_replies.csv"
LORA = dict(r=8, alpha=16, dropout=0.05)
LEARNING_RATE = 2e-4
WARMUP_RATIO = 0.05  # TrainingConfig's default; the HF side gets the same warm-up steps
NEVER = 1_000_000  # eval_every / checkpoint_every past the last step


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

        self.cuda = cuda
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
        if self.active and module.training:
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
def child_ours(args: argparse.Namespace) -> int:
    """Run ``worker.main(job_id)`` with a timer around each ``TrainingSession.train_step``."""
    import torch

    from playground.finetune import trainer, worker

    cuda = torch.cuda.is_available()
    memory = Memory(cuda)
    state: dict[str, Any] = {"meter": None, "step_tokens": []}
    original_step = trainer.TrainingSession.train_step
    original_reset = worker.reset_peak_memory

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
def child_hf(args: argparse.Namespace) -> int:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForSeq2Seq,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from playground.models.prompt_formats import ALPACA, render_training_pair

    torch.set_num_threads(args.threads)
    cuda = torch.cuda.is_available()
    tokenizer = AutoTokenizer.from_pretrained(args.folder)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    dataset = []
    for example in load_examples():
        prompt, completion = render_training_pair(example, ALPACA, tokenizer)
        prompt_ids = tokenizer(prompt)["input_ids"]
        completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
        ids = (prompt_ids + completion_ids)[: args.max_length]
        if len(ids) <= len(prompt_ids):
            continue
        labels = ([-100] * len(prompt_ids) + completion_ids)[: args.max_length]
        dataset.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels})

    model = AutoModelForCausalLM.from_pretrained(args.folder, dtype=torch.bfloat16 if cuda else torch.float32)
    if cuda:
        model = model.to("cuda")
    model.config.use_cache = False
    model = get_peft_model(
        model,
        LoraConfig(
            r=LORA["r"],
            lora_alpha=LORA["alpha"],
            lora_dropout=LORA["dropout"],
            target_modules="all-linear",
            bias="none",
            task_type="CAUSAL_LM",
        ),
    )
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
        training_args = TrainingArguments(
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
        trainer = Trainer(
            model=model,
            args=training_args,
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


# ---- parent ----------------------------------------------------------------------------------
def run_child(
    kind: str, extra: list[str], env: dict[str, str], cwd: Path, log_path: Path, result: Path
) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--result", str(result), *extra]
    with log_path.open("wb") as log:
        proc = subprocess.run(
            command, env=env, cwd=str(cwd), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    data = json.loads(result.read_text()) if result.is_file() else None
    if proc.returncode != 0 or not data or data.get("rc") != 0:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{kind} child failed (exit {proc.returncode}); end of its log:\n{tail}")
    return data


def summarise(data: dict[str, Any], warmup: int) -> dict[str, Any]:
    steps = data["steps"]
    measured = steps[warmup:]
    start = steps[warmup - 1]["ended"]
    seconds = measured[-1]["ended"] - start
    tokens = sum(s["tokens"] for s in measured)
    positions = sum(s["positions"] for s in measured)
    if data.get("cuda"):
        peak, peak_text = data.get("cuda_peak_bytes", 0), f"GPU peak {data.get('cuda_peak_bytes', 0) / 2**20:.0f} MiB"
    else:
        growth_kib = (data["hwm_kib"] if data.get("hwm_reset") else data["ru_maxrss_kib"]) - data["rss_before_kib"]
        peak = growth_kib * 1024
        note = "" if data.get("hwm_reset") else " (lower bound: peak RSS could not be reset)"
        peak_text = (
            f"RSS +{growth_kib / 1024:.0f} MiB in training{note}, process peak {data['ru_maxrss_kib'] / 1024:.0f} MiB"
        )
    return {
        "rate": tokens / seconds,
        "tokens": tokens,
        "seconds": seconds,
        "padding": 1 - tokens / positions,
        "peak": peak,
        "peak_text": peak_text,
        "steps": len(steps),
    }


def parent(args: argparse.Namespace) -> int:
    from playground.finetune.config import ALL_LINEAR, TrainingConfig, steps_per_epoch
    from playground.models.embedded import SMOLLM2_KEY, smollm2_path
    from playground.models.gguf_convert import convert_gguf
    from playground.models.prompt_formats import ALPACA
    from playground.services import Services
    from playground.settings import Settings
    from playground.statuses import FinetuneStatus

    if args.steps <= args.warmup_steps:
        raise SystemExit("--steps must be larger than --warmup-steps")
    examples = load_examples()
    cache_dir = Path(args.cache_dir)
    convert_gguf(smollm2_path(), cache_dir)  # converted once and reused (the tests share this cache)
    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as tmp:
        home = Path(tmp) / "home"
        (home / "cache").mkdir(parents=True)
        (home / "cache" / "converted").symlink_to((cache_dir / "converted").resolve())
        settings = Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}")
        services = Services.create(settings)
        spe = steps_per_epoch(len(examples), args.micro_batch)
        config = TrainingConfig(
            r=LORA["r"],
            alpha=LORA["alpha"],
            dropout=LORA["dropout"],
            target=ALL_LINEAR,
            epochs=(args.steps - 0.5) / spe,  # rounds up to exactly --steps optimizer steps
            learning_rate=LEARNING_RATE,
            batch_size=args.micro_batch,
            grad_accum=1,
            max_length=args.max_length,
            load_in_4bit=False,
            warmup_ratio=WARMUP_RATIO,
            weight_decay=0.0,
            max_grad_norm=1.0,
            eval_every=NEVER,
            checkpoint_every=NEVER,
            sample_max_tokens=1,
            seed=0,
        )
        env = dict(os.environ)
        env.update(
            {
                "PLAYGROUND_HOME": str(home),
                "DATABASE_URL": settings.database_url,
                "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
            }
        )
        sides = [("ours", "ours (worker, length-grouped)"), ("hf", "HF Trainer (default, random)")]
        if args.hf_grouped:
            sides.append(("hf-grouped", "HF Trainer (group_by_length)"))
        results: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in sides}
        worker_rates: list[float] = []
        base_folder = ""
        print(
            f"{len(examples)} examples from {DATASET.name} (Alpaca), max length {args.max_length}, micro-batch "
            f"{args.micro_batch}, {args.steps} optimizer steps ({args.warmup_steps} warm-up excluded), "
            f"LoRA r={LORA['r']} alpha={LORA['alpha']} all linear, {args.rounds} round(s), sides interleaved",
            flush=True,
        )
        for r in range(args.rounds):
            line = []
            for key, _label in sides:
                result = Path(tmp) / f"{key}-{r}.json"
                log = Path(tmp) / f"{key}-{r}.log"
                if key == "ours":
                    job_id = services.finetune.create_job(f"bench-{r + 1}", SMOLLM2_KEY, ALPACA, config, examples, ())
                    with services.uow_factory() as uow:  # what FinetuneService.start does before launching
                        uow.finetune_jobs.update_if(job_id, ["created"], status="starting", stop_requested=False)
                        job = uow.finetune_jobs.get(job_id)
                        base_folder, job_dir = job.base_folder, Path(job.job_dir)
                    data = run_child("ours", ["--job-id", str(job_id)], env, job_dir, log, result)
                    view = services.finetune.job_view(job_id)
                    if view.status != FinetuneStatus.DONE:
                        raise SystemExit(f"the worker's job ended {view.status}: {view.message}")
                    if data["worker_step_tokens"] != [s["tokens"] for s in data["steps"]]:
                        print("  warning: the hook's token counts differ from the worker's own", flush=True)
                    worker_rates.append(view.tokens_per_s or 0.0)
                else:
                    extra = [
                        "--folder",
                        base_folder,
                        "--threads",
                        str(settings.n_threads),
                        "--steps",
                        str(args.steps),
                        "--micro-batch",
                        str(args.micro_batch),
                        "--max-length",
                        str(args.max_length),
                    ] + (["--grouped"] if key == "hf-grouped" else [])
                    data = run_child("hf", extra, env, Path(tmp), log, result)
                if data["total_steps"] != args.steps or len(data["steps"]) != args.steps:
                    raise SystemExit(f"{key} ran {len(data['steps'])} steps, not {args.steps}")
                summary = summarise(data, args.warmup_steps)
                summary.update(
                    dataset_tokens=data["dataset_tokens"], examples=data["examples"], threads=data["threads"]
                )
                results[key].append(summary)
                line.append(f"{key} {summary['rate']:.0f} tok/s (pad {summary['padding']:.1%}, {summary['peak_text']})")
            print(f"  round {r + 1}: " + "; ".join(line), flush=True)
        services.close()

    firsts = {key: runs[0] for key, runs in results.items()}
    same_data = len({(f["examples"], f["dataset_tokens"]) for f in firsts.values()}) == 1
    threads = {key: f["threads"] for key, f in firsts.items()}
    sizes = ", ".join(f"{k}: {f['examples']} examples / {f['dataset_tokens']} tokens" for k, f in firsts.items())
    print(f"same tokenised data on every side: {same_data} ({sizes}); torch threads: {threads}")
    medians = {}
    for key, label in sides:
        runs = results[key]
        medians[key] = statistics.median(r["rate"] for r in runs)
        padding = statistics.median(r["padding"] for r in runs)
        peak = statistics.median(r["peak"] for r in runs) / 2**20
        kind = "GPU peak" if runs[0]["peak_text"].startswith("GPU") else "RSS growth in training"
        rates = ", ".join(f"{r['rate']:.1f}" for r in runs)
        print(
            f"{label:33} median {medians[key]:7.1f} tokens/s  padding {padding:5.1%}  {kind} {peak:6.0f} MiB  runs: {rates}"
        )
    if worker_rates:
        print(
            f"(the worker's own tokens/s in the job, first step included: {', '.join(f'{x:.1f}' for x in worker_rates)})"
        )
    ratio = medians["ours"] / medians["hf"]
    print(
        f"ratio (ours / HF Trainer): {ratio:.2f} (goal >= 1.0; aim >= 1.3): "
        f"{'aim met' if ratio >= 1.3 else 'goal met' if ratio >= 1.0 else 'NOT met'}"
    )
    if "hf-grouped" in medians:
        print(f"ratio (ours / HF Trainer with group_by_length): {medians['ours'] / medians['hf-grouped']:.2f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=4, help="optimizer steps per run, the same on both sides")
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--warmup-steps", type=int, default=1, help="first steps left out of the timing on both sides")
    parser.add_argument(
        "--hf-grouped", action="store_true", help="also run HF Trainer with group_by_length (one more side per round)"
    )
    parser.add_argument(
        "--cache-dir",
        default=str(Path(tempfile.gettempdir()) / "playground-test-cache"),
        help="where the converted SmolLM2 folder is kept (shared with the tests)",
    )
    # internal: one side in its own process
    parser.add_argument("--child", choices=["ours", "hf"], help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--job-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--grouped", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "ours":
        return child_ours(args)
    if args.child == "hf":
        return child_hf(args)
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
