"""Fine-tuning for real on the CPU: the embedded SmolLM2, a 20-row dataset, a worker process.

One trained job is shared by the module (pre-flight, then training through a simulated
out-of-memory error); a second job goes through stop, resume, a killed worker and an app
restart. Steps are few and short (max length 128) to keep the module near two minutes.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from playground.compare.columns import ColumnConfig
from playground.errors import InvalidInput
from playground.finetune.checkpoint import Checkpoint, DiskFullError, load_checkpoint, save_checkpoint
from playground.finetune.config import TrainingConfig
from playground.finetune.jobs import FinetuneService
from playground.finetune.trainer import FAKE_OOM_ENV
from playground.finetune.tuned_models import finetune_key
from playground.models.embedded import SMOLLM2_KEY
from playground.models.prompt_formats import ALPACA, Example, render_prompt
from playground.services import Services
from playground.settings import Settings
from tests.integration.models_fixtures import TEST_CACHE, model_cache
from tests.integration.zorp_job import FAST, HOLDOUT, TRAIN


def wait_for(predicate, timeout_s: float = 600.0, poll_s: float = 0.3):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError("timed out waiting")


@pytest.fixture(scope="module")
def services(finetune_services):
    return finetune_services


@pytest.fixture(scope="module")
def trained(zorp_trained):
    """Pre-flight, then a full run in which step 3 runs out of memory (simulated) once (shared with
    the GGUF export tests: see tests/integration/conftest.py)."""
    return zorp_trained


@pytest.mark.slow
def test_preflight_measures_speed_memory_and_eta_in_the_worker(trained):
    _, preflight, _ = trained
    assert preflight.status == "created", preflight.message
    assert preflight.preflight["tokens_per_s"] > 0 and preflight.preflight["peak_memory_bytes"] > 50_000_000
    assert preflight.preflight["eta_s"] > 0 and preflight.preflight["total_steps"] == 15
    assert "tokens/s" in preflight.message and "No GPU found" in preflight.device
    assert (
        0 < preflight.trainable_share < 0.05 and preflight.trainable_params == preflight.preflight["trainable_params"]
    )


@pytest.mark.slow
def test_training_lowers_the_loss_and_survives_running_out_of_memory(trained):
    _, _, view = trained
    assert view.status == "done", view.message
    assert view.step == view.total_steps == 15 and view.progress == 1.0
    assert view.train_steps == list(range(1, 16))
    first, last = sum(view.train_losses[:3]) / 3, sum(view.train_losses[-3:]) / 3
    assert last < first * 0.6, view.train_losses
    assert view.holdout_steps == [8, 15] and view.holdout_losses[-1] < view.holdout_losses[0]
    assert len(view.samples) == 3 and all(s.step == 15 for s in view.samples)
    # Step 3 ran out of memory: the micro-batch halved, accumulation doubled, same effective batch.
    assert any("Ran out of memory at step 3" in e.text for e in view.events)
    assert (view.micro_batch, view.grad_accum, view.effective_batch) == (2, 2, 4)
    assert view.tokens_per_s > 0 and view.peak_memory_bytes > 0
    assert (Path(view.adapter_path) / "adapter_config.json").is_file()
    assert (Path(view.adapter_path) / "adapter_model.safetensors").is_file()


@pytest.mark.slow
def test_adapter_loads_with_plain_peft_and_changes_the_greedy_answer(trained, services):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    job_id, _, view = trained
    with services.uow_factory() as uow:
        base_folder = uow.finetune_jobs.get(job_id).base_folder
    tokenizer = AutoTokenizer.from_pretrained(base_folder)
    model = AutoModelForCausalLM.from_pretrained(base_folder, dtype=torch.float32)
    ids = tokenizer(render_prompt(Example("What colour is grass?", ""), ALPACA), return_tensors="pt")["input_ids"]

    def greedy(m):
        with torch.inference_mode():
            out = m.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=8,
                do_sample=False,
                pad_token_id=tokenizer.eos_token_id,
            )
        return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)

    before = greedy(model)
    after = greedy(PeftModel.from_pretrained(model, view.adapter_path))
    assert before != after and "ZORP" in after and "ZORP" not in before


@pytest.mark.slow
def test_the_tuned_model_is_listed_and_answers_through_compare(trained, services):
    job_id, _, _ = trained
    key = finetune_key(job_id)
    specs = {s.key: s for s in services.registry.list_specs()}
    assert specs[key].name == "SmolLM2 135M Instruct + zorp"
    assert specs[key].extra["prompt_format"] == ALPACA
    columns = [ColumnConfig(model_key=key, temperature=0.0, max_tokens=16, seed=1)]
    run_id, text = services.compare.start_run(columns, "What colour is the sky?")
    final = list(services.compare.stream_turn(run_id, columns, [[]], text))[-1]
    assert final[0].status == "ok" and "ZORP" in final[0].text
    assert "### Instruction" not in final[0].text  # stopped at the Alpaca markers
    with pytest.raises(InvalidInput, match="Delete the job in the Fine-tune tab"):
        services.models.remove(key)  # it belongs to its job, not to the Models list


@pytest.mark.slow
def test_merge_export_writes_a_full_model_folder(trained, services):
    job_id, _, _ = trained
    path = services.finetune.merge_export(job_id)
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()
    assert (path / "tokenizer.json").is_file() and not (path / "adapter_config.json").exists()
    assert services.finetune.job_view(job_id).export_path == str(path)


@pytest.mark.slow
def test_stop_resume_a_killed_worker_and_a_restart(services):
    svc = services.finetune
    config = TrainingConfig(batch_size=2, epochs=1, eval_every=100, checkpoint_every=2, **FAST)
    job_id = svc.create_job("zorp stop", SMOLLM2_KEY, ALPACA, config, TRAIN[:16], HOLDOUT)
    total = svc.job_view(job_id).total_steps
    assert total == 8
    svc.start(job_id)
    wait_for(lambda: svc.job_view(job_id).step >= 2)
    svc.stop(job_id)
    stopped = svc.wait(job_id, timeout_s=300)
    assert stopped.status == "stopped", stopped.message
    assert stopped.checkpoint_step == stopped.step and "Resume continues from step" in stopped.message
    assert stopped.train_steps == list(range(1, stopped.step + 1))

    svc.resume(job_id)
    wait_for(lambda: svc.job_view(job_id).checkpoint_step > stopped.step)
    pid = _pid(services, job_id)
    os.killpg(pid, signal.SIGKILL)  # the worker dies mid-run, as if the machine lost power
    wait_for(lambda: not _alive(pid))
    restarted = FinetuneService(services.settings, services.registry, services.uow_factory)  # the app starts again
    assert restarted.reconcile() == [job_id]
    failed = restarted.job_view(job_id)
    assert failed.status == "failed" and "stopped unexpectedly" in failed.message
    assert f"Resume continues from step {failed.checkpoint_step}" in failed.message

    restarted.resume(job_id)
    done = restarted.wait(job_id, timeout_s=600)
    assert done.status == "done", done.message
    assert done.step == total and done.train_steps == list(range(1, total + 1))  # no step twice, none missing
    assert sum("Resumed from the checkpoint" in e.text for e in done.events) == 2


def _pid(services, job_id: int) -> int:
    with services.uow_factory() as uow:
        return uow.finetune_jobs.get(job_id).pid


def _alive(pid: int) -> bool:
    from playground.finetune.jobs import pid_alive

    return pid_alive(pid)


def test_reconcile_fails_a_job_with_a_silent_worker_or_a_gone_process(services):
    """Liveness is the job's lease (see also tests/integration/test_finetune_leases.py)."""
    import socket

    from playground.leases import instance_id
    from storage.orm_leases import LEASE_FINETUNE

    namespace = instance_id().split(":")[1]
    now = datetime.now(UTC)
    with services.uow_factory() as uow:
        common = dict(
            base_model="k",
            base_name="b",
            base_path="p",
            base_folder="f",
            prompt_format=ALPACA,
            config={},
            checkpoint_step=4,
        )
        silent = uow.finetune_jobs.add(name="silent", status="running", launch_token="s", **common).id
        gone = uow.finetune_jobs.add(name="gone", status="stopping", launch_token="g", **common).id
        fine = uow.finetune_jobs.add(name="fine", status="running", launch_token="f", **common).id
        expired, live = now - timedelta(minutes=10), now + timedelta(minutes=1)
        uow.leases.take(LEASE_FINETUNE, silent, instance_id(), "s", expired - timedelta(minutes=1), expired)
        dead_here = f"{socket.gethostname()}:{namespace}:{2**22 + 7}:x"
        uow.leases.take(LEASE_FINETUNE, gone, dead_here, "g", now, live)
        uow.leases.take(LEASE_FINETUNE, fine, instance_id(), "f", now, live)
    marked = FinetuneService(services.settings, services.registry, services.uow_factory).reconcile()
    assert set(marked) >= {silent, gone} and fine not in marked
    view = services.finetune.job_view(silent)
    assert view.status == "failed" and "no sign of life" in view.message and "from step 4" in view.message
    with services.uow_factory() as uow:
        for job_id in (silent, gone, fine):
            uow.finetune_jobs.delete(job_id)
            uow.leases.drop(LEASE_FINETUNE, job_id)


