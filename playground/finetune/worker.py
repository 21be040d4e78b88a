"""The fine-tuning worker: ``python -m playground.finetune.worker JOB_ID [--preflight]``.

Runs outside the app (started by FinetuneService with its own session and a log file) and
talks to it only through the database: progress, curves, samples, events and a heartbeat go
in; the stop flag comes out. It opens the same database as the app via ``Settings.from_env``
(``PLAYGROUND_HOME`` / ``DATABASE_URL``).

The app passes the job's launch token (``PLAYGROUND_LAUNCH_TOKEN`` or ``--launch-token``). The
worker runs only if the job's stored token is that one, then adopts the job's lease and
renews it; a worker of an older launch, or one started by hand with another token, exits
with code 3 and changes nothing, so two workers never train one job.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.errors import UserFacingError
from playground.finetune.checkpoint import DiskFullError, load_checkpoint, save_checkpoint
from playground.finetune.config import TrainingConfig, checkpoint_interval, eval_interval, halve_batch
from playground.finetune.jobfiles import ADAPTER_DIR, HOLDOUT_FILE, TRAIN_FILE, read_examples
from playground.finetune.modeling import (
    free_accelerator_memory,
    is_out_of_memory,
    peak_memory_bytes,
    placement,
    reset_peak_memory,
    set_threads,
)
from playground.finetune.preparation import LOADING, StopWhilePreparing, prepare_base
from playground.finetune.progress import LAUNCH_TOKEN_ENV, JobReporter, LaunchSuperseded
from playground.formatting import bytes_text, format_duration
from playground.i18n import Text, t
from playground.leases import Lease, Leases
from playground.settings import Settings
from playground.statuses import FinetuneStatus
from playground.stored_text import dump
from storage.orm import utc_now
from storage.orm_leases import LEASE_FINETUNE

log = logging.getLogger("playground.finetune.worker")
PREFLIGHT_STEPS = 3
REFUSED = 3  # exit code of a worker that is not this job's (wrong or missing launch token)


class OutOfMemoryAtBatchOne(Exception):
    pass


def _open_session(settings: Settings, reporter: JobReporter, job):
    from playground.finetune.trainer import TrainingSession

    config = TrainingConfig.from_dict(job.config)
    where = placement(config)
    set_threads(settings.n_threads)
    base_folder = prepare_base(reporter, job, settings.cache_dir)  # converts a GGUF base on first use
    reporter.set(device=where.note, message=LOADING)
    folder = Path(job.job_dir)
    train = read_examples(folder / TRAIN_FILE)
    holdout = read_examples(folder / HOLDOUT_FILE)
    session = TrainingSession(base_folder, config, job.prompt_format, train, holdout, where)
    if session.dropped:
        reporter.event(
            t("finetune.ev_examples_skipped", count=session.dropped, max_length=config.max_length), "warning"
        )
    trainable, total = session.trainable_parameters
    reporter.set(total_steps=session.total_steps, trainable_params=trainable, total_params=total)
    return session


def _step_with_recovery(session, reporter: JobReporter, step: int, batch: list[int]):
    """Run one step; on out-of-memory halve the micro-batch (same effective batch) and retry.
    ``batch`` is [micro_batch, grad_accum], updated in place."""
    while True:
        try:
            return session.train_step(step, batch[0])
        except Exception as err:
            if not is_out_of_memory(err):
                raise
            log.warning("out of memory at step %s with micro-batch %s: %s", step, batch[0], err)
            free_accelerator_memory()
            halved = halve_batch(batch[0], session.effective_batch)
            if halved is None:
                raise OutOfMemoryAtBatchOne(step) from err
            batch[:] = halved
            reporter.event(
                t(
                    "finetune.ev_out_of_memory_halved",
                    step=step,
                    micro_batch=halved[0],
                    grad_accum=halved[1],
                    effective=session.effective_batch,
                ),
                "warning",
            )
            reporter.set(micro_batch=halved[0], grad_accum=halved[1])


def _oom_advice(step: int, resume_from: int) -> Text:
    return t("finetune.msg_out_of_memory", step=step, resume=resume_from)


def _disk_full(step: int, resume_from: int) -> Text:
    return t("finetune.msg_disk_full", step=step, resume=resume_from)


@dataclass
class _Run:
    """One training run in progress: its session, batch and last checkpoint, and what it measured."""

    reporter: JobReporter
    session: Any
    folder: Path
    batch: list[int]  # [micro_batch, grad_accum]
    start: int
    last_good: int = 0  # the step of the last checkpoint saved (where Resume goes on from)
    train_s: float = 0.0
    eval_s: float = 0.0
    steps_here: int = 0
    tokens_here: int = 0

    @property
    def total(self) -> int:
        return self.session.total_steps

    @property
    def tokens_per_s(self) -> float | None:
        return self.tokens_here / self.train_s if self.train_s else None

    def save(self, at: int) -> None:
        save_checkpoint(self.folder, self.session.checkpoint(at, self.batch[0], self.batch[1]))
        self.last_good = at
        self.reporter.set(checkpoint_step=at)


def _begin(settings: Settings, reporter: JobReporter) -> _Run:
    """The session loaded (Stop works while converting and loading) and put back at its checkpoint."""
    job = reporter.job()
    if not job.started_at:
        reporter.set(started_at=utc_now())
    with StopWhilePreparing(reporter, job.checkpoint_step):
        session = _open_session(settings, reporter, job)
    run = _Run(reporter, session, Path(job.job_dir), [job.micro_batch, job.grad_accum], 0)
    checkpoint = load_checkpoint(run.folder)
    if checkpoint is not None:
        session.restore(checkpoint)
        run.start = run.last_good = checkpoint.step
        run.batch = [checkpoint.micro_batch, checkpoint.grad_accum]
        reporter.event(t("finetune.ev_resumed", step=run.start))
    reporter.rewind_to(run.start)
    reporter.mark_running()
    reporter.set(
        step=run.start,
        checkpoint_step=run.start,
        micro_batch=run.batch[0],
        grad_accum=run.batch[1],
        tokens_seen=session.tokens_seen,
        message=t("finetune.msg_training_step", step=run.start, total=run.total),
    )
    reset_peak_memory()
    return run


def _train_one(run: _Run, step: int) -> bool:
    """One step, its progress row, and the evaluation or checkpoint due after it. False once the
    job has ended (stopped, or failed with its message written)."""
    session, reporter = run.session, run.reporter
    try:
        result = _step_with_recovery(session, reporter, step, run.batch)
    except OutOfMemoryAtBatchOne:
        reporter.finish(FinetuneStatus.FAILED, _oom_advice(step, run.last_good), "error")
        return False
    run.steps_here += 1
    run.train_s += result.seconds
    run.tokens_here += result.tokens
    stop = reporter.step_done(
        step,
        result.loss,
        epoch=session.epoch_of(step),
        tokens_seen=session.tokens_seen,
        tokens_per_s=run.tokens_per_s,
        eta_s=(run.total - step) * (run.train_s + run.eval_s) / run.steps_here,
        peak_memory_bytes=peak_memory_bytes(session.where.device),
        message=t("finetune.msg_training_step", step=step, total=run.total),
    )
    try:
        if stop:
            run.save(step)
            stopped = t("finetune.msg_stopped_at", step=step, total=run.total)
            reporter.finish(FinetuneStatus.STOPPED, stopped, stop_requested=False)
            return False
        _evaluate_and_keep(run, step)
    except DiskFullError as err:
        reporter.finish(FinetuneStatus.FAILED, _disk_full(err.step, run.last_good), "error")
        return False
    return True


def _evaluate_and_keep(run: _Run, step: int) -> None:
    """The holdout loss and sample answers, and a checkpoint, when they are due after ``step``."""
    config, total = run.session.config, run.total
    if step % eval_interval(config, total) == 0 or step == total:
        started = time.perf_counter()
        run.reporter.evaluation(step, run.session.holdout_loss(run.batch[0]), run.session.samples())
        run.eval_s += time.perf_counter() - started
    if step % checkpoint_interval(config, total) == 0 and step < total:
        run.save(step)


def _save_adapter(run: _Run) -> Path | None:
    """The finished adapter, written whole or not at all; None when the disk was full (job failed)."""
    adapter = run.folder / ADAPTER_DIR
    staging = run.folder / f"{ADAPTER_DIR}.writing"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        run.session.save_adapter(staging)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        if err.errno == errno.ENOSPC:
            full = t("finetune.msg_adapter_disk_full", resume=run.last_good)
            run.reporter.finish(FinetuneStatus.FAILED, full, "error")
            return None
        raise
    shutil.rmtree(adapter, ignore_errors=True)
    staging.rename(adapter)
    return adapter


def run_training(settings: Settings, reporter: JobReporter) -> None:
    run = _begin(settings, reporter)
    for step in range(run.start + 1, run.total + 1):
        if not _train_one(run, step):
            return
    adapter = _save_adapter(run)
    if adapter is None:
        return
    finished = t(
        "finetune.msg_finished",
        total=run.total,
        duration=format_duration(run.train_s + run.eval_s),
        speed=run.tokens_per_s or 0.0,
    )
    reporter.finish(FinetuneStatus.DONE, finished, adapter_path=str(adapter), eta_s=0.0, stop_requested=False)


def run_preflight(settings: Settings, reporter: JobReporter) -> None:
    """A few real steps, measured: tokens/s, peak memory and the whole run's duration."""
    job = reporter.job()
    session = _open_session(settings, reporter, job)
    reporter.set(message=t("finetune.msg_preflight_timing"))
    reset_peak_memory()
    batch = [job.micro_batch, job.grad_accum]
    steps = min(PREFLIGHT_STEPS, session.total_steps)
    measured_s, measured_tokens = 0.0, 0
    for step in range(1, steps + 1):
        result = _step_with_recovery(session, reporter, step, batch)
        if step > 1 or steps == 1:  # the first step pays for one-time set-up
            measured_s += result.seconds
            measured_tokens += result.tokens
    per_step = measured_s / max(1, steps - 1 if steps > 1 else 1)
    started = time.perf_counter()
    session.holdout_loss(batch[0])
    session.samples()
    per_eval = time.perf_counter() - started
    total = session.total_steps
    evals = len({s for s in range(1, total + 1) if s % eval_interval(session.config, total) == 0} | {total})
    eta = total * per_step + evals * per_eval
    peak = peak_memory_bytes(session.where.device)
    tokens_per_s = measured_tokens / measured_s if measured_s else None
    trainable, total_params = session.trainable_parameters
    result = {
        "tokens_per_s": tokens_per_s,
        "seconds_per_step": per_step,
        "seconds_per_evaluation": per_eval,
        "peak_memory_bytes": peak,
        "eta_s": eta,
        "steps_measured": steps,
        "total_steps": total,
        "micro_batch": batch[0],
        "grad_accum": batch[1],
        "trainable_params": trainable,
        "total_params": total_params,
        "device": dump(session.where.note),
    }
    message = t(
        "finetune.msg_preflight_result",
        speed=tokens_per_s or 0.0,
        memory=bytes_text(peak),
        total=total,
        duration=format_duration(eta),
    )
    reporter.set_final(
        status=FinetuneStatus.CREATED,
        preflight=result,
        message=message,
        pid=None,
        micro_batch=batch[0],
        grad_accum=batch[1],
        eta_s=eta,
    )
    reporter.event(message)


