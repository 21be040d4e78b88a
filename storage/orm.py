"""SQLAlchemy models: the database schema of Playground.

The schema is owned by the Alembic migrations in ``storage/migrations``; a test checks
that migrating an empty database produces exactly these models.
"""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from storage.orm_connections import Connection

# Explicit constraint names let Alembic's batch mode (SQLite) find and alter constraints.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    SQLite keeps no offset: it would silently store an aware local time as if it were
    UTC and give back naive datetimes. So values are converted to UTC on the way in and
    marked UTC on the way out; naive values are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"Timestamps must be timezone-aware (got naive {value!r}); use datetime.now(timezone.utc)."
            )
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Endpoint(Base):
    """An OpenAI-compatible HTTP endpoint. Holds the NAME of the API key's env variable, never a key."""

    __tablename__ = "endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    base_url: Mapped[str] = mapped_column(String(500), nullable=False)
    api_key_env: Mapped[str | None] = mapped_column(String(200), nullable=True)
    price_input_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    price_output_per_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    timeout_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)

    # The database deletes the entries (ON DELETE CASCADE); the ORM need not load them first.
    models: Mapped[list["ModelEntry"]] = relationship(
        back_populates="endpoint", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"Endpoint(id={self.id!r}, name={self.name!r}, base_url={self.base_url!r})"


class ModelEntry(Base):
    """A model the user added: a GGUF file, a Hugging Face folder, or a model behind an endpoint."""

    __tablename__ = "model_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    backend: Mapped[str] = mapped_column(String(32), nullable=False)
    path: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    gguf_file: Mapped[str | None] = mapped_column(String(500), nullable=True)
    adapter_path: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=True, index=True
    )
    remote_model: Mapped[str | None] = mapped_column(String(300), nullable=True)
    chat_template: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)
    # A model added from a connection (storage.orm_connections); removing the connection removes it.
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # What an endpoint turned out to need, learnt from its errors (e.g. max_completion_tokens).
    quirks: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    context_length: Mapped[int | None] = mapped_column(Integer, nullable=True)  # as the server reported it

    # Joined so an entry read in one unit of work still knows its endpoint after the session closes.
    endpoint: Mapped[Endpoint | None] = relationship(back_populates="models", lazy="joined")
    connection: Mapped["Connection | None"] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"ModelEntry(id={self.id!r}, name={self.name!r}, backend={self.backend!r})"


class ModelFolder(Base):
    """An extra folder scanned for model files."""

    __tablename__ = "model_folders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)

    def __repr__(self) -> str:
        return f"ModelFolder(id={self.id!r}, path={self.path!r})"


class Run(Base):
    """One user action that produced answers, e.g. a single try or a side-by-side compare."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False, default="")
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now, index=True)
    # The prompt template version a Compare run used (kept NULL once that template is deleted).
    template_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("template_versions.id", ondelete="SET NULL"), nullable=True, index=True
    )

    generations: Mapped[list["Generation"]] = relationship(
        back_populates="run",
        order_by="(Generation.position, Generation.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, kind={self.kind!r}, title={self.title!r})"


class Generation(Base):
    """One model's answer within a run, with its timing, token counts and cost."""

    __tablename__ = "generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    model_key: Mapped[str] = mapped_column(String(1100), nullable=False, index=True)
    # A snapshot, so a saved run still opens after its model was removed.
    model_name: Mapped[str] = mapped_column(String(300), nullable=False)
    backend: Mapped[str] = mapped_column(String(32), nullable=False)
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    output: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tokens_estimated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ttft_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    total_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    tokens_per_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    # NULL means "cost unknown"; 0 would claim the answer was free.
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Where the price behind cost_usd came from: "local" ($0 by choice), "override", "table"; NULL unknown.
    price_source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    finish_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Where in a run this answer sits: conversation turn, repeat attempt, batch input row.
    turn: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    row_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Quick feedback: +1 thumbs up, -1 thumbs down, NULL none.
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    feedback_note: Mapped[str | None] = mapped_column(Text, nullable=True)

    run: Mapped[Run] = relationship(back_populates="generations")

    def __repr__(self) -> str:
        return (
            f"Generation(id={self.id!r}, run_id={self.run_id!r}, model_key={self.model_key!r}, status={self.status!r})"
        )


# Feature tables live in their own modules; importing them here keeps Base.metadata whole
# for whoever imports this module alone.
from storage import orm_compare, orm_connections, orm_prices  # noqa: E402,F401
