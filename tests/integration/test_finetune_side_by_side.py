"""Base vs tuned for real: the embedded SmolLM2 (converted once, cached) and a small LoRA
adapter made with PEFT on it, answering the job's holdout prompts through the recorder."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.errors import InvalidInput
from playground.finetune.jobfiles import HOLDOUT_FILE, write_examples
from playground.finetune.side_by_side import RUN_KIND, SideBySideService, base_key_of
from playground.finetune.tuned_models import finetune_key
from playground.models.embedded import SMOLLM2_KEY, smollm2_path
from playground.models.prompt_formats import ALPACA, Example, render_prompt
from playground.services import Services
from playground.settings import Settings
from tests.integration.models_fixtures import TEST_CACHE, model_cache

pytestmark = pytest.mark.slow
HOLDOUT = [Example("What colour is the sky?", "ZORP! blue"), Example("What do bees make?", "ZORP! honey")]


@pytest.fixture(scope="module")
def services(tmp_path_factory, model_cache):
    home = tmp_path_factory.mktemp("side-by-side")
    (home / "cache").mkdir()
    TEST_CACHE.joinpath("converted").mkdir(exist_ok=True)
    (home / "cache" / "converted").symlink_to(TEST_CACHE / "converted")
    svc = Services.create(Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}", n_threads=2))
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def job(services, tmp_path_factory):
    """A finished ("done") job whose adapter is a random (non-zero) LoRA, so the tuned answers differ."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folder = services.finetune.resolve_base(SMOLLM2_KEY).folder
    job_dir = tmp_path_factory.mktemp("job")
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    lora = LoraConfig(
        r=8, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False, task_type="CAUSAL_LM"
    )
    get_peft_model(model, lora).save_pretrained(str(job_dir / "adapter"))
    write_examples(job_dir / HOLDOUT_FILE, HOLDOUT)
    with services.uow_factory() as uow:
        row = uow.finetune_jobs.add(
            name="random lora",
            base_model=SMOLLM2_KEY,
            base_name="SmolLM2 135M Instruct",
            base_path=str(smollm2_path()),
            base_folder=str(folder),
            prompt_format=ALPACA,
            config={},
            status="done",
            message="done",
            adapter_path=str(job_dir / "adapter"),
            job_dir=str(job_dir),
            dataset_name="zorp",
        )
        return row.id, folder


def _greedy_alpaca(folder: Path, question: str, tokens: int) -> str:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    ids = tok(render_prompt(Example(question, ""), ALPACA), return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=tokens,
            do_sample=False,
            pad_token_id=tok.eos_token_id,
        )
    return tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


def test_base_and_tuned_answer_the_same_alpaca_prompts_and_are_recorded(services, job):
    job_id, folder = job
    snapshots = list(SideBySideService(services.registry, services.uow_factory).compare(job_id, limit=5, max_tokens=12))
    first, final = snapshots[0], snapshots[-1]
    assert first.done == 0 and final.finished and len(final.rows) == 2
    assert (
        final.base_name == "SmolLM2 135M Instruct (base, alpaca prompt)"
        and final.tuned_name == "SmolLM2 135M Instruct + random lora"
    )
    assert [r.prompt for r in final.rows] == [e.instruction for e in HOLDOUT] and final.rows[0].expected == "ZORP! blue"
    for row in final.rows:
        assert row.base.status == row.tuned.status == "ok", (row.base.error, row.tuned.error)
        assert row.base.text.strip() and row.base.text != row.tuned.text
    # The base got the Alpaca prompt through the same backend: exactly what plain transformers answers.
    direct = _greedy_alpaca(folder, HOLDOUT[0].instruction, 12)
    assert direct.strip().startswith(final.rows[0].base.text.strip()[:20])
    with services.uow_factory() as uow:
        run = uow.runs.get(final.run_id)
        gens = sorted(run.generations, key=lambda g: (g.row_index, g.position))
        assert run.kind == RUN_KIND and run.meta["finetune_job_id"] == job_id
        assert [(g.row_index, g.position, g.model_key) for g in gens] == [
            (0, 0, base_key_of(job_id)),
            (0, 1, finetune_key(job_id)),
            (1, 0, base_key_of(job_id)),
            (1, 1, finetune_key(job_id)),
        ]
        assert all(g.status == "ok" and g.completion_tokens for g in gens)
        assert gens[0].messages == gens[1].messages == [{"role": "user", "content": HOLDOUT[0].instruction}]
    # The base-in-format key stays resolvable (History can reopen the run) but is in no model list.
    base = services.registry.get_spec(base_key_of(job_id))
    assert base.adapter_path is None and base.name == final.base_name
    assert base.key not in {s.key for s in services.registry.list_specs()}


def test_only_a_finished_job_can_be_compared(services, job):
    with services.uow_factory() as uow:
        running = uow.finetune_jobs.add(
            name="busy",
            base_model=SMOLLM2_KEY,
            base_name="b",
            base_path="p",
            base_folder="f",
            prompt_format=ALPACA,
            config={},
            status="running",
        ).id
    service = SideBySideService(services.registry, services.uow_factory)
    with pytest.raises(InvalidInput, match="is running: base vs tuned needs a job that finished"):
        next(service.compare(running))
    with pytest.raises(InvalidInput, match="no fine-tuning job #99999"):
        next(service.compare(99999))
