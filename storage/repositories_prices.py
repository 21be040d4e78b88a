"""Repository for the prices users set per model (see ``storage.orm_prices``)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.orm import utc_now
from storage.orm_prices import PriceOverride


class PriceOverrideRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, model_key: str) -> PriceOverride | None:
        return self.session.scalar(select(PriceOverride).where(PriceOverride.model_key == model_key))

    def prices(self) -> dict[str, tuple[float, float]]:
        """Every override: model key -> (input, output) dollars per million tokens."""
        rows = self.session.execute(
            select(PriceOverride.model_key, PriceOverride.input_per_m, PriceOverride.output_per_m)
        )
        return {key: (price_in, price_out) for key, price_in, price_out in rows}

    def set(self, model_key: str, input_per_m: float, output_per_m: float, model_entry_id: int | None = None) -> None:
        row = self.get(model_key)
        if row is None:
            row = PriceOverride(model_key=model_key)
            self.session.add(row)
        row.model_entry_id = model_entry_id
        row.input_per_m, row.output_per_m, row.updated_at = float(input_per_m), float(output_per_m), utc_now()
        self.session.flush()

    def clear(self, model_key: str) -> bool:
        """Remove the override; False when there was none."""
        result = self.session.execute(delete(PriceOverride).where(PriceOverride.model_key == model_key))
        self.session.flush()
        return bool(getattr(result, "rowcount", 0))
