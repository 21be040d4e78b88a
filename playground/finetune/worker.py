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
from pathlib import Path

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
from playground.formatting import format_bytes, format_duration
from playground.leases import Lease, Leases
from playground.settings import Settings
from playground.statuses import FinetuneStatus
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
            f"{session.dropped} training example(s) were skipped: their prompt alone fills the maximum length "
            f"of {config.max_length} tokens.",
            "warning",
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
                f"Ran out of memory at step {step}. Continuing with {halved[0]} example(s) per pass and "
                f"{halved[1]} accumulation steps: the same {session.effective_batch} examples per step, just slower.",
                "warning",
            )
            reporter.set(micro_batch=halved[0], grad_accum=halved[1])


def _oom_advice(step: int, resume_from: int) -> str:
    return (
        f"Out of memory at step {step} even with one example per pass. Lower the maximum length, turn on the 4-bit base, "
        f"or pick a smaller base model. Resume continues from step {resume_from}."
    )


def _disk_full(step: int, resume_from: int) -> str:
    return (
        f"The disk is full: the checkpoint at step {step} could not be saved. Free space and press Resume; "
        f"training continues from step {resume_from}."
    )


def run_training(settings: Settings, reporter: JobReporter) -> None:
    job = reporter.job()
    folder = Path(job.job_dir)
    if not job.started_at:
        reporter.set(started_at=utc_now())
    with StopWhilePreparing(reporter, job.checkpoint_step):  # Stop works while converting and loading
        session = _open_session(settings, reporter, job)
    config = session.config
    batch = [job.micro_batch, job.grad_accum]
    start = 0
    checkpoint = load_checkpoint(folder)
    if checkpoint is not None:
        session.restore(checkpoint)
        start = checkpoint.step
        batch = [checkpoint.micro_batch, checkpoint.grad_accum]
        reporter.event(f"Resumed from the checkpoint at step {start}.")
    reporter.rewind_to(start)
    total = session.total_steps
    reporter.mark_running()
    reporter.set(
        step=start,
        checkpoint_step=start,
        micro_batch=batch[0],
        grad_accum=batch[1],
        tokens_seen=session.tokens_seen,
        message=f"Training: step {start} of {total}.",
    )
    every_eval, every_checkpoint = eval_interval(config, total), checkpoint_interval(config, total)
    reset_peak_memory()
    last_good, train_s, eval_s, steps_here, tokens_here = start, 0.0, 0.0, 0, 0
    step = start + 1

    def save(at: int) -> None:
        nonlocal last_good
        save_checkpoint(folder, session.checkpoint(at, batch[0], batch[1]))
        last_good = at
        reporter.set(checkpoint_step=at)

    while step <= total:
        try:
            result = _step_with_recovery(session, reporter, step, batch)
        except OutOfMemoryAtBatchOne:
            reporter.finish(FinetuneStatus.FAILED, _oom_advice(step, last_good), "error")
            return
        steps_here += 1
        train_s += result.seconds
        tokens_here += result.tokens
        stop = reporter.step_done(
            step,
            result.loss,
            epoch=session.epoch_of(step),
            tokens_seen=session.tokens_seen,
            tokens_per_s=tokens_here / train_s if train_s else None,
            eta_s=(total - step) * (train_s + eval_s) / steps_here,
            peak_memory_bytes=peak_memory_bytes(session.where.device),
            message=f"Training: step {step} of {total}.",
        )
        try:
            if stop:
                save(step)
                reporter.finish(
                    FinetuneStatus.STOPPED,
                    f"Stopped at step {step} of {total}. Resume continues from step {step}.",
                    stop_requested=False,
                )
                return
            if step % every_eval == 0 or step == total:
                started = time.perf_counter()
                reporter.evaluation(step, session.holdout_loss(batch[0]), session.samples())
                eval_s += time.perf_counter() - started
            if step % every_checkpoint == 0 and step < total:
                save(step)
        except DiskFullError as err:
            reporter.finish(FinetuneStatus.FAILED, _disk_full(err.step, last_good), "error")
            return
        step += 1
    adapter = folder / ADAPTER_DIR
    staging = folder / f"{ADAPTER_DIR}.writing"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        session.save_adapter(staging)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        if err.errno == errno.ENOSPC:
            reporter.finish(
                FinetuneStatus.FAILED,
                f"The disk is full: the finished adapter could not be saved. Free space and press Resume; training continues from step {last_good}.",
                "error",
            )
            return
        raise
    shutil.rmtree(adapter, ignore_errors=True)
    staging.rename(adapter)
    reporter.finish(
        FinetuneStatus.DONE,
        f"Finished {total} steps in {format_duration(train_s + eval_s)} ({tokens_here / train_s if train_s else 0:.0f} tokens/s). "
        "The tuned model is now in every model list.",
        adapter_path=str(adapter),
        eta_s=0.0,
        stop_requested=False,
    )


def run_preflight(settings: Settings, reporter: JobReporter) -> None:
    """A few real steps, measured: tokens/s, peak memory and the whole run's duration."""
    job = reporter.job()
    session = _open_session(settings, reporter, job)
    reporter.set(message="Pre-flight: timing a few real training steps…")
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
        "device": session.where.note,
    }
    message = (
        f"Pre-flight: {tokens_per_s or 0:.0f} tokens/s, peak memory {format_bytes(peak)}; "
        f"the full run of {total} steps should take about {format_duration(eta)}."
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


def _failure_text(err: BaseException, resume_from: int) -> str:
    if isinstance(err, MemoryError) or is_out_of_memory(err):
        return _oom_advice(resume_from, resume_from)
    if isinstance(err, UserFacingError):
        return f"{err} Resume continues from step {resume_from}."
    detail = str(err) or type(err).__name__
    return f"Training failed ({type(err).__name__}: {detail}). Resume continues from step {resume_from}."


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
                text = f"Pre-flight failed ({type(err).__name__}: {err})."
                reporter.event(text, "error")
                reporter.set_final(status=FinetuneStatus.CREATED, message=text, pid=None, preflight={"error": text})
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
