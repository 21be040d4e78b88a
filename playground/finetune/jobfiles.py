"""Where a job keeps its files, and the JSON Lines copies of its training and holdout data.

Each job owns ``$PLAYGROUND_HOME/finetune/job-<id>/``: train.jsonl, holdout.jsonl, the
worker's log, the latest checkpoint and, once finished, the adapter folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from playground.models.prompt_formats import Example

TRAIN_FILE = "train.jsonl"
HOLDOUT_FILE = "holdout.jsonl"
LOG_FILE = "worker.log"
ADAPTER_DIR = "adapter"


def job_dir(home: Path, job_id: int) -> Path:
    return home / "finetune" / f"job-{job_id}"


def write_examples(path: Path, examples: Iterable[Example]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for example in examples:
            fh.write(json.dumps(example.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count


def read_examples(path: Path) -> list[Example]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return [Example.from_dict(json.loads(line)) for line in fh if line.strip()]
