"""The language choices next to the demo buttons and the "try Gemma 3 270M" note, through the
tabs' own handlers on the fake services."""

from __future__ import annotations

from pathlib import Path

from components.arena_tab import ArenaController
from components.compare_batch import BatchController
from components.finetune_data import DatasetController
from components.language_widgets import note_text
from components.widgets import StoppableRun
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.services import Services

PT = "Resuma esta avaliação de cliente em uma frase e diga se o preço é justo."


def test_each_demo_button_loads_the_language_picked_next_to_it(services: Services):
    batch = BatchController(services, StoppableRun(services.cancel_tokens), template_name_is_dropdown=False)
    path, body, name = batch.load_demo("pt")
    assert Path(path).name == "product_reviews_pt.csv" and "Você está analisando" in body
    assert name == "Avaliações de produtos (demo)" and services.templates.latest(name).body == body
    english_path, english_body, english_name = batch.load_demo()  # the default: English
    assert Path(english_path).name == "product_reviews.csv" and english_name == "Product reviews (demo)"
    datasets = DatasetController(services.finetune_datasets)
    assert Path(datasets.load_demo("pt")).name == "finetune_support_replies_pt.csv"
    assert Path(datasets.load_demo(None)).name == "finetune_support_replies.csv"
    arena = ArenaController(services)
    portuguese, english = arena.demo_prompts("pt").split("\n"), arena.demo_prompts().split("\n")
    assert len(portuguese) == len(english) == 10 and portuguese[0].startswith("Escreva uma descrição de produto")


def test_the_note_suggests_gemma_for_portuguese_with_smollm2_only(services: Services):
    note = note_text(services, [SMOLLM2_KEY], [PT])
    assert "Portuguese" in note and "SmolLM2" in note and "Gemma 3 270M" in note
    assert note_text(services, [[SMOLLM2_KEY, GEMMA3_KEY]], [PT]) == note  # a multiselect's list of keys
    assert note_text(services, [SMOLLM2_KEY], ["Summarise this customer review in one sentence, please."]) == ""
    assert note_text(services, [GEMMA3_KEY, None], [PT]) == ""