def _failure_text(err: BaseException, resume_from: int) -> Text:
    if isinstance(err, MemoryError) or is_out_of_memory(err):
        return _oom_advice(resume_from, resume_from)
    if isinstance(err, UserFacingError):
        said = err.message if isinstance(err.message, Text) else str(err)
        return t("finetune.msg_failed_refused", error=said, resume=resume_from)
    detail = str(err) or type(err).__name__
    return t("finetune.msg_failed", kind=type(err).__name__, detail=detail, resume=resume_from)


def _claim(uow_factory, leases: Leases, job_id: int, token: str) -> Lease | None:
    """The job's lease, adopted, if this worker is the one its launch was for; else None (logged)."""
    with uow_factory() as uow:
        job = uow.finetune_jobs.get(job_id)
        stored = job.launch_token if job is not None else None
    if job is None:
        log.error("There is no fine-tuning job %s; nothing to run.", job_id)
        return None
    if not token or stored != token:
        log.error(
            "Refusing to run job %s: it was not launched for this worker (the launch token differs). "
            "Another worker owns it, or it was launched again.",
            job_id,
        )
        return None
    lease = leases.adopt(LEASE_FINETUNE, job_id, token)
    if lease is None:
        log.error("Refusing to run job %s: its lease is gone (the job was given up as dead).", job_id)
    return lease


