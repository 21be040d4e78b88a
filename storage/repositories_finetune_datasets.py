"""Repository for saved fine-tuning datasets."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.orm_finetune_datasets import FinetuneDataset


class FinetuneDatasetRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, **fields: Any) -> FinetuneDataset:
        dataset = FinetuneDataset(**fields)
        self.session.add(dataset)
        self.session.flush()
        return dataset

    def get(self, dataset_id: int) -> FinetuneDataset | None:
        return self.session.get(FinetuneDataset, dataset_id)

    def by_name(self, name: str) -> FinetuneDataset | None:
        return self.session.scalar(select(FinetuneDataset).where(FinetuneDataset.name == name))

    def list(self) -> list[FinetuneDataset]:
        """Newest first; the examples column is not loaded."""
        query = select(FinetuneDataset).order_by(FinetuneDataset.created_at.desc(), FinetuneDataset.id.desc())
        return list(self.session.scalars(query))

    def examples(self, dataset_id: int) -> builtins.list[dict[str, Any]] | None:
        return self.session.scalar(select(FinetuneDataset.examples).where(FinetuneDataset.id == dataset_id))

    def rename(self, dataset_id: int, name: str) -> FinetuneDataset | None:
        dataset = self.get(dataset_id)
        if dataset is not None:
            dataset.name = name
            self.session.flush()
        return dataset

    def delete(self, dataset_id: int) -> bool:
        dataset = self.get(dataset_id)
        if dataset is None:
            return False
        self.session.delete(dataset)
        self.session.flush()
        return True
