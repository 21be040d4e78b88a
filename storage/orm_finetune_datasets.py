"""Fine-tuning datasets: normalised examples saved once, reused by any number of jobs.

The examples are stored as one JSON list (``Example.to_dict`` per row): a dataset is
read whole by the worker and never queried row by row, and it stays small (thousands of
rows, not millions). Listing datasets does not load that column.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base, UtcDateTime, utc_now


class FinetuneDataset(Base):
    __tablename__ = "finetune_datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # alpaca | prompt_completion | chat
    # Which column of the uploaded file played which role, so a re-upload can reuse it.
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    source_name: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    examples: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list, deferred=True)
    row_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # rows in the file
    usable_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # rows kept as examples
    report: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)
