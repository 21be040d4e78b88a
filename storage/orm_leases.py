"""Leases on work in flight: who (which app or worker process) is doing what, until when.

A document being indexed, an Arena evaluation being pre-generated, a judge run and a
fine-tuning launch each hold one row here while they run. The holder renews
``expires_at`` from a heartbeat; another process may clean up or take over the work
only once the lease has expired. ``token`` names one acquisition (only its holder can
renew or release it); ``owner`` says which process holds it now, for people and for the
same-host liveness check. ``stop_requested`` lets any process ask the holder to stop, and
``note`` carries a line of progress another process can show.
"""

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base, UtcDateTime, utc_now

LEASE_INGEST = "ingest"  # resource: rag_documents.id
LEASE_PREGEN = "arena_pregen"  # resource: arena_evaluations.id
LEASE_JUDGE = "judge"  # resource: judge_jobs.id
LEASE_FINETUNE = "finetune"  # resource: finetune_jobs.id
LEASE_GGUF_EXPORT = "gguf_export"  # resource: finetune_jobs.id (one GGUF export of a job at a time)


class WorkLease(Base):
    __tablename__ = "work_leases"
    __table_args__ = (UniqueConstraint("kind", "resource_id", name="uq_work_leases_kind_resource_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    # A plain integer, not a foreign key: one table serves several kinds of work.
    resource_id: Mapped[int] = mapped_column(Integer, nullable=False)
    owner: Mapped[str] = mapped_column(String(300), nullable=False)
    token: Mapped[str] = mapped_column(String(64), nullable=False)
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)
    renewed_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
    stop_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")

    def __repr__(self) -> str:
        return f"WorkLease(kind={self.kind!r}, resource_id={self.resource_id!r}, owner={self.owner!r})"
