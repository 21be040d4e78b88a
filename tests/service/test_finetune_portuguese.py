"""The Fine-tune tab in Portuguese: what the worker stored is shown in the reader's language.

Real SQLite and the Fine-tune tab's own formatting and handlers, run as for a browser sending
``Accept-Language``. The worker's writes go through its real ``JobReporter``; the worker process
itself is not started (tests/integration/test_finetune_jobs.py runs it for real)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from gradio.context import LocalContext

from components.finetune_data import DatasetController
from components.finetune_jobs import JobsController, status_markdown
from playground.finetune.config import PRESETS
from playground.finetune.dataset_check import check_dataset
from playground.finetune.progress import JobReporter
from playground.i18n import t
from playground.models.embedded import SMOLLM2_KEY
from playground.models.prompt_formats import ALPACA, Example
from playground.services import Services
from tests.service.readers import reader

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo" / "finetune_support_replies.csv"
OLD_EVENT = "Converted the base model in 31 s; later jobs on this base skip this step."
OLD_MESSAGE = "Training: step 3 of 5."


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def job_id(services: Services) -> int:
    examples = [Example(f"Question {i}?", f"Answer {i}.") for i in range(8)]
    return services.finetune.create_job(
        "replies", SMOLLM2_KEY, ALPACA, PRESETS["Quick test"], examples[:6], examples[6:]
    )


def test_a_stored_progress_line_and_event_are_shown_in_the_readers_language(services: Services, job_id: int):
    reporter = JobReporter(services.finetune.uow_factory, job_id)  # what the worker writes, as it writes it
    reporter.set(message=t("finetune.msg_training_step", step=2, total=5))
    reporter.event(t("finetune.ev_resumed", step=2))
    controller = JobsController(services.finetune)

    with reader("pt-BR,pt;q=0.9"):
        view = services.finetune.job_view(job_id)
        shown = status_markdown(view)
        events = controller.show(job_id)[4]
    assert "Treinando: passo 2 de 5." in shown and "Training" not in shown
    assert events["headers"] == ["Hora", "Nível", "O que aconteceu"]
    assert [row[1:] for row in events["data"][:2]] == [
        ["info", "Retomado a partir do checkpoint do passo 2."],
        ["info", "Criado com 6 exemplos de treino e 2 de validação."],
    ]

    with reader("en-US"):  # the same rows, for an English reader: today's sentences
        shown, events = status_markdown(services.finetune.job_view(job_id)), controller.show(job_id)[4]
    assert "Training: step 2 of 5." in shown
    assert events["headers"] == ["Time", "Level", "What happened"]
    assert events["data"][0][2] == "Resumed from the checkpoint at step 2."
    assert str(services.finetune.job_view(job_id).message) == "Training: step 2 of 5."  # logs and API: English


def test_rows_written_before_the_catalogue_are_shown_as_they_are(services: Services, job_id: int):
    with services.finetune.uow_factory() as uow:  # plain English, as the worker stored it before keys
        uow.finetune_jobs.add_event(job_id, OLD_EVENT, "warning")
        uow.finetune_jobs.update(job_id, message=OLD_MESSAGE)

    with reader("pt-BR"):
        view = services.finetune.job_view(job_id)
        shown = status_markdown(view)
        events = JobsController(services.finetune).show(job_id)[4]
    assert view.message == OLD_MESSAGE and OLD_MESSAGE in shown
    assert events["data"][0][1:] == ["aviso", OLD_EVENT]  # the level is a word of ours; the line is the row's


def test_the_dataset_check_report_is_shown_in_the_readers_language(services: Services):
    rows = [Example(f"Q{i}", "A") for i in range(6)] + [Example("Q0", "A")]  # the last one is a copy of row 1
    report = check_dataset(rows, words, 64)
    assert report.issue_rows("pt-BR") == [[7, "duplicada", "Igual à linha 1; só a primeira cópia é usada."]]
    assert report.issue_rows() == [[7, "duplicate", "Same as row 1; only the first copy is used."]]

    info = services.finetune_datasets.import_dataset(DEMO, "Respostas", tokenizer=words)
    controller = DatasetController(services.finetune_datasets)
    with reader("pt-BR"):
        summary, issues, _, _ = controller.show(info.id, None, ALPACA)  # read back from the database
    assert "**54 de 60 linhas** serão usadas no treino; 6 linhas ficam separadas" in summary
    assert "Nenhum problema encontrado." in summary and "will be used" not in summary
    assert issues["headers"] == ["linha", "problema", "detalhes"]


def test_the_table_of_runs_has_its_headers_states_and_numbers_in_the_readers_language(services: Services, job_id: int):
    reporter = JobReporter(services.finetune.uow_factory, job_id)
    reporter.step_done(1, 1.2345, message=t("finetune.msg_training_step", step=1, total=5))
    controller = JobsController(services.finetune)

    with reader("pt-BR"):
        runs = controller.rows()
    assert runs["headers"][:4] == ["#", "Nome", "Base", "Conjunto de dados"]
    assert runs["headers"][-2:] == ["Status", "Mensagem"]
    row = dict(zip(runs["headers"], runs["data"][0]))
    assert (row["Loss de treino"], row["Status"], row["Mensagem"]) == ("1,234", "criado", "Treinando: passo 1 de 5.")

    with reader("en-US"):
        runs = controller.rows()
    row = dict(zip(runs["headers"], runs["data"][0]))
    assert (row["Train loss"], row["Status"], row["Message"]) == ("1.234", "created", "Training: step 1 of 5.")
