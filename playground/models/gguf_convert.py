"""Open a GGUF file as a normal PyTorch model folder, converting it once and caching it.

transformers dequantises a GGUF on every load (20-45 s for the embedded models), so the
converted folder is saved under ``cache/converted`` and reused by the transformers backend
and the fine-tuning worker alike. A file lock keeps two processes from converting at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playground.errors import ModelLoadError

log = logging.getLogger(__name__)
COMPLETE_MARKER = ".converted-ok"


def converted_folder_for(gguf_path: Path, cache_dir: Path) -> Path:
    stat = gguf_path.stat()
    digest = hashlib.sha1(f"{gguf_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return cache_dir / "converted" / f"{gguf_path.stem}-{digest}"


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def is_converted(folder: Path) -> bool:
    return (folder / COMPLETE_MARKER).is_file()


def _forget_gguf_loader(model) -> None:
    """transformers keeps a "gguf quantizer" on the model that refuses to save, although the
    weights are already dequantised to ordinary tensors; detach it so the folder is a plain
    PyTorch checkpoint."""
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


def convert_gguf(gguf_path: Path, cache_dir: Path) -> Path:
    """Return a Hugging Face folder equivalent to ``gguf_path`` (converted on first call)."""
    target = converted_folder_for(gguf_path, cache_dir)
    if is_converted(target):
        return target
    with _file_lock(target.with_name(target.name + ".lock")):
        if is_converted(target):
            return target
        log.info("Converting %s to a PyTorch folder at %s (one time)", gguf_path, target)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        staging = target.with_name(target.name + ".staging")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
            model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
            _forget_gguf_loader(model)
            model.save_pretrained(str(staging))
            tokenizer.save_pretrained(str(staging))
            (staging / COMPLETE_MARKER).write_text(str(gguf_path))
        except MemoryError as err:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelLoadError(
                f"Ran out of memory converting {gguf_path.name} for the transformers backend."
            ) from err
        except Exception as err:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelLoadError(
                f"transformers could not open {gguf_path.name} ({type(err).__name__}: {err}). "
                "Use the llama.cpp backend for this file instead."
            ) from err
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target
