"""A price the user set for one model (the Models tab), which wins over LiteLLM's price map.

Keyed by the registry's model key (``embedded/...``, ``local/<path>``, ``entry/<id>``,
``finetune/<id>``). A row for a saved model entry also points at it, so removing the model (or
the connection it came from) removes its price with it, and a later entry that reuses the id
never inherits it.
"""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base, UtcDateTime, utc_now


class PriceOverride(Base):
    __tablename__ = "price_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_key: Mapped[str] = mapped_column(String(1100), unique=True, nullable=False)
    model_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_entries.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # US dollars per one million tokens.
    input_per_m: Mapped[float] = mapped_column(Float, nullable=False)
    output_per_m: Mapped[float] = mapped_column(Float, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)

    def __repr__(self) -> str:
        return f"PriceOverride(model_key={self.model_key!r}, input={self.input_per_m!r}, output={self.output_per_m!r})"
