"""Tables of the Compare tab: versioned prompt templates and batch input rows."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.orm import Base, UtcDateTime, utc_now


class PromptTemplate(Base):
    __tablename__ = "prompt_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)

    versions: Mapped[list["TemplateVersion"]] = relationship(
        back_populates="template",
        order_by="TemplateVersion.version",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class TemplateVersion(Base):
    """Editing a template saves a new version; runs point at the version they used."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version", name="uq_template_versions_template_id_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("prompt_templates.id", ondelete="CASCADE"), nullable=False, index=True
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    variables: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)

    template: Mapped[PromptTemplate] = relationship(back_populates="versions")


class BatchRow(Base):
    """One input row (variable values) of a batch run; its answers are generations with row_index."""

    __tablename__ = "batch_rows"
    __table_args__ = (UniqueConstraint("run_id", "row_index", name="uq_batch_rows_run_id_row_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True)
    row_index: Mapped[int] = mapped_column(Integer, nullable=False)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
