"""Find GGUF files and Hugging Face model folders inside the user's models folders."""

from __future__ import annotations

import os
from pathlib import Path

from playground.i18n import t
from playground.models.types import BackendKind, ModelSource, ModelSpec
from playground.models.validation import folder_size, is_gguf_file, is_hf_model_folder

LOCAL_PREFIX = "local/"
MAX_DEPTH = 3  # models folders are shallow; a deep walk of a home folder would stall the UI


def local_key(path: Path) -> str:
    return LOCAL_PREFIX + str(path)


def spec_for_path(path: Path) -> ModelSpec | None:
    """A spec for a GGUF file (llama.cpp) or an HF folder (transformers), else None."""
    if path.is_file() and path.suffix.lower() == ".gguf" and is_gguf_file(path):
        return ModelSpec(
            key=local_key(path),
            name=path.stem,
            backend=BackendKind.LLAMA_CPP,
            source=ModelSource.DISCOVERED,
            path=str(path),
            size_bytes=path.stat().st_size,
            description=t("models.description_found_gguf", folder=str(path.parent)),
        )
    if path.is_dir() and is_hf_model_folder(path):
        return ModelSpec(
            key=local_key(path),
            name=path.name,
            backend=BackendKind.TRANSFORMERS,
            source=ModelSource.DISCOVERED,
            path=str(path),
            size_bytes=folder_size(path),
            description=t("models.description_found_hf", folder=str(path.parent)),
        )
    return None


def scan_folder(root: Path) -> list[ModelSpec]:
    if not root.is_dir():
        return []
    found: list[ModelSpec] = []
    root_depth = len(root.parts)
    for dirpath, dirnames, filenames in os.walk(root):
        current = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        spec = spec_for_path(current) if current != root else None
        if spec is not None:
            found.append(spec)
            dirnames[:] = []  # an HF folder's subfolders are part of it
            continue
        for name in sorted(filenames):
            if name.lower().endswith(".gguf"):
                file_spec = spec_for_path(current / name)
                if file_spec is not None:
                    found.append(file_spec)
        if len(current.parts) - root_depth >= MAX_DEPTH:
            dirnames[:] = []
    return found
