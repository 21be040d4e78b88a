"""Fine-tuning throughput: our worker vs a plain Hugging Face ``Trainer`` + PEFT script, in one run.

Goal: ours / HF Trainer >= 1.5 on the CPU (median tokens/s of at least 5 interleaved rounds).

What is measured: training tokens per second, where tokens are the non-padding input tokens
(prompt + answer) of the examples trained on, counted the same way on both sides by one
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
  ``TrainingSession.train_step`` call and reads memory (and, with ``--threads``, sets the torch
  thread count the HF side gets too); the training loop, the progress writes and the heartbeat
  are the worker's. What makes it faster, all of it the worker's own code:

  - length-grouped micro-batches (``batching.epoch_order``): little padding;
  - the tokens a micro-batch's rows all open with (the Alpaca header here) run once for the
    micro-batch, the rows attending to their cached keys and values (``shared_prefix``); the
    hook counts those tokens once per row, as the rows' masks hold them, so both sides count
    the same tokens of the same examples;
  - the output head only on answer positions (``trainer.plain_head``), and the cross-entropy
    there fused with its gradient in chunks (``speedups.answer_cross_entropy``);
  - on the CPU, each LoRA layer over a frozen ``Linear`` as one autograd step
    (``speedups.FusedLoraLinear``: the LoRA product added inside the base ``addmm``, its
    scaling on the rank-r intermediate), with a dropout mask drawn from geometric gaps
    (``speedups.dropped_positions``: ~p·n random numbers instead of n, the same Bernoulli(p)
    distribution; PyTorch's per-element ``bernoulli_`` was about a third of a CPU step).

  Evaluation and
  checkpoints are pushed past the last step (``eval_every``/``checkpoint_every`` = 1,000,000)
  so neither side evaluates or saves during the measured steps.
* HF Trainer: a plain script in its own subprocess: ``AutoModelForCausalLM`` + ``get_peft_model``,
  the same examples rendered by ``render_training_pair`` (Alpaca) and tokenised with plain
  tokenizer calls, labels -100 on prompt tokens (completion-only loss),
  ``DataCollatorForSeq2Seq`` (pads labels with -100), ``Trainer`` defaults (random batches,
  ``report_to="none"``, ``save_strategy="no"``, no eval). ``--hf-grouped`` adds a second HF
  line with ``train_sampling_strategy="group_by_length"`` for an honest comparison of the
  batching alone, and ``--ablate`` two lines for our worker: without the shared prefix, and with
  its batching only (no shared prefix, PEFT's own LoRA layers and dropout, the plain head loss),
  to show what they give in the same run.

Settings are identical: LoRA r=8, alpha=16, dropout 0.05 on all linear layers, lr 2e-4 with
5 % linear warm-up then linear decay, gradient clipping 1.0, micro-batch 4, accumulation 1,
fp32 on the CPU (bf16 base on CUDA, no 4-bit), max length 256, the same number of optimizer
steps and the same torch thread count (the worker's ``Settings.n_threads`` = CPU count, or
``--threads N`` for both sides). On a machine shared with other work, two threads on two cores
wait on each other at every parallel operation; ``--threads 1`` gives steadier figures there.

Peak memory: each side runs in a fresh subprocess. On the CPU it is the growth of resident
memory during training (``/proc/self/clear_refs`` resets the high-water mark after the model
is loaded; VmHWM at the end minus VmRSS at the start), plus the process's whole-life peak
(``ru_maxrss``). On CUDA it is ``torch.cuda.max_memory_allocated`` over the training steps.

Rounds alternate (ours, HF, [HF grouped], ours, HF, ...); medians are compared.

    .venv/bin/python benchmarks/finetune_throughput.py [--rounds 5] [--steps 4] [--micro-batch 4] \\
        [--max-length 256] [--warmup-steps 1] [--threads N] [--hf-grouped] [--ablate]

The defaults are small because a 135M-parameter fp32 model trains at only tens of tokens/s
on a 2-core CPU, and each child also spends ~10-15 s importing and loading: the default run
uses about 12 CPU-minutes (roughly 6-8 minutes of wall time on an idle 2-core machine, more
when it is shared). Use ``--steps 12 --hf-grouped`` for steadier figures on a faster machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from finetune_throughput_sides import (  # the repository and this folder go on the path first
    DATASET,
    LEARNING_RATE,
    LORA,
    REPO,
    WARMUP_RATIO,
    child_hf,
    child_ours,
    load_examples,
)

NEVER = 1_000_000  # eval_every / checkpoint_every past the last step
OUR_SIDES = ("ours", "noshare", "plain")


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


def bench_config(args: argparse.Namespace, n_examples: int) -> Any:
    """Our job's settings: the HF side's, with evaluation and checkpoints past the last step."""
    from playground.finetune.config import ALL_LINEAR, TrainingConfig, steps_per_epoch

    return TrainingConfig(
        r=LORA["r"],
        alpha=LORA["alpha"],
        dropout=LORA["dropout"],
        target=ALL_LINEAR,
        epochs=(args.steps - 0.5) / steps_per_epoch(n_examples, args.micro_batch),  # exactly --steps steps
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


class Bench:
    """One benchmark run: a temporary home and database, and the sides' results round by round."""

    def __init__(self, args: argparse.Namespace, tmp: Path, cache_dir: Path):
        from playground.services import Services
        from playground.settings import Settings

        self.args, self.tmp = args, tmp
        home = tmp / "home"
        (home / "cache").mkdir(parents=True)
        (home / "cache" / "converted").symlink_to((cache_dir / "converted").resolve())
        settings = Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}")
        self.services = Services.create(settings)
        self.examples = load_examples()
        self.config = bench_config(args, len(self.examples))
        self.threads = args.threads or settings.n_threads
        self.env = dict(os.environ)
        self.env.update(
            {
                "PLAYGROUND_HOME": str(home),
                "DATABASE_URL": settings.database_url,
                "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), self.env.get("PYTHONPATH", "")) if p),
            }
        )
        self.base_folder = ""
        self.worker_rates: list[float] = []

    def run_ours(self, key: str, r: int, result: Path, log: Path) -> dict[str, Any]:
        """A job created and claimed as FinetuneService.start does, trained by the worker's own main."""
        from playground.finetune.progress import LAUNCH_TOKEN_ENV
        from playground.models.embedded import SMOLLM2_KEY
        from playground.models.prompt_formats import ALPACA
        from playground.statuses import FinetuneStatus

        finetune = self.services.finetune
        job_id = finetune.create_job(f"bench-{key}-{r + 1}", SMOLLM2_KEY, ALPACA, self.config, self.examples, ())
        token = finetune._claim_launch(
            job_id, [FinetuneStatus.CREATED], "finetune.cannot_start", status=FinetuneStatus.STARTING
        )
        with self.services.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
            self.base_folder, job_dir = job.base_folder, Path(job.job_dir)
        extra = ["--job-id", str(job_id), "--threads", str(self.threads)]
        extra += {"plain": ["--plain"], "noshare": ["--no-shared-prefix"]}.get(key, [])
        data = run_child("ours", extra, {**self.env, LAUNCH_TOKEN_ENV: token}, job_dir, log, result)
        view = finetune.job_view(job_id)
        if view.status != FinetuneStatus.DONE:
            raise SystemExit(f"the worker's job ended {view.status}: {view.message}")
        if data["worker_step_tokens"] != [s["tokens"] for s in data["steps"]]:
            print("  warning: the hook's token counts differ from the worker's own", flush=True)
        if key == "ours":
            self.worker_rates.append(view.tokens_per_s or 0.0)
        return data

    def run_hf(self, key: str, result: Path, log: Path) -> dict[str, Any]:
        a = self.args
        extra = ["--folder", self.base_folder, "--threads", str(self.threads), "--steps", str(a.steps)]
        extra += ["--micro-batch", str(a.micro_batch), "--max-length", str(a.max_length)]
        return run_child("hf", extra + (["--grouped"] if key == "hf-grouped" else []), self.env, self.tmp, log, result)

    def run_side(self, key: str, r: int) -> dict[str, Any]:
        result, log = self.tmp / f"{key}-{r}.json", self.tmp / f"{key}-{r}.log"
        data = self.run_ours(key, r, result, log) if key in OUR_SIDES else self.run_hf(key, result, log)
        if data["total_steps"] != self.args.steps or len(data["steps"]) != self.args.steps:
            raise SystemExit(f"{key} ran {len(data['steps'])} steps, not {self.args.steps}")
        summary = summarise(data, self.args.warmup_steps)
        summary.update(dataset_tokens=data["dataset_tokens"], examples=data["examples"], threads=data["threads"])
        return summary


