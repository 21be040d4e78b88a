"""One Settings object for the whole app, read from the environment and launcher flags.

Environment variables (all optional):

- ``PLAYGROUND_HOME``: data folder (database, models/, cache/, logs/). Default ``~/.playground``.
- ``DATABASE_URL``: SQLAlchemy URL; default SQLite at ``$PLAYGROUND_HOME/playground.db``.
  A ``postgresql://`` URL switches to PostgreSQL with no code change.
- ``PLAYGROUND_MODELS_DIRS``: extra folders to scan for models, separated by ``os.pathsep``.
- ``PLAYGROUND_MEMORY_BUDGET_MB``: memory the loaded local models may use together before the
  least recently used one is unloaded. Default 6144.
- ``PLAYGROUND_DEFAULT_MODEL``: key of the model selected when the app opens.
- ``PLAYGROUND_N_CTX``: context window for llama.cpp models. Default 4096.
- ``PLAYGROUND_HTTP_TIMEOUT_S``: seconds to wait on an OpenAI-compatible endpoint. Default 60.
- ``PLAYGROUND_MAX_REPLICAS``: copies of one local model that may answer at once (Compare
  columns sharing a model), within the memory budget. Default 4.
- ``PLAYGROUND_BATCH_ROW_LIMIT``: most rows a Compare batch file may have. Default 500.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypedDict, Unpack

DEFAULT_MODEL_KEY = "embedded/smollm2-135m-instruct"


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as err:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from err


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as err:
        raise ValueError(f"{name} must be a number, got {raw!r}") from err


class SettingsOverrides(TypedDict, total=False):
    """Fields of Settings that ``with_overrides`` may change, with their types."""

    home: Path
    database_url: str
    extra_model_dirs: tuple[Path, ...]
    memory_budget_mb: int
    default_model_key: str
    n_ctx: int
    http_timeout_s: float
    max_replicas: int
    batch_row_limit: int
    n_threads: int


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    extra_model_dirs: tuple[Path, ...] = ()
    memory_budget_mb: int = 6144
    default_model_key: str = DEFAULT_MODEL_KEY
    n_ctx: int = 4096
    http_timeout_s: float = 60.0
    max_replicas: int = 4  # copies of one local model, so Compare columns can share a model
    batch_row_limit: int = 500
    n_threads: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))

    @classmethod
    def from_env(cls, data_dir: str | os.PathLike[str] | None = None) -> Settings:
        home = Path(data_dir or os.environ.get("PLAYGROUND_HOME") or Path.home() / ".playground")
        home = home.expanduser().resolve()
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{home / 'playground.db'}"
        dirs = tuple(
            Path(p).expanduser().resolve()
            for p in os.environ.get("PLAYGROUND_MODELS_DIRS", "").split(os.pathsep)
            if p.strip()
        )
        return cls(
            home=home,
            database_url=database_url,
            extra_model_dirs=dirs,
            memory_budget_mb=env_int("PLAYGROUND_MEMORY_BUDGET_MB", 6144),
            default_model_key=os.environ.get("PLAYGROUND_DEFAULT_MODEL") or DEFAULT_MODEL_KEY,
            n_ctx=env_int("PLAYGROUND_N_CTX", 4096),
            http_timeout_s=env_float("PLAYGROUND_HTTP_TIMEOUT_S", 60.0),
            max_replicas=max(1, env_int("PLAYGROUND_MAX_REPLICAS", 4)),
            batch_row_limit=max(1, env_int("PLAYGROUND_BATCH_ROW_LIMIT", 500)),
        )

    def with_overrides(self, **changes: Unpack[SettingsOverrides]) -> Settings:
        return replace(self, **changes)

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    def ensure_dirs(self) -> None:
        for path in (self.home, self.models_dir, self.cache_dir, self.logs_dir):
            path.mkdir(parents=True, exist_ok=True)
