"""One Services object per app: the UI talks only to these."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from playground.arena.live_limits import LiveAskLimiter
from playground.arena.service import ArenaService
from playground.cancellation import CancelTokens
from playground.compare.batch import BatchService
from playground.compare.service import CompareService
from playground.compare.templates import TemplateService
from playground.errors import StorageError
from playground.estimate_tokens import PromptTokenCounter
from playground.estimates_service import EstimateService
from playground.finetune.dataset_service import DatasetService
from playground.finetune.gguf_export import GgufExportService
from playground.finetune.gguf_manifest import gguf_root
from playground.finetune.jobs import FinetuneService
from playground.finetune.side_by_side import SideBySideService
from playground.finetune.tuned_models import TunedModelProvider
from playground.history import HistoryService
from playground.judge.service import JudgeService
from playground.models.base import BackendFactory
from playground.models.registry import ModelRegistry
from playground.models.types import BackendKind
from playground.models_service import ModelsService, build_models_service
from playground.rag.service import DocumentsService
from playground.settings import Settings
from storage import (
    DatabaseCorruptError,
    DatabaseUnavailableError,
    UnitOfWork,
    check_database,
    create_engine_for,
    make_session_factory,
    migrate,
    unit_of_work_factory,
)

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: Any
    uow_factory: Callable[[], UnitOfWork]
    models: ModelsService
    cancel_tokens: CancelTokens
    documents: DocumentsService
    templates: TemplateService
    compare: CompareService
    arena: ArenaService
    history: HistoryService
    batch: BatchService
    judge: JudgeService
    finetune_datasets: DatasetService
    finetune: FinetuneService
    side_by_side: SideBySideService
    gguf_exports: GgufExportService
    estimates: EstimateService

    @property
    def registry(self) -> ModelRegistry:
        return self.models.registry

    @classmethod
    def create(cls, settings: Settings, backends: Mapping[BackendKind, BackendFactory] | None = None) -> Services:
        """Open (and migrate) the database and wire every service. Loads no model.

        ``backends`` replaces the real backend of those kinds, e.g. with
        ``playground.models.fake.fake_backends()`` for the fast tests."""
        settings.ensure_dirs()
        try:
            check_database(settings.database_url)
        except (DatabaseCorruptError, DatabaseUnavailableError) as err:
            raise StorageError(str(err)) from err
        engine = create_engine_for(settings.database_url)
        try:
            migrate(engine)
        except Exception as err:
            engine.dispose()
            raise StorageError(f"Could not prepare the database ({type(err).__name__}: {err}).") from err
        uow_factory = unit_of_work_factory(make_session_factory(engine))
        models = build_models_service(settings, uow_factory, backends)
        models.registry.add_provider(TunedModelProvider(uow_factory, gguf_root(settings.home)))
        templates = TemplateService(uow_factory)
        compare = CompareService(models.registry, models.recorder, uow_factory, templates)
        history = HistoryService(uow_factory, models.registry, compare, templates, settings.home / "exports")
        live_limiter = LiveAskLimiter(settings.live_asks_in_flight, settings.live_asks_per_minute)
        arena = ArenaService(
            models.registry, models.recorder, uow_factory, settings.home / "exports" / "arena", live_limiter
        )
        finetune = FinetuneService(settings, models.registry, uow_factory)
        finetune.reconcile()  # a job whose worker died while the app was down must not show "running"
        batch = BatchService(compare, settings)
        judge = JudgeService(models.registry, models.recorder, uow_factory, arena)
        # A model's own tokenizer counts only where its real backend runs (a fake one counts words).
        counter = PromptTokenCounter({BackendKind.LLAMA_CPP} - set(backends or {}))
        return cls(
            settings=settings,
            engine=engine,
            uow_factory=uow_factory,
            models=models,
            cancel_tokens=CancelTokens(),
            documents=DocumentsService(settings, models.registry, models.recorder, uow_factory),
            templates=templates,
            compare=compare,
            arena=arena,
            history=history,
            batch=batch,
            judge=judge,
            finetune_datasets=DatasetService(uow_factory, settings, models.registry),
            finetune=finetune,
            side_by_side=SideBySideService(models.registry, uow_factory),
            gguf_exports=GgufExportService(
                settings, models.registry, uow_factory, finetune.leases, finetune.merge_export
            ),
            estimates=EstimateService(models.registry, uow_factory, counter, batch=batch, judge=judge),
        )

    def close(self) -> None:
        self.models.registry.close()
        self.engine.dispose()
