"""Playground's storage layer: SQLAlchemy models, repositories, unit of work, Alembic migrations.

Imports only SQLAlchemy, Alembic and the standard library (never ``playground`` or ``gradio``).
"""

from storage.db import (
    DatabaseCorruptError,
    DatabaseUnavailableError,
    check_database,
    create_engine_for,
    describe_url,
    make_session_factory,
    migrate,
)
from storage.errors import ConflictError
from storage.orm import Base, Endpoint, Generation, ModelEntry, ModelFolder, Run
from storage.orm_arena import (
    ArenaAnswer,
    ArenaBattle,
    ArenaContestant,
    ArenaEvaluation,
    ArenaPrompt,
    ArenaRater,
    ArenaVote,
)
from storage.orm_compare import BatchRow, PromptTemplate, TemplateVersion
from storage.orm_finetune_datasets import FinetuneDataset
from storage.orm_finetune_jobs import FinetuneEvent, FinetuneJob, FinetuneMetric, FinetuneSample
from storage.orm_judge import HumanGrade, JudgeGrade, JudgeJob, JudgeRubric, JudgeVerdict
from storage.orm_leases import WorkLease
from storage.orm_rag import RagChunk, RagCollection, RagDocument, RagEvaluation, RagPage, RagQuestion
from storage.repositories import (
    EndpointRepository,
    GenerationRepository,
    ModelEntryRepository,
    ModelFolderRepository,
    RunRepository,
)
from storage.repositories_arena import ArenaRepository
from storage.repositories_judge import JudgeRepository
from storage.repositories_leases import LeaseRepository
from storage.uow import UnitOfWork, unit_of_work_factory

__all__ = [
    "ArenaAnswer",
    "ArenaBattle",
    "ArenaContestant",
    "ArenaEvaluation",
    "ArenaPrompt",
    "ArenaRater",
    "ArenaRepository",
    "ArenaVote",
    "Base",
    "BatchRow",
    "ConflictError",
    "PromptTemplate",
    "RagChunk",
    "RagCollection",
    "RagDocument",
    "RagEvaluation",
    "RagPage",
    "RagQuestion",
    "TemplateVersion",
    "DatabaseCorruptError",
    "DatabaseUnavailableError",
    "Endpoint",
    "FinetuneEvent",
    "FinetuneJob",
    "FinetuneMetric",
    "FinetuneSample",
    "FinetuneDataset",
    "EndpointRepository",
    "Generation",
    "HumanGrade",
    "JudgeGrade",
    "JudgeJob",
    "JudgeRepository",
    "JudgeRubric",
    "JudgeVerdict",
    "LeaseRepository",
    "WorkLease",
    "GenerationRepository",
    "ModelEntry",
    "ModelEntryRepository",
    "ModelFolder",
    "ModelFolderRepository",
    "Run",
    "RunRepository",
    "UnitOfWork",
    "check_database",
    "create_engine_for",
    "describe_url",
    "make_session_factory",
    "migrate",
    "unit_of_work_factory",
]
