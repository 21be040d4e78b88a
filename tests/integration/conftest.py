"""Session-wide fixtures for the fine-tuning integration modules.

Training the ZORP job costs minutes on a 2-core CPU, so one trained job (and the services that
own it) is shared by ``test_finetune_jobs`` and ``test_gguf_export``, instead of each module
training its own.
"""

from __future__ import annotations

import os

import pytest

from playground.finetune.config import TrainingConfig
from playground.finetune.trainer import FAKE_OOM_ENV
from playground.models.embedded import SMOLLM2_KEY
from playground.models.prompt_formats import ALPACA
from playground.services import Services
from playground.settings import Settings
from tests.integration.models_fixtures import TEST_CACHE, model_cache
from tests.integration.zorp_job import FAST, HOLDOUT, TRAIN


@pytest.fixture(scope="session")
def finetune_services(tmp_path_factory, model_cache):
    home = tmp_path_factory.mktemp("finetune")
    (home / "cache").mkdir()
    (home / "cache" / "converted").symlink_to(TEST_CACHE / "converted")  # reuse the converted SmolLM2
    svc = Services.create(Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}", n_threads=2))
    yield svc
    svc.finetune.terminate_workers()  # a test that timed out must not leave training running
    svc.close()


@pytest.fixture(scope="session")
def zorp_trained(finetune_services):
    """Pre-flight, then a full run in which step 3 runs out of memory (simulated) once:
    (job id, pre-flight view, finished view)."""
    services = finetune_services
    config = TrainingConfig(batch_size=4, epochs=3, eval_every=8, **FAST)
    job_id = services.finetune.create_job(
        "zorp", SMOLLM2_KEY, ALPACA, config, TRAIN, HOLDOUT, dataset_name="zorp facts"
    )
    preflight = services.finetune.preflight(job_id, timeout_s=600)
    os.environ[FAKE_OOM_ENV] = "3"
    try:
        services.finetune.start(job_id)
        view = services.finetune.wait(job_id, timeout_s=800)
    finally:
        del os.environ[FAKE_OOM_ENV]
    return job_id, preflight, view