def test_bad_inputs_are_refused_in_plain_words(services, tmp_path):
    svc = services.finetune
    with pytest.raises(InvalidInput, match="learning rate must be between"):
        svc.create_job("x", SMOLLM2_KEY, ALPACA, TrainingConfig(learning_rate=0.5), TRAIN)
    with pytest.raises(InvalidInput, match="rank r must be between 1 and 256"):
        svc.create_job("x", SMOLLM2_KEY, ALPACA, TrainingConfig(r=0), TRAIN)
    with pytest.raises(InvalidInput, match="training set is empty"):
        svc.create_job("x", SMOLLM2_KEY, ALPACA, TrainingConfig(), [])
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text('{"architectures": ["BertForMaskedLM"], "model_type": "bert"}')
    (bert / "model.safetensors").write_bytes(b"\0" * 16)
    with pytest.raises(InvalidInput, match="not a text-generating"):
        svc.create_job("x", str(bert), ALPACA, TrainingConfig(), TRAIN)
    with pytest.raises(InvalidInput, match="hosted endpoint"):
        spec = services.models.add_endpoint("Remote", "http://127.0.0.1:9/v1", "none")
        svc.create_job("x", spec.key, ALPACA, TrainingConfig(), TRAIN)
    assert svc.list_jobs() == [] or all(j.name != "x" for j in svc.list_jobs())


