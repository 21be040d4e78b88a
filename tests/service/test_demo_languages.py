"""The Portuguese demo material goes through the same loaders as the English: the batch table
and its template, the fine-tune dataset, the Arena prompt set."""

from __future__ import annotations

import pytest

from playground.arena.prompts import parse_file
from playground.compare.batch import demo_files
from playground.compare.columns import ColumnConfig
from playground.compare.templates import template_variables
from playground.demo import ARENA_PROMPTS, REVIEW_TEMPLATE, REVIEWS, SUPPORT_REPLIES, demo_path
from playground.languages import SUPPORTED, detect
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.types import GenerationParams
from playground.services import Services

PARAMS = GenerationParams(max_tokens=16, temperature=0.0, seed=1)


def words(text: str) -> int:
    return len(text.split())


@pytest.mark.parametrize("filename", [REVIEWS, REVIEW_TEMPLATE, SUPPORT_REPLIES, ARENA_PROMPTS])
def test_every_language_has_its_own_demo_file_in_its_language(filename):
    paths = {code: demo_path(filename, code) for code in SUPPORTED}
    assert len(set(paths.values())) == len(SUPPORTED)  # none falls back to the English file
    for code, path in paths.items():
        assert path.is_file() and detect(path.read_text(encoding="utf-8")).code == code
    assert demo_path(filename, "xx") == demo_path(filename, "en")  # a language without demos gets English


def test_the_portuguese_reviews_fill_the_portuguese_template_like_the_english_ones(services: Services):
    english_path, english_body, english_name = demo_files("en")
    path, body, name = demo_files("pt")
    english, table = services.batch.load(english_path), services.batch.load(path)
    assert (
        (table.columns, table.row_count)
        == (english.columns, english.row_count)
        == (["product", "rating", "review"], 12)
    )
    assert template_variables(body) == template_variables(english_body) == ["product", "review"]
    assert name != english_name  # loading one language's demo never adds a version to the other's
    assert services.templates.save(name, body).variables == ["product", "review"]
    columns = [ColumnConfig(model_key=k, temperature=0.0, max_tokens=16) for k in (SMOLLM2_KEY, GEMMA3_KEY)]
    plan = services.batch.prepare(columns, body, table, filename=table.filename)
    assert plan.answers == 24
    first = plan.prompt_for(table.rows[0])
    assert table.rows[0]["review"] in first and "Garrafa Térmica AquaPura" in first and "{{" not in first


def test_the_portuguese_support_replies_import_like_the_english_ones(services: Services):
    datasets = services.finetune_datasets
    english_file, file = datasets.demo_file("en"), datasets.demo_file("pt")
    assert file.name == "finetune_support_replies_pt.csv" and english_file.name == "finetune_support_replies.csv"
    english_look, look = datasets.inspect_file(english_file), datasets.inspect_file(file)
    assert look.columns == english_look.columns == ["instruction", "input", "output"]
    assert look.mapping == english_look.mapping and look.row_count == english_look.row_count == 60
    info = datasets.import_dataset(file, "Respostas de suporte", tokenizer=words, max_length=256)
    english = datasets.import_dataset(english_file, "Support replies", tokenizer=words, max_length=256)
    assert info.usable_count == info.row_count == english.usable_count == 60
    assert (info.report.train_rows, info.report.holdout_rows) == (
        english.report.train_rows,
        english.report.holdout_rows,
    )
    train, _ = datasets.split(info.id)
    assert detect(" ".join(e.output for e in train[:10])).code == "pt"


def test_the_arena_demo_prompts_make_an_evaluation_in_either_language(services: Services):
    for code in SUPPORTED:
        prompts = services.arena.demo_prompts(code)
        assert len(prompts) == 10 and len(set(prompts)) == 10
        assert detect("\n".join(prompts)).code == code
        items = parse_file(demo_path(ARENA_PROMPTS, code))
        assert [i.text for i in items] == prompts and [i.question_id for i in items][:2] == ["demo-01", "demo-02"]
    info = services.arena.create_evaluation(
        "Demo (pt)", parse_file(demo_path(ARENA_PROMPTS, "pt")), [SMOLLM2_KEY, GEMMA3_KEY], PARAMS
    )
    assert info.prompts == 10
