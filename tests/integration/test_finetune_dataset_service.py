"""DatasetService on a real database: import, list, reuse, rename, delete; bad uploads
leave nothing behind; token counts with the real SmolLM2 tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playground.errors import InvalidInput
from playground.finetune.dataset_service import DatasetService
from playground.finetune.datasets import PROMPT_COMPLETION_KIND, ColumnMapping
from playground.models.embedded import SMOLLM2_KEY
from playground.models.prompt_formats import ALPACA, CHAT_TEMPLATE, Example, render_training_pair
from playground.models.registry import ModelRegistry
from playground.settings import Settings
from tests.conftest_storage import *  # noqa: F403 - fixtures: db_url, engine, migrated_engine, uow_factory
from tests.integration.models_fixtures import model_cache

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo" / "finetune_support_replies.csv"


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def service(uow_factory, tmp_path):
    return DatasetService(uow_factory, Settings.from_env(tmp_path / "home"))


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def saved_names(service: DatasetService) -> list[str]:
    return [d.name for d in service.list_datasets()]


def test_import_demo_then_reuse_rename_delete(service):
    inspection = service.inspect_file(DEMO)
    assert inspection.mapping.kind == "alpaca" and inspection.row_count == 60
    assert inspection.columns == ["instruction", "input", "output"] and len(inspection.first_rows) == 5
    assert "Recognised" in inspection.message

    info = service.import_dataset(DEMO, "Support replies", tokenizer=words, max_length=256)
    assert (info.name, info.kind, info.source_name, info.row_count, info.usable_count) == (
        "Support replies",
        "alpaca",
        DEMO.name,
        60,
        60,
    )
    assert info.report.issues == [] and info.report.settings["holdout"] == 6
    assert (info.report.train_rows, info.report.holdout_rows) == (54, 6)
    assert "**54 of 60 rows**" in info.report.summary_markdown()

    examples = service.examples(info.id)
    assert len(examples) == 60 and examples[0].output.endswith("— Sam, Brightleaf Home")
    train, holdout = service.split(info.id)
    assert (len(train), len(holdout)) == (54, 6) and service.split(info.id) == (train, holdout)

    preview = service.preview_training_text(info.id, ALPACA, n=3)
    assert preview == [render_training_pair(e, ALPACA, None) for e in examples[:3]]
    assert preview[0][0].endswith("### Response:\n") and examples[0].input in preview[0][0]

    with pytest.raises(InvalidInput, match="already exists"):
        service.import_dataset(DEMO, "Support replies", tokenizer=words)
    renamed = service.rename(info.id, "Brightleaf replies")
    assert renamed.name == "Brightleaf replies" and saved_names(service) == ["Brightleaf replies"]
    assert "Deleted" in service.delete(info.id)
    assert saved_names(service) == []
    with pytest.raises(InvalidInput, match="no longer exists"):
        service.examples(info.id)


def test_user_mapping_kept_and_row_problems_saved_in_the_report(service, tmp_path):
    rows = [{"q": f"Question {i}", "a": f"Answer {i}"} for i in range(8)]
    rows[3] = dict(rows[2])  # duplicate
    rows[5] = {"q": "", "a": "orphan answer"}
    path = write_jsonl(tmp_path / "qa.jsonl", rows)
    assert service.inspect_file(path).mapping is None
    with pytest.raises(InvalidInput, match="No recognisable columns.*'q', 'a'"):
        service.import_dataset(path, "qa", tokenizer=words)
    mapping = ColumnMapping(PROMPT_COMPLETION_KIND, instruction="q", output="a")
    info = service.import_dataset(path, "qa", mapping, tokenizer=words)
    assert (info.row_count, info.usable_count, info.mapping) == (8, 6, mapping)
    saved = service.get(info.id)
    assert [(i.row, i.kind) for i in saved.report.issues] == [(4, "duplicate"), (6, "empty")]
    assert saved.report.unit == "line" and any("Only 6 usable rows" in w for w in saved.report.warnings)
    assert service.examples(info.id)[0] == Example("Question 0", "Answer 0")


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.csv", b"", "is empty"),
        ("binary.csv", bytes(range(256)) * 8, "binary"),
        ("broken.jsonl", b'{"instruction": "a", "output": "b"}\n{"instruction": \n', "Line 2 of broken.jsonl"),
        ("corrupt.xlsx", b"PK\x03\x04broken", "not a readable Excel workbook"),
        ("nothing.csv", b"colour,size\nred,9\nblue,3\n", "No recognisable columns"),
        ("allempty.csv", b"instruction,output,id\n,,1\n,,2\n,,3\n", "No usable rows"),
        ("single.csv", b"instruction,output\nSay hi,Hi\n", "A single row is not enough"),
    ],
)
def test_bad_uploads_are_refused_and_save_nothing(service, tmp_path, name, data, message):
    service.import_dataset(DEMO, "existing", tokenizer=words)
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InvalidInput, match=message):
        service.import_dataset(path, "bad one", tokenizer=words)
    assert saved_names(service) == ["existing"]
    assert len(service.examples(service.list_datasets()[0].id)) == 60


def test_chat_template_needs_a_tokenizer(service):
    with pytest.raises(InvalidInput, match="needs a base model's tokenizer"):
        service.import_dataset(DEMO, "chat", tokenizer=words, prompt_format=CHAT_TEMPLATE)
    assert saved_names(service) == []


@pytest.mark.slow
def test_real_smollm2_tokenizer_counts_too_long_rows_and_previews_its_template(uow_factory, tmp_path, model_cache):
    settings = Settings.from_env(tmp_path / "home")
    registry = ModelRegistry(settings, uow_factory, backend_factory=None)
    service = DatasetService(uow_factory, settings, registry)
    assert SMOLLM2_KEY in [key for _, key in service.base_model_choices()]
    tokenizer = service.tokenizer(SMOLLM2_KEY)
    assert service.tokenizer(SMOLLM2_KEY) is tokenizer  # cached per key

    rows = [{"instruction": f"Say the number {i}.", "output": f"{i}"} for i in range(6)]
    rows.append({"instruction": "Repeat: " + "banana " * 120, "output": "banana"})
    path = write_jsonl(tmp_path / "long.jsonl", rows)
    info = service.import_dataset(path, "long rows", max_length=64, base_model=SMOLLM2_KEY, prompt_format=CHAT_TEMPLATE)
    too_long = [i for i in info.report.issues if i.kind == "too_long"]
    assert [i.row for i in too_long] == [7]
    examples = service.examples(info.id)
    expected = len(
        tokenizer.encode("".join(render_training_pair(examples[6], CHAT_TEMPLATE, tokenizer)), add_special_tokens=False)
    )
    assert info.report.lengths[6] == expected > 120
    assert str(too_long[0].message).startswith(f"{expected} tokens > cut-off 64")
    assert max(info.report.lengths[:6]) <= 64

    preview = service.preview_training_text(info.id, CHAT_TEMPLATE, tokenizer, n=2)
    assert preview == [render_training_pair(e, CHAT_TEMPLATE, tokenizer) for e in examples[:2]]
    assert "<|im_start|>user" in preview[0][0] and preview[0][1].startswith("0<|im_end|>")
