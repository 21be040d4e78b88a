"""Fine-tuning jobs shared by several app processes: liveness is the job's lease, not a local
pid. A job another machine's worker trains is never marked failed here, a reconcile during
the launch never fails the starting job, Resume never starts a second worker on a live job,
and a worker without the job's launch token refuses to run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from playground.errors import InvalidInput
from playground.finetune import launching as jobs_module
from playground.finetune.jobs import FinetuneService
from playground.finetune.progress import LAUNCH_TOKEN_ENV, JobReporter, LaunchSuperseded
from playground.leases import instance_id
from playground.models.prompt_formats import ALPACA
from playground.services import Services
from playground.settings import Settings
from storage.orm_leases import LEASE_FINETUNE

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 5.0


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    home = tmp_path_factory.mktemp("ft-leases")
    svc = Services.create(
        Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}", n_threads=1, lease_seconds=LEASE_S)
    )
    yield svc
    svc.finetune.terminate_workers()
    svc.close()


def other_app(services) -> FinetuneService:
    """A second app process on the same database (its own service, no children of its own)."""
    return FinetuneService(services.settings, services.registry, services.uow_factory)


def add_job(services, name: str, status: str, token: str | None = None, job_dir: str = "") -> int:
    with services.uow_factory() as uow:
        return uow.finetune_jobs.add(
            name=name,
            base_model="k",
            base_name="b",
            base_path="p",
            base_folder="f",
            prompt_format=ALPACA,
            config={},
            status=status,
            checkpoint_step=4,
            launch_token=token,
            job_dir=job_dir,
            heartbeat_at=datetime.now(UTC),
        ).id


def lease(services, job_id: int, token: str, owner: str, expires_in_s: float) -> None:
    now = datetime.now(UTC)
    with services.uow_factory() as uow:
        assert uow.leases.take(LEASE_FINETUNE, job_id, owner, token, now, now + timedelta(seconds=expires_in_s))


def status(services, job_id: int) -> str:
    return services.finetune.job_view(job_id).status


def test_reconcile_fails_only_jobs_whose_lease_expired_or_whose_local_process_is_gone(services):
    here = socket.gethostname()
    namespace = instance_id().split(":")[1]
    elsewhere = add_job(services, "trained elsewhere", "running", "t1")
    lease(services, elsewhere, "t1", f"gpu-box-2:{namespace}:{2**22 + 7}:aa", LEASE_S)  # no such pid here: irrelevant
    ours = add_job(services, "trained here", "running", "t2")
    lease(services, ours, "t2", instance_id(), LEASE_S)
    silent = add_job(services, "silent", "running", "t3")
    lease(services, silent, "t3", f"gpu-box-2:{namespace}:1:aa", -1)  # expired a second ago
    gone = add_job(services, "gone", "stopping", "t4")
    lease(services, gone, "t4", f"{here}:{namespace}:{2**22 + 7}:bb", LEASE_S)  # this machine, pid gone
    nobody = add_job(services, "no lease", "running")  # e.g. left by a version without leases

    marked = other_app(services).reconcile()
    assert set(marked) == {silent, gone, nobody}
    assert status(services, elsewhere) == status(services, ours) == "running"
    view = services.finetune.job_view(silent)
    assert view.status == "failed" and "no sign of life for over 5 seconds" in view.message
    assert "from step 4" in view.message
    assert "is gone" in services.finetune.job_view(gone).message
    with services.uow_factory() as uow:
        assert uow.leases.get(LEASE_FINETUNE, silent) is None  # a late worker finds its lease gone
        assert uow.leases.get(LEASE_FINETUNE, elsewhere) is not None


def test_resume_does_not_start_a_second_worker_on_a_job_still_held(services):
    job_id = add_job(services, "winding down", "failed", "old")
    lease(services, job_id, "old", f"gpu-box-2:x:{os.getpid()}:cc", LEASE_S)  # its worker is still alive there
    with pytest.raises(InvalidInput, match="still working on this job"):
        services.finetune.resume(job_id)
    with services.uow_factory() as uow:
        job = uow.finetune_jobs.get(job_id)
        assert (job.status, job.launch_token) == ("failed", "old")  # nothing changed


def test_a_reconcile_between_starting_and_the_pid_being_recorded_keeps_the_job(services, tmp_path, monkeypatch):
    """The launching app has moved the job to "starting" but not yet recorded its worker's pid
    when another process reconciles: the launch's lease says the job is alive."""
    job_id = add_job(services, "starting now", "created", job_dir=str(tmp_path))
    seen_by_the_other: list[list[int]] = []
    real_popen = subprocess.Popen

    def popen_after_a_reconcile(command, **kwargs):
        seen_by_the_other.append(other_app(services).reconcile())
        # A stand-in for the worker that adopts nothing: the launch lease alone must carry it.
        return real_popen([sys.executable, "-c", "import time; time.sleep(60)"], **kwargs)

    monkeypatch.setattr(jobs_module.subprocess, "Popen", popen_after_a_reconcile)
    services.finetune.start(job_id)
    try:
        assert len(seen_by_the_other) == 1 and job_id not in seen_by_the_other[0]
        assert status(services, job_id) == "starting"
        time.sleep(LEASE_S + 1)  # the launching app keeps renewing the lease while its child runs
        assert job_id not in other_app(services).reconcile()
        assert status(services, job_id) == "starting"
    finally:
        services.finetune.terminate_workers()
    services.finetune.reconcile()  # its own child exited: the launching app knows at once
    assert status(services, job_id) == "failed"


def run_worker(services, job_id: int, token: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PLAYGROUND_HOME": str(services.settings.home), "DATABASE_URL": services.settings.database_url}
    env["PYTHONPATH"] = str(ROOT)
    env.pop(LAUNCH_TOKEN_ENV, None)
    if token is not None:
        env[LAUNCH_TOKEN_ENV] = token
    command = [sys.executable, "-m", "playground.finetune.worker", str(job_id)]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_worker_with_another_launch_token_refuses_to_run_and_changes_nothing(services, tmp_path):
    job_id = add_job(services, "launched for another worker", "starting", "the-real-token", str(tmp_path))
    lease(services, job_id, "the-real-token", instance_id(), LEASE_S)
    before = services.finetune.job_view(job_id)
    for token in ("a-stale-token", None):
        done = run_worker(services, job_id, token)
        assert done.returncode == 3, done.stderr
        assert "Refusing to run job" in done.stderr
    after = services.finetune.job_view(job_id)
    assert (after.status, after.message, len(after.events)) == (before.status, before.message, len(before.events))
    with services.uow_factory() as uow:
        assert uow.finetune_jobs.get(job_id).pid is None
        assert uow.leases.get(LEASE_FINETUNE, job_id).owner == instance_id()  # not adopted


def test_a_worker_of_an_older_launch_cannot_write_once_the_job_was_launched_again(services):
    job_id = add_job(services, "relaunched", "running", "first")
    stale = JobReporter(services.uow_factory, job_id, "first")
    stale.set(step=3)
    with services.uow_factory() as uow:
        uow.finetune_jobs.update(job_id, launch_token="second")
    with pytest.raises(LaunchSuperseded):
        stale.step_done(4, 1.0)
    with pytest.raises(LaunchSuperseded):
        stale.finish("done", "Finished.")
    view = services.finetune.job_view(job_id)
    assert (view.status, view.step, view.train_steps) == ("running", 3, [])