def report(args: argparse.Namespace, sides: list[tuple[str, str]], results: dict[str, list[dict[str, Any]]]) -> None:
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
    ratio = medians["ours"] / medians["hf"]
    print(f"ratio (ours / HF Trainer): {ratio:.2f} (goal >= 1.5): {'met' if ratio >= 1.5 else 'NOT met'}")
    if args.rounds < 5:
        print(f"(only {args.rounds} round(s): the goal is judged on the median of at least 5)")
    if "plain" in medians:
        print(
            f"ratio (ours with batching only / HF Trainer): {medians['plain'] / medians['hf']:.2f}; "
            f"the rest alone (ours / ours with batching only): {medians['ours'] / medians['plain']:.2f}"
        )
    if "noshare" in medians:
        print(
            f"ratio (ours without the shared prefix / HF Trainer): {medians['noshare'] / medians['hf']:.2f}; "
            f"the shared prefix alone (ours / ours without it): {medians['ours'] / medians['noshare']:.2f}"
        )
    if "hf-grouped" in medians:
        print(f"ratio (ours / HF Trainer with group_by_length): {medians['ours'] / medians['hf-grouped']:.2f}")


def parent(args: argparse.Namespace) -> int:
    from playground.models.embedded import smollm2_path
    from playground.models.gguf_convert import convert_gguf

    if args.steps <= args.warmup_steps:
        raise SystemExit("--steps must be larger than --warmup-steps")
    cache_dir = Path(args.cache_dir)
    convert_gguf(smollm2_path(), cache_dir)  # converted once and reused (the tests share this cache)
    sides = [("ours", "ours (worker)"), ("hf", "HF Trainer (default, random)")]
    if args.ablate:
        sides[1:1] = [("noshare", "ours without the shared prefix"), ("plain", "ours with batching only")]
    if args.hf_grouped:
        sides.append(("hf-grouped", "HF Trainer (group_by_length)"))
    results: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in sides}
    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as tmp:
        bench = Bench(args, Path(tmp), cache_dir)
        print(
            f"{len(bench.examples)} examples from {DATASET.name} (Alpaca), max length {args.max_length}, micro-batch "
            f"{args.micro_batch}, {args.steps} optimizer steps ({args.warmup_steps} warm-up excluded), "
            f"LoRA r={LORA['r']} alpha={LORA['alpha']} all linear, {args.rounds} round(s), sides interleaved",
            flush=True,
        )
        for r in range(args.rounds):
            line = []
            for key, _label in sides:
                summary = bench.run_side(key, r)
                results[key].append(summary)
                line.append(f"{key} {summary['rate']:.0f} tok/s (pad {summary['padding']:.1%}, {summary['peak_text']})")
            print(f"  round {r + 1}: " + "; ".join(line), flush=True)
        bench.services.close()
    report(args, sides, results)
    if bench.worker_rates:
        rates = ", ".join(f"{x:.1f}" for x in bench.worker_rates)
        print(f"(the worker's own tokens/s in the job, first step included: {rates})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4, help="optimizer steps per run, the same on both sides")
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--warmup-steps", type=int, default=1, help="first steps left out of the timing on both sides")
    parser.add_argument(
        "--hf-grouped", action="store_true", help="also run HF Trainer with group_by_length (one more side per round)"
    )
    parser.add_argument(
        "--ablate",
        action="store_true",
        help="also run our worker without the shared prefix, and with its batching only (two more sides per round)",
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
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads on both sides (default: the worker's, the CPU count)"
    )
    parser.add_argument("--grouped", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-shared-prefix", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "ours":
        return child_ours(args)
    if args.child == "hf":
        return child_hf(args)
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
