"""Checks on paths and URLs a user types, each failing with a plain sentence."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from playground.errors import InvalidInput

GGUF_MAGIC = b"GGUF"
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "model*.bin")
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


def existing_path(raw: str, what: str) -> Path:
    text = (raw or "").strip().strip('"').strip("'")
    if not text:
        raise InvalidInput(f"Please enter the path of the {what}.")
    path = Path(text).expanduser()
    if not path.exists():
        raise InvalidInput(
            f"Nothing exists at {path}. Check the {what} path (it is read on the machine running Playground)."
        )
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
        raise InvalidInput(
            f"{path} is a folder. Enter the path of a single .gguf file, or add the folder as a models folder."
        )
    if not is_gguf_file(path):
        raise InvalidInput(f"{path} is not a GGUF model file (it does not start with the GGUF signature).")
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
        raise InvalidInput(
            f"{path} is a file, not a folder. A Hugging Face model is a folder with config.json and weights."
        )
    if not (path / "config.json").is_file():
        raise InvalidInput(f"{path} has no config.json, so it is not a Hugging Face model folder.")
    if not weight_files(path):
        raise InvalidInput(f"{path} has a config.json but no model weights (.safetensors or .bin files).")
    return path


def validate_adapter_folder(raw: str) -> Path:
    path = existing_path(raw, "adapter folder")
    if not path.is_dir() or not (path / "adapter_config.json").is_file():
        raise InvalidInput(f"{path} is not a PEFT adapter folder (it has no adapter_config.json).")
    if not any((path / name).is_file() for name in ADAPTER_WEIGHTS):
        raise InvalidInput(f"{path} has an adapter_config.json but no adapter weights (adapter_model.safetensors).")
    return path


def validate_base_url(raw: str) -> str:
    url = (raw or "").strip().rstrip("/")
    if not url:
        raise InvalidInput("Please enter the endpoint's base URL, e.g. http://127.0.0.1:8000/v1.")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInput(
            f"{raw!r} is not a web address. It should look like http://127.0.0.1:8000/v1 or https://api.openai.com/v1."
        )
    try:
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as err:
        raise InvalidInput(f"{raw!r} has a port that is not a number (e.g. http://127.0.0.1:8000/v1).") from err
    if parsed.username is not None or parsed.password is not None:
        # The URL is saved and shown in the Models table: a password in it would be shown to everyone.
        raise InvalidInput(
            "Leave the user name and password out of the base URL: it is saved and shown in the model list. "
            "Put the key in an API-key environment variable or the API key field instead."
        )
    if parsed.query or parsed.fragment:
        raise InvalidInput(
            "The base URL should have no ?query or #part (a key in it would be saved and shown). "
            "Enter just the address, e.g. https://api.openai.com/v1."
        )
    return url


def validate_name(raw: str, what: str = "model") -> str:
    name = (raw or "").strip()
    if not name:
        raise InvalidInput(f"Please give the {what} a name.")
    if len(name) > 200:
        raise InvalidInput(f"The {what} name is too long (at most 200 characters).")
    return name


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in weight_files(folder))
