"""Unit of work: one short transaction per ``with`` block."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from storage.errors import conflicts_translated
from storage.repositories import (
    EndpointRepository,
    GenerationRepository,
    ModelEntryRepository,
    ModelFolderRepository,
    RunRepository,
)
from storage.repositories_arena import ArenaRepository
from storage.repositories_compare import BatchRowRepository, RunSearchRepository, TemplateRepository
from storage.repositories_connections import ConnectionRepository
from storage.repositories_finetune_datasets import FinetuneDatasetRepository
from storage.repositories_finetune_jobs import FinetuneJobRepository
from storage.repositories_judge import JudgeRepository
from storage.repositories_leases import LeaseRepository
from storage.repositories_prices import PriceOverrideRepository
from storage.repositories_rag import (
    RagChunkRepository,
    RagCollectionRepository,
    RagDocumentRepository,
    RagEvaluationRepository,
    RagPageRepository,
    RagQuestionRepository,
)
from storage.repositories_speed import SpeedRepository


class UnitOfWork:
    """``with uow_factory() as uow:`` commits on a clean exit, rolls back on an exception, always closes.

    A commit that breaks a constraint raises ``storage.errors.ConflictError``.
    Objects read inside stay usable afterwards (``expire_on_commit=False``), but lazy
    relationships that were not loaded cannot be loaded once the block has ended.
    """

    session: Session
    endpoints: EndpointRepository
    models: ModelEntryRepository
    folders: ModelFolderRepository
    runs: RunRepository
    generations: GenerationRepository
    templates: TemplateRepository
    batch_rows: BatchRowRepository
    run_search: RunSearchRepository
    rag_collections: RagCollectionRepository
    rag_documents: RagDocumentRepository
    rag_pages: RagPageRepository
    rag_chunks: RagChunkRepository
    rag_questions: RagQuestionRepository
    rag_evaluations: RagEvaluationRepository
    arena: ArenaRepository
    finetune_jobs: FinetuneJobRepository
    judge: JudgeRepository
    finetune_datasets: FinetuneDatasetRepository
    leases: LeaseRepository
    connections: ConnectionRepository
    speed: SpeedRepository
    price_overrides: PriceOverrideRepository

    def __init__(self, session_factory: sessionmaker[Session]):
        self._session_factory = session_factory
        self._open = False

    def __enter__(self) -> UnitOfWork:
        if self._open:
            raise RuntimeError("This unit of work is already open; make a new one for each block.")
        self.session = self._session_factory()
        self._open = True
        self.endpoints = EndpointRepository(self.session)
        self.models = ModelEntryRepository(self.session)
        self.folders = ModelFolderRepository(self.session)
        self.runs = RunRepository(self.session)
        self.generations = GenerationRepository(self.session)
        self.templates = TemplateRepository(self.session)
        self.batch_rows = BatchRowRepository(self.session)
        self.run_search = RunSearchRepository(self.session)
        self.rag_collections = RagCollectionRepository(self.session)
        self.rag_documents = RagDocumentRepository(self.session)
        self.rag_pages = RagPageRepository(self.session)
        self.rag_chunks = RagChunkRepository(self.session)
        self.rag_questions = RagQuestionRepository(self.session)
        self.rag_evaluations = RagEvaluationRepository(self.session)
        self.arena = ArenaRepository(self.session)
        self.finetune_jobs = FinetuneJobRepository(self.session)
        self.judge = JudgeRepository(self.session)
        self.finetune_datasets = FinetuneDatasetRepository(self.session)
        self.leases = LeaseRepository(self.session)
        self.connections = ConnectionRepository(self.session)
        self.speed = SpeedRepository(self.session)
        self.price_overrides = PriceOverrideRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                with conflicts_translated():
                    self.session.commit()
            else:
                self.session.rollback()
        finally:
            self.session.close()
            self._open = False

    def commit(self) -> None:
        """Commit early inside the block (the block still commits what follows at its end)."""
        with conflicts_translated():
            self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


def unit_of_work_factory(session_factory: sessionmaker[Session]) -> Callable[[], UnitOfWork]:
    def new_unit_of_work() -> UnitOfWork:
        return UnitOfWork(session_factory)

    return new_unit_of_work
