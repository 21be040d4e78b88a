import json

import pytest

from playground.errors import InvalidInput
from playground.models.discovery import scan_folder
from playground.models.types import BackendKind
from playground.models.validation import (
    validate_adapter_folder,
    validate_base_url,
    validate_gguf,
    validate_hf_folder,
)


def make_gguf(path):
    path.write_bytes(b"GGUF" + b"\0" * 32)
    return path


def make_hf(folder, weights=True):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    if weights:
        (folder / "model.safetensors").write_bytes(b"\0" * 10)
    return folder


def test_gguf_missing_path(tmp_path):
    with pytest.raises(InvalidInput, match="Nothing exists at"):
        validate_gguf(str(tmp_path / "nope.gguf"))


def test_gguf_empty_input():
    with pytest.raises(InvalidInput, match="enter the path"):
        validate_gguf("  ")


def test_gguf_not_gguf(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_text("this is text, not a model")
    with pytest.raises(InvalidInput, match="not a GGUF model file"):
        validate_gguf(str(fake))


def test_gguf_folder_given(tmp_path):
    with pytest.raises(InvalidInput, match="is a folder"):
        validate_gguf(str(tmp_path))


def test_gguf_ok_with_quotes(tmp_path):
    real = make_gguf(tmp_path / "m.gguf")
    assert validate_gguf(f'"{real}"') == real.resolve()


def test_hf_folder_without_weights(tmp_path):
    folder = make_hf(tmp_path / "m", weights=False)
    with pytest.raises(InvalidInput, match="no model weights"):
        validate_hf_folder(str(folder))


def test_hf_folder_without_config(tmp_path):
    (tmp_path / "m").mkdir()
    with pytest.raises(InvalidInput, match="no config.json"):
        validate_hf_folder(str(tmp_path / "m"))


def test_adapter_folder_checks(tmp_path):
    with pytest.raises(InvalidInput, match="not a PEFT adapter"):
        validate_adapter_folder(str(tmp_path))
    (tmp_path / "adapter_config.json").write_text("{}")
    with pytest.raises(InvalidInput, match="no adapter weights"):
        validate_adapter_folder(str(tmp_path))


@pytest.mark.parametrize("url", ["", "localhost:8000", "ftp://x/v1", "http://"])
def test_bad_base_urls(url):
    with pytest.raises(InvalidInput):
        validate_base_url(url)


def test_base_url_trailing_slash_removed():
    assert validate_base_url(" http://127.0.0.1:8000/v1/ ") == "http://127.0.0.1:8000/v1"


def test_scan_finds_gguf_and_hf_folders_but_not_fakes(tmp_path):
    make_gguf(tmp_path / "a.gguf")
    (tmp_path / "fake.gguf").write_text("nope")
    make_hf(tmp_path / "hf-model")
    make_hf(tmp_path / "no-weights", weights=False)
    make_gguf(tmp_path / "sub" / "deeper.gguf") if (tmp_path / "sub").mkdir() is None else None
    specs = {s.name: s for s in scan_folder(tmp_path)}
    assert set(specs) == {"a", "hf-model", "deeper"}
    assert specs["a"].backend == BackendKind.LLAMA_CPP
    assert specs["hf-model"].backend == BackendKind.TRANSFORMERS
    assert specs["a"].key == f"local/{tmp_path / 'a.gguf'}"


def test_scan_missing_folder_is_empty(tmp_path):
    assert scan_folder(tmp_path / "missing") == []
