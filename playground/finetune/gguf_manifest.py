"""Where a job's GGUF exports live, what marks one complete, and how one is published atomically.

``$PLAYGROUND_HOME/exports/gguf/<base>-<name>-job<id>/<TYPE>/`` holds one export: the GGUF
file, its Ollama ``Modelfile`` and ``manifest.json``. An export is written in a staging folder
(``.staging-<TYPE>-<token>``) beside it; the manifest is written last, and only then the folder
takes its type's name (the previous export of that type is moved aside first and removed once
the new one is in place). So a Stop, a crash or a full disk midway leaves nothing listed and no
half file under a listed name, and never costs the previous export. Leftovers are cleaned (and
an export caught between its two renames restored) by the next export of the job, which holds
the job's export lease while it does.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from playground.finetune.gguf_quantize import QUANT_TYPES

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
MODELFILE = "Modelfile"
STAGING_PREFIX = ".staging-"
OLD_PREFIX = ".old-"
MANIFEST_VERSION = 1


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._") or "model"


def gguf_root(home: Path) -> Path:
    """$PLAYGROUND_HOME/exports/gguf: every job's GGUF exports."""
    return home / "exports" / "gguf"


def job_exports_dir(root: Path, job_id: int, base_name: str, name: str) -> Path:
    """The folder of one job's exports (``root`` is $PLAYGROUND_HOME/exports/gguf)."""
    return root / f"{slug(f'{base_name}-{name}')}-job{job_id}"


def gguf_file_name(base_name: str, name: str, quant: str) -> str:
    return f"{slug(f'{base_name}-{name}')}-{quant}.gguf"


@dataclass(frozen=True)
class AnswerPair:
    prompt: str
    tuned: str
    gguf: str

    @property
    def agrees(self) -> bool:
        return self.tuned.strip() == self.gguf.strip()


@dataclass(frozen=True)
class ExportRecord:
    """One complete export, as its manifest says."""

    job_id: int
    job_name: str
    base_name: str
    prompt_format: str
    quant: str
    gguf_file: str  # file name inside ``folder``
    size_bytes: int
    ollama_name: str
    template: str  # which TEMPLATE the Modelfile has: "alpaca", "chat_template" or "from_gguf"
    max_tokens: int
    answers: tuple[AnswerPair, ...]
    seconds: dict[str, float] = field(default_factory=dict)  # per step: merge, convert, quantise, check
    created_at: float = 0.0
    folder: Path = Path()  # where it lies now (not stored: a folder can be moved)

    @property
    def gguf_path(self) -> Path:
        return self.folder / self.gguf_file

    @property
    def modelfile_path(self) -> Path:
        return self.folder / MODELFILE

    @property
    def agree(self) -> int:
        return sum(1 for pair in self.answers if pair.agrees)

    @property
    def check_answer(self) -> AnswerPair | None:
        """The load check: the first holdout prompt, answered by the GGUF and by the tuned model."""
        return self.answers[0] if self.answers else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("folder")
        data["answers"] = [asdict(pair) for pair in self.answers]
        data["agree"], data["total"], data["version"] = self.agree, len(self.answers), MANIFEST_VERSION
        return data


def record_from_json(data: dict[str, Any], folder: Path) -> ExportRecord:
    return ExportRecord(
        job_id=int(data["job_id"]),
        job_name=str(data["job_name"]),
        base_name=str(data["base_name"]),
        prompt_format=str(data["prompt_format"]),
        quant=str(data["quant"]),
        gguf_file=str(data["gguf_file"]),
        size_bytes=int(data["size_bytes"]),
        ollama_name=str(data.get("ollama_name", "")),
        template=str(data.get("template", "")),
        max_tokens=int(data.get("max_tokens", 0)),
        answers=tuple(AnswerPair(str(a["prompt"]), str(a["tuned"]), str(a["gguf"])) for a in data.get("answers", [])),
        seconds={str(k): float(v) for k, v in (data.get("seconds") or {}).items()},
        created_at=float(data.get("created_at", 0.0)),
        folder=folder,
    )


def write_manifest(record: ExportRecord) -> None:
    """The manifest, written to a temporary name and renamed: it exists whole or not at all."""
    target = record.folder / MANIFEST
    partial = target.with_name(MANIFEST + ".partial")
    partial.write_text(json.dumps(record.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(partial, target)


def read_export(folder: Path, job_id: int, job_name: str) -> ExportRecord | None:
    """The export in ``folder`` when it is complete and this job's; else None."""
    try:
        record = record_from_json(json.loads((folder / MANIFEST).read_text(encoding="utf-8")), folder)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if record.job_id != job_id or record.job_name != job_name or record.quant != folder.name:
        return None  # a leftover of a deleted job whose id was reused, or a folder renamed by hand
    path = record.gguf_path
    if not path.is_file() or path.stat().st_size != record.size_bytes:
        return None
    return record


def list_exports(job_dir: Path, job_id: int, job_name: str) -> list[ExportRecord]:
    """The job's complete exports, in the order of QUANT_TYPES (f16 first)."""
    found = [read_export(job_dir / quant, job_id, job_name) for quant in QUANT_TYPES]
    return [record for record in found if record is not None]


def staging_dir(job_dir: Path, quant: str, token: str) -> Path:
    return job_dir / f"{STAGING_PREFIX}{quant}-{token}"


def publish(staging: Path, job_dir: Path, quant: str, token: str) -> Path:
    """Give the finished staging folder its type's name; the previous export of that type goes
    only once the new one is in place."""
    final = job_dir / quant
    old = job_dir / f"{OLD_PREFIX}{quant}-{token}"
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def clean_leftovers(job_dir: Path) -> None:
    """Remove staging folders of exports that never finished; put back an export moved aside by a
    publish that was cut between its two renames. Call only while holding the job's export lease."""
    if not job_dir.is_dir():
        return
    for child in sorted(job_dir.iterdir(), key=lambda p: p.stat().st_mtime):
        if child.name.startswith(STAGING_PREFIX):
            log.info("Removing an unfinished export: %s", child)
            shutil.rmtree(child, ignore_errors=True)
        elif child.name.startswith(OLD_PREFIX):
            quant = child.name[len(OLD_PREFIX) :].rsplit("-", 1)[0]
            final = job_dir / quant
            if quant in QUANT_TYPES and not final.exists() and (child / MANIFEST).is_file():
                log.info("Restoring the export %s moved aside by an interrupted publish", final)
                child.rename(final)
            else:
                shutil.rmtree(child, ignore_errors=True)


def remove_job_exports(job_dir: Path) -> None:
    shutil.rmtree(job_dir, ignore_errors=True)


def now() -> float:
    return time.time()
