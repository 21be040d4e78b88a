"""A job drafted from the Fine-tune form, before it trains.

Pre-flight measures a few real steps on a job in state ``created``; Start then trains *that*
job while the settings stay the same, so the measurements shown belong to the run that
follows. A draft whose settings changed since is deleted (it never trained) and made anew.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from playground.errors import InvalidInput
from playground.finetune.config import TrainingConfig, total_steps
from playground.finetune.dataset_service import DatasetService
from playground.finetune.job_view import JobView
from playground.finetune.jobs import FinetuneService, TrainableCount
from playground.i18n import t
from playground.statuses import FinetuneStatus

PREFLIGHT_POLL_S = 1.0


@dataclass(frozen=True)
class JobForm:
    """What the user chose: the dataset and base of step 1, the name, preset and settings of step 2."""

    dataset_id: Any
    base_key: str
    prompt_format: str
    name: str
    preset_name: str
    config: TrainingConfig


@dataclass(frozen=True)
class Prepared:
    """The job a pre-flight created, so Start reuses it while the settings stay the same."""

    job_id: int
    signature: str


@dataclass(frozen=True)
class TrainingPlan:
    """What training would do: PEFT's parameter count and, with a dataset, the rows and steps."""

    count: TrainableCount
    config: TrainingConfig
    train_rows: int | None = None
    holdout_rows: int | None = None

    @property
    def steps(self) -> int | None:
        return None if self.train_rows is None else total_steps(self.train_rows, self.config)


@dataclass(frozen=True)
class PreflightWait:
    """One look at a pre-flight: its job as it stands and how long it has been running."""

    prepared: Prepared
    view: JobView
    elapsed_s: float

    @property
    def finished(self) -> bool:
        return not self.view.is_active


def require_choices(dataset_id: Any, base_key: str | None) -> None:
    """The two choices of step 1 that a job cannot do without, refused in plain words."""
    if dataset_id in (None, ""):
        raise InvalidInput(t("finetune.pick_dataset_step1"))
    if not base_key:
        raise InvalidInput(t("finetune.pick_base_step1"))


class JobDrafts:
    def __init__(self, jobs: FinetuneService, datasets: DatasetService, poll_s: float = PREFLIGHT_POLL_S):
        self.jobs = jobs
        self.datasets = datasets
        self.poll_s = poll_s

    def suggested_name(self, dataset_id: Any, preset_name: str, draft_id: int | None = None) -> str:
        """ "<dataset> – <preset>", numbered when a job already has that name; empty without a dataset.

        ``draft_id``: the pre-flight job these settings may reuse; its own name does not count as
        taken, or Start after a pre-flight would find "its" name changed and make a second job."""
        if dataset_id in (None, ""):
            return ""
        stem = f"{self.datasets.get(int(dataset_id)).name} – {preset_name.split(' (')[0]}"
        taken = {job.name for job in self.jobs.list_jobs() if job.id != draft_id}
        candidate, n = stem, 2
        while candidate in taken:
            candidate, n = f"{stem} {n}", n + 1
        return candidate

    def plan(self, base_key: str, config: TrainingConfig, dataset_id: Any = None) -> TrainingPlan:
        count = self.jobs.trainable_params(base_key, config)
        if dataset_id in (None, ""):
            return TrainingPlan(count, config)
        train, holdout = self.datasets.split(int(dataset_id))
        return TrainingPlan(count, config, len(train), len(holdout))

    def create_or_reuse(self, prepared: Prepared | None, form: JobForm) -> Prepared:
        """A job in state 'created' with exactly these settings (made now if needed)."""
        require_choices(form.dataset_id, form.base_key)
        draft_id = prepared.job_id if prepared is not None else None
        name = (form.name or "").strip() or self.suggested_name(form.dataset_id, form.preset_name, draft_id)
        signature = repr(
            (form.dataset_id, form.base_key, form.prompt_format, name, form.preset_name, form.config.to_dict())
        )
        if prepared is not None and self._still_a_draft(prepared.job_id):
            if prepared.signature == signature:
                return prepared
            self.jobs.delete(prepared.job_id)  # measured with other settings and never trained
        train, holdout = self.datasets.split(int(form.dataset_id))
        info = self.datasets.get(int(form.dataset_id))
        job_id = self.jobs.create_job(
            name,
            form.base_key,
            form.prompt_format,
            form.config,
            train,
            holdout,
            dataset_id=info.id,
            dataset_name=info.name,
        )
        return Prepared(job_id, signature)

    def _still_a_draft(self, job_id: int) -> bool:
        try:
            return self.jobs.job_view(job_id).status == FinetuneStatus.CREATED
        except InvalidInput:  # deleted meanwhile
            return False

    def preflight(self, prepared: Prepared | None, form: JobForm) -> Iterator[PreflightWait]:
        """Run a pre-flight on the draft and follow it until it ends (the last look is finished)."""
        prepared = self.create_or_reuse(prepared, form)
        self.jobs.preflight(prepared.job_id, wait=False)
        started = time.monotonic()
        view = self.jobs.job_view(prepared.job_id)
        while view.is_active:
            yield PreflightWait(prepared, view, time.monotonic() - started)
            time.sleep(self.poll_s)
            self.jobs.reconcile()  # a worker that died is marked, so the wait ends
            view = self.jobs.job_view(prepared.job_id)
        yield PreflightWait(prepared, view, time.monotonic() - started)

    def start(self, prepared: Prepared | None, form: JobForm) -> JobView:
        """Train the draft (made now if the settings changed since the pre-flight)."""
        return self.jobs.start(self.create_or_reuse(prepared, form).job_id)
