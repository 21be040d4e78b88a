"""The training loop: AdamW with linear warm-up and decay, gradient clipping and
accumulation, loss on answer tokens only, length-grouped micro-batches.

One ``TrainingSession`` holds the model, optimizer and data of one run inside the worker
process; the worker drives it step by step and writes progress to the database.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.errors import InvalidInput
from playground.finetune import batching, shared_prefix, speedups
from playground.finetune.checkpoint import Checkpoint, capture_rng, restore_rng
from playground.finetune.config import TrainingConfig, steps_per_epoch, total_steps
from playground.finetune.modeling import Placement, load_for_training
from playground.i18n import t
from playground.models.prompt_formats import ALPACA, ALPACA_STOPS, Example

# Test-only fault injection: PLAYGROUND_FINETUNE_FAKE_OOM_AT_STEP=3 makes step 3 raise an
# "out of memory" error once (as a GPU would), so the recovery path (halve the micro-batch,
# double the accumulation, retry the step) runs for real on the CPU. "3!" raises at every
# try, down to micro-batch 1, to exercise the final failure with advice.
FAKE_OOM_ENV = "PLAYGROUND_FINETUNE_FAKE_OOM_AT_STEP"
SAMPLE_PROMPTS = 3


@dataclass
class StepResult:
    loss: float  # mean loss per answer token in this step
    tokens: int  # non-padding tokens processed
    seconds: float


class TrainingSession:
    def __init__(
        self,
        folder: Path,
        config: TrainingConfig,
        prompt_format: str,
        train: Sequence[Example],
        holdout: Sequence[Example],
        where: Placement,
    ):
        self.config = config
        self.prompt_format = prompt_format
        self.where = where
        self.model, self.tokenizer = load_for_training(folder, config, where)
        self.rows, self.dropped = batching.tokenize_examples(train, prompt_format, self.tokenizer, config.max_length)
        if not self.rows:
            raise InvalidInput(t("finetune.prompts_fill_length", max_length=config.max_length))
        self.holdout_rows, _ = batching.tokenize_examples(holdout, prompt_format, self.tokenizer, config.max_length)
        self.sample_examples = list(holdout[:SAMPLE_PROMPTS] or train[:SAMPLE_PROMPTS])
        self.lengths = [r.length for r in self.rows]
        # Fixed for the job (not redone when an out-of-memory error halves the micro-batch), so a
        # step always sees the same examples.
        self.openings = batching.openings(self.rows, at_least=config.batch_size)
        self.effective_batch = config.effective_batch
        self.steps_per_epoch = steps_per_epoch(len(self.rows), self.effective_batch)
        self.total_steps = total_steps(len(self.rows), config)
        self.pad_id = self.tokenizer.pad_token_id
        self._orders: dict[int, list[int]] = {}
        self._fake_oom_done = False
        self.tokens_seen = 0
        self._head = plain_head(self.model)
        if where.device == "cpu":
            speedups.use_fast_lora(self.model)
        self._build_optimizer()

    # ---- setup -------------------------------------------------------------------
    def _build_optimizer(self) -> None:
        import torch

        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=self.config.learning_rate, weight_decay=self.config.weight_decay)
        warmup = math.ceil(self.config.warmup_ratio * self.total_steps)
        total = self.total_steps

        def factor(done: int) -> float:
            if done < warmup:
                return (done + 1) / (warmup + 1)
            return max(0.0, (total - done) / max(1, total - warmup))

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor)

    @property
    def trainable_parameters(self) -> tuple[int, int]:
        trainable, total = self.model.get_nb_trainable_parameters()
        return int(trainable), int(total)

    def epoch_of(self, step: int) -> float:
        """Epochs completed after ``step`` (1-based) steps, as a fraction."""
        return step / self.steps_per_epoch

    def step_indices(self, step: int) -> list[int]:
        epoch, within = divmod(step - 1, self.steps_per_epoch)
        if epoch not in self._orders:
            order = batching.epoch_order(self.lengths, self.effective_batch, self.config.seed, epoch, self.openings)
            self._orders = {epoch: order}
        return batching.step_examples(self._orders[epoch], within, self.effective_batch)

    # ---- one optimizer step -------------------------------------------------------------
    def _scored_loss(self, batch: dict[str, Any]) -> tuple[Any, int]:
        """Summed cross-entropy over answer tokens, and how many there were.

        The output head over a large vocabulary is a big share of a small model's compute, so
        it runs only where a loss is taken: on exactly the answer positions when the model's
        head is a plain projection (``self._head``), else from the earliest answer position on
        (``logits_to_keep``).
        """
        import torch

        device = self.where.device
        ids = batch["input_ids"].to(device)
        mask = batch["attention_mask"].to(device)
        labels = batch["labels"].to(device)
        if self._head is not None:
            decoder, head, softcap = self._head
            shared = batch.get("shared_prefix", 0)  # the hidden states start after it
            hidden = shared_prefix.last_hidden_states(decoder, ids, mask, shared)
            scored = labels[:, shared + 1 :] != batching.IGNORE  # position p predicts token p + 1
            targets = labels[:, shared + 1 :][scored]
            if torch.is_grad_enabled() and frozen_linear(head):
                loss = speedups.answer_cross_entropy(hidden[:, :-1][scored], head.weight, targets, softcap)
                return loss, int(targets.numel())
            logits = head(hidden[:, :-1][scored]).float()
            if softcap:
                logits = torch.tanh(logits / softcap) * softcap
        else:
            first = batch["first_scored"]
            out = self.model(input_ids=ids, attention_mask=mask, logits_to_keep=ids.shape[1] - first, use_cache=False)
            logits = out.logits[:, :-1, :].float().reshape(-1, out.logits.shape[-1])
            targets = labels[:, first + 1 :].reshape(-1)
        loss = torch.nn.functional.cross_entropy(logits, targets, ignore_index=batching.IGNORE, reduction="sum")
        return loss, int((targets != batching.IGNORE).sum())

    def _maybe_fake_oom(self, step: int) -> None:
        raw = os.environ.get(FAKE_OOM_ENV, "").strip()
        if not raw:
            return
        always = raw.endswith("!")
        if int(raw.rstrip("!")) == step and (always or not self._fake_oom_done):
            self._fake_oom_done = True
            raise RuntimeError(f"CUDA out of memory (simulated by {FAKE_OOM_ENV} at step {step})")

    def train_step(self, step: int, micro_batch: int) -> StepResult:
        """Run optimizer step ``step`` (1-based). An out-of-memory error leaves the weights untouched."""
        import torch

        started = time.perf_counter()
        self.model.train()
        indices = self.step_indices(step)
        batches = batching.micro_batches(indices, self.lengths, micro_batch)
        answer_tokens = sum(self.rows[i].completion_tokens for i in indices)
        self.optimizer.zero_grad(set_to_none=True)
        loss_sum = 0.0
        tokens = 0
        try:
            self._maybe_fake_oom(step)
            for group in batches:
                batch = batching.collate([self.rows[i] for i in group], self.pad_id)
                loss, _ = self._scored_loss(batch)
                # Normalised by the whole step's answer tokens, so accumulation equals one big batch.
                (loss / answer_tokens).backward()
                loss_sum += float(loss.detach())
                tokens += sum(self.rows[i].length for i in group)
        except BaseException:
            self.optimizer.zero_grad(set_to_none=True)
            raise
        if self.config.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(
                [p for p in self.model.parameters() if p.requires_grad], self.config.max_grad_norm
            )
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.tokens_seen += tokens
        return StepResult(loss=loss_sum / max(1, answer_tokens), tokens=tokens, seconds=time.perf_counter() - started)

    # ---- evaluation --------------------------------------------------------------------
    def holdout_loss(self, micro_batch: int) -> float | None:
        import torch

        if not self.holdout_rows:
            return None
        self.model.eval()
        total, count = 0.0, 0
        lengths = [r.length for r in self.holdout_rows]
        with torch.inference_mode():
            for group in batching.micro_batches(range(len(self.holdout_rows)), lengths, micro_batch):
                loss, n = self._scored_loss(batching.collate([self.holdout_rows[i] for i in group], self.pad_id))
                total += float(loss)
                count += n
        self.model.train()
        return total / max(1, count)

    def samples(self) -> list[tuple[str, str]]:
        """(prompt, greedy answer) for up to three holdout examples."""
        import torch

        self.model.eval()
        out: list[tuple[str, str]] = []
        with torch.inference_mode():
            for example in self.sample_examples:
                ids = batching.prompt_ids(example, self.prompt_format, self.tokenizer)
                input_ids = torch.tensor([ids], device=self.where.device)
                generated = self.model.generate(
                    input_ids=input_ids,
                    attention_mask=torch.ones_like(input_ids),
                    max_new_tokens=self.config.sample_max_tokens,
                    do_sample=False,
                    pad_token_id=self.pad_id,
                    use_cache=True,
                )
                text = self.tokenizer.decode(generated[0, len(ids) :], skip_special_tokens=True)
                out.append((example.instruction, cut_at_stops(text, self.prompt_format)))
        self.model.train()
        return out

    # ---- checkpoints -------------------------------------------------------------------
    def checkpoint(self, step: int, micro_batch: int, grad_accum: int) -> Checkpoint:
        trainable = {n: p.detach().to("cpu").clone() for n, p in self.model.named_parameters() if p.requires_grad}
        return Checkpoint(
            step=step,
            micro_batch=micro_batch,
            grad_accum=grad_accum,
            trainable=trainable,
            optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(),
            rng=capture_rng(),
            tokens_seen=self.tokens_seen,
        )

    def restore(self, checkpoint: Checkpoint) -> None:
        import torch

        params = dict(self.model.named_parameters())
        with torch.no_grad():
            for name, value in checkpoint.trainable.items():
                params[name].copy_(value.to(params[name].device))
        self.optimizer.load_state_dict(checkpoint.optimizer)
        self.scheduler.load_state_dict(checkpoint.scheduler)
        restore_rng(checkpoint.rng)
        self.tokens_seen = checkpoint.tokens_seen

    def save_adapter(self, folder: Path) -> None:
        self.model.save_pretrained(str(folder))


def cut_at_stops(text: str, prompt_format: str) -> str:
    if prompt_format != ALPACA:
        return text.strip()
    cut = min((i for i in (text.find(s) for s in ALPACA_STOPS) if i >= 0), default=len(text))
    return text[:cut].strip()


# Decoders whose logits are exactly ``lm_head(final hidden state)`` (Gemma 2/3 add a soft cap,
# applied here too). Others (e.g. with logit scaling) take the generic ``logits_to_keep`` path.
PLAIN_HEAD_TYPES = {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "smollm3", "phi3", "olmo2"}


def plain_head(peft_model: Any) -> tuple[Any, Any, float | None] | None:
    """(decoder, output head, soft cap) of a causal LM whose head may run on chosen positions only."""
    base = peft_model.get_base_model()
    config = base.config
    decoder, head = getattr(base, "model", None), base.get_output_embeddings()
    if config.model_type not in PLAIN_HEAD_TYPES or decoder is None or head is None:
        return None
    if type(head).__name__ != "Linear" or not hasattr(decoder, "embed_tokens"):
        return None  # a LoRA-wrapped or quantised head, or an unexpected layout
    return decoder, head, getattr(config, "final_logit_softcapping", None)


def frozen_linear(head: Any) -> bool:
    """A plain ``torch.nn.Linear`` head without bias that trains nothing (tied or frozen, no LoRA)."""
    import torch

    return type(head) is torch.nn.Linear and head.bias is None and not head.weight.requires_grad
