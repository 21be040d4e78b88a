"""Checks on paths and URLs a user types, each failing with a plain sentence."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from playground.errors import InvalidInput
from playground.i18n import Text, catalogue, t

GGUF_MAGIC = b"GGUF"
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "model*.bin")
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


def _what(what: str) -> Text | str:
    """The thing asked for ("GGUF file"), in the reader's language where the catalogue has it."""
    key = "models.what_" + "_".join(what.lower().replace("-", " ").split())
    return Text(key) if catalogue().has(key) else what


def existing_path(raw: str, what: str) -> Path:
    text = (raw or "").strip().strip('"').strip("'")
    if not text:
        raise InvalidInput(t("models.enter_path", what=_what(what)))
    path = Path(text).expanduser()
    if not path.exists():
        raise InvalidInput(t("models.nothing_at", path=path, what=_what(what)))
    return path.resolve()


def is_gguf_file(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == GGUF_MAGIC
    except OSError:
        return False


def validate_gguf(raw: str) -> Path:
    path = existing_path(raw, "GGUF file")
    if path.is_dir():
        raise InvalidInput(t("models.gguf_is_folder", path=path))
    if not is_gguf_file(path):
        raise InvalidInput(t("models.not_gguf", path=path))
    return path


def weight_files(folder: Path) -> list[Path]:
    found: list[Path] = []
    for pattern in WEIGHT_PATTERNS:
        found.extend(p for p in folder.glob(pattern) if p.is_file())
    return sorted(set(found))


def is_hf_model_folder(folder: Path) -> bool:
    return (folder / "config.json").is_file() and bool(weight_files(folder))


def validate_hf_folder(raw: str) -> Path:
    path = existing_path(raw, "model folder")
    if not path.is_dir():
        raise InvalidInput(t("models.hf_is_file", path=path))
    if not (path / "config.json").is_file():
        raise InvalidInput(t("models.hf_no_config", path=path))
    if not weight_files(path):
        raise InvalidInput(t("models.hf_no_weights", path=path))
    return path


def validate_adapter_folder(raw: str) -> Path:
    path = existing_path(raw, "adapter folder")
    if not path.is_dir() or not (path / "adapter_config.json").is_file():
        raise InvalidInput(t("models.not_adapter", path=path))
    if not any((path / name).is_file() for name in ADAPTER_WEIGHTS):
        raise InvalidInput(t("models.adapter_no_weights", path=path))
    return path


def validate_base_url(raw: str) -> str:
    url = (raw or "").strip().rstrip("/")
    if not url:
        raise InvalidInput(t("models.enter_base_url"))
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInput(t("models.not_web_address", url=repr(raw)))
    try:
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as err:
        raise InvalidInput(t("models.bad_port", url=repr(raw))) from err
    if parsed.username is not None or parsed.password is not None:
        # The URL is saved and shown in the Models table: a password in it would be shown to everyone.
        raise InvalidInput(t("models.url_credentials"))
    if parsed.query or parsed.fragment:
        raise InvalidInput(t("models.url_query"))
    return url


def validate_name(raw: str, what: str = "model") -> str:
    name = (raw or "").strip()
    if not name:
        raise InvalidInput(t("models.enter_name", what=_what(what)))
    if len(name) > 200:
        raise InvalidInput(t("models.name_too_long", what=_what(what)))
    return name


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in weight_files(folder))