def _run(args: argparse.Namespace, settings: Settings, reporter: JobReporter) -> int:
    try:
        if args.preflight:
            run_preflight(settings, reporter)
        else:
            run_training(settings, reporter)
        return 0
    except LaunchSuperseded as err:
        log.warning("Stopping without another write: %s", err)
        return REFUSED
    except Exception as err:
        log.exception("job %s failed", args.job_id)
        try:
            if args.preflight:
                failed = t("finetune.msg_preflight_failed", kind=type(err).__name__, detail=str(err))
                reporter.event(failed, "error")
                reporter.set_final(
                    status=FinetuneStatus.CREATED, message=failed, pid=None, preflight={"error": str(failed)}
                )
            else:
                reporter.finish(FinetuneStatus.FAILED, _failure_text(err, reporter.job().checkpoint_step), "error")
        except LaunchSuperseded as superseded:
            log.warning("Stopping without another write: %s", superseded)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one Playground fine-tuning job.")
    parser.add_argument("job_id", type=int)
    parser.add_argument("--preflight", action="store_true", help="measure a few steps instead of training")
    parser.add_argument("--launch-token", default=None, help=f"the job's launch token (default: ${LAUNCH_TOKEN_ENV})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from storage import create_engine_for, make_session_factory, unit_of_work_factory

    settings = Settings.from_env()
    engine = create_engine_for(settings.database_url)
    uow_factory = unit_of_work_factory(make_session_factory(engine))
    leases = Leases(uow_factory, settings.lease_seconds)
    token = args.launch_token or os.environ.get(LAUNCH_TOKEN_ENV, "")
    try:
        lease = _claim(uow_factory, leases, args.job_id, token)
        if lease is None:
            return REFUSED
        reporter = JobReporter(uow_factory, args.job_id, token)
        lease.on_lost = reporter.lost.set
        reporter.on_final = lambda uow: leases.release_in(uow, lease)  # with the final status
        leases.keep(lease)
        reporter.start_heartbeat()
        try:
            return _run(args, settings, reporter)
        finally:
            reporter.stop_heartbeat()
            leases.release(lease)  # a pre-flight's end, or a failure past the final status
    finally:
        leases.close()
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
