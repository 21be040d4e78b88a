"""Shared real-model fixtures: the embedded GGUFs and a cache that survives between runs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from playground.models.embedded import embedded_specs, smollm2_path

# Converted GGUF folders are keyed by file path+mtime, so reusing them across runs is safe
# and saves ~30 s per run on a developer machine (CI starts empty anyway).
TEST_CACHE = Path(tempfile.gettempdir()) / "playground-test-cache"


@pytest.fixture(scope="session")
def model_cache() -> Path:
    TEST_CACHE.mkdir(parents=True, exist_ok=True)
    return TEST_CACHE


@pytest.fixture(scope="session")
def smollm2_spec(model_cache):
    return embedded_specs(model_cache)[0]


@pytest.fixture(scope="session")
def gemma_spec(model_cache):
    return embedded_specs(model_cache)[1]


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    return smollm2_path()
