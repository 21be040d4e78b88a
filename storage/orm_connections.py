"""Connections: a server (base URL, key reference, extra headers) whose models the user adds
in one go, and the models it listed last time (so a refresh can say what came and went).

A connection holds the NAME of its API key's environment variable, never a key, and header
values that are plain text or ``${NAME}`` references to such variables (never a secret).
Each model the user added from it is a ``model_entries`` row with ``connection_id`` set;
removing the connection removes those rows (ON DELETE CASCADE).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base, UtcDateTime, utc_now


class Connection(Base):
    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    preset: Mapped[str] = mapped_column(String(64), nullable=False, default="custom")
    # How to list and call it: "openai" (OpenAI-style), "ollama" (richer /api/tags list), "azure".
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="openai")
    base_url: Mapped[str] = mapped_column(String(500), nullable=False)
    api_key_env: Mapped[str | None] = mapped_column(String(200), nullable=True)
    api_version: Mapped[str | None] = mapped_column(String(64), nullable=True)  # Azure's api-version
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # False when the server has no model list: the user types model (or deployment) names.
    can_list: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)
    listed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    def __repr__(self) -> str:
        return f"Connection(id={self.id!r}, name={self.name!r}, base_url={self.base_url!r})"


class ConnectionModel(Base):
    """A model a connection's server listed (or the user typed), added to the registry or not."""

    __tablename__ = "connection_models"
    __table_args__ = (
        UniqueConstraint("connection_id", "remote_model", name="uq_connection_models_connection_id_remote_model"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), nullable=False, index=True
    )
    remote_model: Mapped[str] = mapped_column(String(300), nullable=False)
    # What the listing said besides the id: size, quantisation, family, owner.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    context_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # False once a refresh no longer finds it on the server (flagged, never deleted silently).
    present: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    model_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_entries.id", ondelete="SET NULL"), nullable=True, index=True
    )
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)

    def __repr__(self) -> str:
        return f"ConnectionModel(connection_id={self.connection_id!r}, remote_model={self.remote_model!r})"
