"""Start returns at once with the job in its real first stage: the app neither converts the GGUF
base (20-45 s) nor counts parameters before the job exists; the worker does, and says so.

The worker launch is replaced by a recorder here (the real worker is tested in
tests/integration/test_finetune_jobs.py and tests/e2e/test_walkthrough_finetune_start.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from components.finetune_jobs import job_choices, status_markdown
from playground.finetune.config import PRESETS
from playground.finetune.job_drafts import JobDrafts, JobForm
from playground.finetune.modeling import placement
from playground.finetune.preparation import CONVERTING
from playground.models.embedded import SMOLLM2_KEY
from playground.models.prompt_formats import ALPACA
from playground.services import Services
from playground.statuses import FinetuneStatus

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo" / "finetune_support_replies.csv"


@pytest.fixture
def launched(services: Services, monkeypatch) -> list[int]:
    started: list[int] = []
    monkeypatch.setattr(
        type(services.finetune), "_launch", lambda self, job_id, *args, **kwargs: started.append(job_id)
    )
    return started


def test_start_returns_at_once_with_the_job_preparing_its_base(services: Services, launched: list[int]):
    dataset = services.finetune_datasets.import_dataset(DEMO, "Replies", tokenizer=lambda t: len(t.split()))
    drafts = JobDrafts(services.finetune, services.finetune_datasets)
    form = JobForm(dataset.id, SMOLLM2_KEY, ALPACA, "replies", "Quick test", PRESETS["Quick test"])
    # What the app did when the page was built: list the base models, import torch (the device note).
    services.finetune.base_choices()
    placement(form.config)

    began = time.monotonic()
    view = drafts.start(None, form)
    took = time.monotonic() - began

    assert took < 2.0, f"Start took {took:.1f} s"
    assert launched == [view.id]
    assert view.status == FinetuneStatus.STARTING and view.message == CONVERTING
    converted = services.settings.cache_dir / "converted"
    assert not converted.exists() or not any(converted.iterdir())  # the worker converts, not the app
    assert view.trainable_params is None  # counted by the worker once the base is loaded
    assert (view.train_rows, view.holdout_rows) == (54, 6)
    assert job_choices(services.finetune) == [(f"#{view.id} replies — ⏳ preparing", view.id)]
    assert "⏳ replies — preparing" in status_markdown(view) and str(CONVERTING) in status_markdown(view)

    stopping = services.finetune.stop(view.id)
    assert stopping.status == FinetuneStatus.STOPPING and str(stopping.message) == "Stopping before training begins…"
    assert stopping.can_stop is False and job_choices(services.finetune)[0][0].endswith("stopping")