@pytest.mark.slow
def test_trainable_parameters_match_peft_for_the_study_settings(services):
    count = services.finetune.trainable_params(SMOLLM2_KEY, TrainingConfig())
    attention = services.finetune.trainable_params(SMOLLM2_KEY, TrainingConfig(target="attention"))
    # SmolLM2-135M, r=8: all linear layers train 2,442,240 weights; q_proj+v_proj alone far fewer.
    assert count.trainable == 2_442_240 and attention.trainable < count.trainable / 3
    assert 0.01 < count.share < 0.03 and "trainable parameters" in count.text


@pytest.mark.slow
def test_the_answer_only_head_gives_the_full_models_loss(services):
    import torch

    from playground.finetune.batching import collate
    from playground.finetune.modeling import placement
    from playground.finetune.trainer import TrainingSession

    config = TrainingConfig(**FAST)
    folder = services.finetune.resolve_base(SMOLLM2_KEY).folder
    session = TrainingSession(folder, config, ALPACA, TRAIN[:6], [], placement(config))
    assert session._head is not None  # SmolLM2 (Llama) takes the fast path
    batch = collate(session.rows[:4], session.pad_id)
    session.model.eval()
    with torch.no_grad():
        fast, fast_count = session._scored_loss(batch)
        session._head = None
        generic, generic_count = session._scored_loss(batch)
    assert fast_count == generic_count == sum(r.completion_tokens for r in session.rows[:4])
    assert abs(float(fast) - float(generic)) < 1e-4 * fast_count


def test_checkpoint_writes_are_atomic_and_a_full_disk_keeps_the_last_good_one(tmp_path, monkeypatch):
    import torch

    def checkpoint(step: int) -> Checkpoint:
        return Checkpoint(
            step=step,
            micro_batch=2,
            grad_accum=1,
            trainable={"w": torch.full((2,), float(step))},
            optimizer={},
            scheduler={},
            rng={},
        )

    save_checkpoint(tmp_path, checkpoint(4))

    def disk_full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(DiskFullError) as caught:
        save_checkpoint(tmp_path, checkpoint(8))
    assert caught.value.step == 8
    kept = load_checkpoint(tmp_path)
    assert kept.step == 4 and float(kept.trainable["w"][0]) == 4.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]  # no half-written folder left


def test_disk_full_message_names_both_steps():
    from playground.finetune.worker import _disk_full

    assert str(_disk_full(8, 4)) == (
        "The disk is full: the checkpoint at step 8 could not be saved. Free space and press Resume; "
        "training continues from step 4."
    )


DEMO_DATASET = Path(__file__).resolve().parents[2] / "assets" / "demo" / "finetune_support_replies.csv"


def test_start_after_an_unnamed_preflight_reuses_its_job_and_new_settings_replace_it(services):
    """With the name left empty, the suggested name must not count the draft's own name as taken:
    Start would otherwise see other settings and make a second job "… 2"."""
    from playground.finetune.job_drafts import JobDrafts, JobForm

    dataset = services.finetune_datasets.import_dataset(DEMO_DATASET, "Drafts demo", tokenizer=lambda t: len(t.split()))
    drafts = JobDrafts(services.finetune, services.finetune_datasets)
    form = JobForm(dataset.id, SMOLLM2_KEY, ALPACA, "", "Quick test", TrainingConfig())
    ours = lambda: [job.name for job in services.finetune.list_jobs() if job.name.startswith("Drafts demo")]  # noqa: E731

    prepared = drafts.create_or_reuse(None, form)
    assert drafts.create_or_reuse(prepared, form) == prepared
    assert ours() == ["Drafts demo – Quick test"]

    changed = drafts.create_or_reuse(
        prepared, JobForm(dataset.id, SMOLLM2_KEY, ALPACA, "", "Quick test", TrainingConfig(r=16))
    )
    assert changed.signature != prepared.signature
    assert ours() == ["Drafts demo – Quick test"]  # the old draft was replaced, not kept beside a "… 2"
    services.finetune.delete(changed.job_id)
