"""Checkpoints a stopped or crashed run resumes from: adapter weights, optimizer, scheduler,
step, random states and batch sizes. The data order needs no saving: it is a pure function
of (seed, epoch) (see ``batching.epoch_order``), so the step number fixes where to go on.

A checkpoint is written into a temporary folder and renamed into place, so a crash or a
full disk mid-write never damages the last good one.
"""

from __future__ import annotations

import errno
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATE_FILE = "state.pt"
CHECKPOINT_DIR = "checkpoint"


class DiskFullError(Exception):
    """The disk filled up while a checkpoint was written; the previous checkpoint is intact."""

    def __init__(self, step: int):
        super().__init__(f"no space left while saving the checkpoint at step {step}")
        self.step = step


@dataclass
class Checkpoint:
    step: int
    micro_batch: int
    grad_accum: int
    trainable: dict[str, Any]  # parameter name -> tensor (the LoRA weights)
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    rng: dict[str, Any]
    tokens_seen: int = 0


def checkpoint_dir(job_dir: Path) -> Path:
    return job_dir / CHECKPOINT_DIR


def _previous(job_dir: Path) -> Path:
    return job_dir / f"{CHECKPOINT_DIR}.previous"


def capture_rng() -> dict[str, Any]:
    import torch

    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    import torch

    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(job_dir: Path, checkpoint: Checkpoint) -> Path:
    """Write atomically; raises DiskFullError (old checkpoint kept) when the disk is full."""
    import torch

    target = checkpoint_dir(job_dir)
    staging = job_dir / f"{CHECKPOINT_DIR}.writing"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        torch.save(checkpoint.__dict__, staging / STATE_FILE)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        if err.errno == errno.ENOSPC:
            raise DiskFullError(checkpoint.step) from err
        raise
    previous = _previous(job_dir)
    shutil.rmtree(previous, ignore_errors=True)
    if target.exists():
        target.rename(previous)
    staging.rename(target)
    shutil.rmtree(previous, ignore_errors=True)
    return target


def load_checkpoint(job_dir: Path) -> Checkpoint | None:
    """The newest complete checkpoint, or None. A crash between the two renames of
    ``save_checkpoint`` leaves only the previous one, which is then used."""
    import torch

    for folder in (checkpoint_dir(job_dir), _previous(job_dir)):
        state_file = folder / STATE_FILE
        if state_file.is_file():
            data = torch.load(state_file, map_location="cpu", weights_only=False)
            return Checkpoint(**data)
    return None
