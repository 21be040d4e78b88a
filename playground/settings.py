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
- ``PLAYGROUND_MAX_UPLOAD_MB``: largest file one upload request may carry; Gradio stops reading
  the request there (HTTP 413) before the rest reaches the disk. Default 100.
- ``PLAYGROUND_MAX_UNZIPPED_MB``: most a DOCX or XLSX (ZIP packages) may unpack to; also refused
  before parsing: more than 1000 entries, or an entry that shrinks more than 100:1. Default 200.
- ``PLAYGROUND_RAG_MAX_PDF_PAGES``: most pages of a PDF the Documents tab reads. Default 2000.
- ``PLAYGROUND_FINETUNE_ROW_LIMIT``: most rows a fine-tuning dataset file may have. Default 20000.
- ``PLAYGROUND_KEY_VARS``: comma-separated environment variables that may hold an endpoint's API
  key besides those named ``*_API_KEY`` or ``*_TOKEN``; ``NAME=https://host[:port]`` also binds a
  variable to that server (repeat the name for several). See ``playground.models.secrets``.
- ``PLAYGROUND_MAX_TOKENS``: the most tokens one answer may have, whatever a tab or an API call
  asks for (a larger request is lowered to it, with a note). Default 2048, at least 32.
- ``PLAYGROUND_QUEUE_MAX_SIZE``: requests that may wait in the queue; past it a request is
  turned away with "busy, please try again". Default 100.
- ``PLAYGROUND_GENERATION_CONCURRENCY``: requests that make a model answer (Compare, Documents,
  Arena, Judge, Models' try box, ...) that may run at once; the rest wait in the queue. Default 8.
- ``PLAYGROUND_LIVE_ASKS_IN_FLIGHT``, ``PLAYGROUND_LIVE_ASKS_PER_MINUTE``: live Arena prompts one
  rater may have answering at once (default 1) and may start in a minute (default 10).
- ``PLAYGROUND_LEAK_WORDS_FILE``: the Arena's list of model and maker names that give an answer
  away (one a line, ``#`` comments), read by every new evaluation. Default
  ``assets/arena/leak_words.txt``.
- ``PLAYGROUND_LEASE_SECONDS``: how long work in flight (an upload being indexed, Arena
  pre-generation, a judge run, a fine-tuning worker) stays claimed without a heartbeat; the
  holder renews it every quarter of that. Another process sharing the database cleans up or
  takes over the work only after it expired. Default 60, at least 2.
- ``PLAYGROUND_WARMUP``: models to load in the background when the app starts, so the first
  answer does not wait on a load: ``off`` (the default, and what tests use), ``default`` (the
  models Compare opens with; ``make run`` sets this), or comma-separated model keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypedDict, Unpack

DEFAULT_MODEL_KEY = "embedded/smollm2-135m-instruct"
WARMUP_OFF = "off"
WARMUP_DEFAULT = "default"


def parse_warmup(raw: str) -> str:
    """PLAYGROUND_WARMUP as one of WARMUP_OFF, WARMUP_DEFAULT or a comma-separated list of keys."""
    value = raw.strip()
    if value.lower() in ("", "off", "none", "no", "0", "false"):
        return WARMUP_OFF
    if value.lower() in ("default", "on", "yes", "1", "true"):
        return WARMUP_DEFAULT
    return ",".join(key.strip() for key in value.split(",") if key.strip())


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


def lease_seconds_from_env() -> float:
    """PLAYGROUND_LEASE_SECONDS (default 60, at least 2): also read by services built without Settings."""
    return max(2.0, env_float("PLAYGROUND_LEASE_SECONDS", 60.0))


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
    max_upload_mb: float
    upload_retention_hours: float
    max_unzipped_mb: float
    rag_max_pdf_pages: int
    finetune_row_limit: int
    key_vars: tuple[str, ...]
    max_tokens: int
    queue_max_size: int
    generation_concurrency: int
    live_asks_in_flight: int
    live_asks_per_minute: int
    joins_per_minute_per_code: int
    joins_per_minute_per_address: int
    leak_words_file: str
    lease_seconds: float
    warmup: str


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
    max_upload_mb: float = 100.0  # per file of an upload request (Gradio's max_file_size)
    upload_retention_hours: float = 6.0  # uploaded files (and files offered for download) kept this long
    max_unzipped_mb: float = 200.0  # what a DOCX/XLSX may unpack to (see playground.zip_safety)
    rag_max_pdf_pages: int = 2000
    finetune_row_limit: int = 20000
    key_vars: tuple[str, ...] = ()  # PLAYGROUND_KEY_VARS entries: NAME or NAME=URL
    max_tokens: int = 2048  # per answer, enforced where every generation passes (GenerationRecorder)
    queue_max_size: int = 100
    generation_concurrency: int = 8
    live_asks_in_flight: int = 1  # per rater
    live_asks_per_minute: int = 10  # per rater
    joins_per_minute_per_code: int = 120  # Arena joins with one join code
    joins_per_minute_per_address: int = 60  # Arena joins from one client address
    leak_words_file: str = ""  # "": assets/arena/leak_words.txt (playground.arena.leaks)
    lease_seconds: float = field(default_factory=lambda: lease_seconds_from_env())  # playground.leases
    warmup: str = WARMUP_OFF  # WARMUP_OFF, WARMUP_DEFAULT or comma-separated model keys (playground.warmup)

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
            max_upload_mb=max(0.001, env_float("PLAYGROUND_MAX_UPLOAD_MB", 100.0)),
            upload_retention_hours=max(0.01, env_float("PLAYGROUND_UPLOAD_RETENTION_HOURS", 6.0)),
            max_unzipped_mb=max(0.001, env_float("PLAYGROUND_MAX_UNZIPPED_MB", 200.0)),
            rag_max_pdf_pages=max(1, env_int("PLAYGROUND_RAG_MAX_PDF_PAGES", 2000)),
            finetune_row_limit=max(1, env_int("PLAYGROUND_FINETUNE_ROW_LIMIT", 20000)),
            key_vars=tuple(v.strip() for v in os.environ.get("PLAYGROUND_KEY_VARS", "").split(",") if v.strip()),
            max_tokens=max(32, env_int("PLAYGROUND_MAX_TOKENS", 2048)),
            queue_max_size=max(1, env_int("PLAYGROUND_QUEUE_MAX_SIZE", 100)),
            generation_concurrency=max(1, env_int("PLAYGROUND_GENERATION_CONCURRENCY", 8)),
            live_asks_in_flight=max(1, env_int("PLAYGROUND_LIVE_ASKS_IN_FLIGHT", 1)),
            live_asks_per_minute=max(1, env_int("PLAYGROUND_LIVE_ASKS_PER_MINUTE", 10)),
            joins_per_minute_per_code=max(1, env_int("PLAYGROUND_JOINS_PER_MINUTE_PER_CODE", 120)),
            joins_per_minute_per_address=max(1, env_int("PLAYGROUND_JOINS_PER_MINUTE_PER_ADDRESS", 60)),
            leak_words_file=os.environ.get("PLAYGROUND_LEAK_WORDS_FILE", "").strip(),
            lease_seconds=lease_seconds_from_env(),
            warmup=parse_warmup(os.environ.get("PLAYGROUND_WARMUP", "")),
        )

    def with_overrides(self, **changes: Unpack[SettingsOverrides]) -> Settings:
        return replace(self, **changes)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

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
