"""Datasets for fine-tuning: inspect an upload, check it, save it, reuse it.

A dataset is checked and normalised (one ``Example`` per usable row) once, when it is
saved; jobs read the saved examples and split off the same holdout every time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from playground.demo import SUPPORT_REPLIES, demo_path
from playground.errors import InvalidInput
from playground.finetune.dataset_check import DatasetReport, check_dataset, holdout_size, split_holdout
from playground.finetune.datasets import (
    DEFAULT_ROW_LIMIT,
    ColumnMapping,
    DataTable,
    convert_table,
    detect_mapping,
    no_mapping_message,
    read_dataset_table,
)
from playground.finetune.tokenizers import can_fine_tune, estimate_tokens, token_counter, tokenizer_for
from playground.formatting import clip
from playground.i18n import Text, t
from playground.languages import ENGLISH
from playground.models.prompt_formats import ALPACA, CHAT_TEMPLATE, Example, check_format, render_training_pair
from playground.models.registry import ModelRegistry
from playground.zip_safety import ArchiveLimits

log = logging.getLogger(__name__)
DEFAULT_MAX_LENGTH = 512
HOLDOUT_FRACTION = 0.1
MIN_HOLDOUT = 3
NAME_LIMIT = 200


@dataclass(frozen=True)
class DatasetInspection:
    """What an upload looks like before it is saved: its columns and the shape recognised."""

    filename: str
    columns: list[str]
    mapping: ColumnMapping | None
    row_count: int
    first_rows: list[list[str]]
    notes: list[Text | str] = field(default_factory=list)

    @property
    def message(self) -> Text:
        if self.mapping is None:
            return no_mapping_message(self.columns)
        return t("finetune.inspect_recognised", rows=self.row_count, mapping=self.mapping.describe())


@dataclass(frozen=True)
class DatasetInfo:
    id: int
    name: str
    kind: str
    mapping: ColumnMapping
    source_name: str
    row_count: int
    usable_count: int
    report: DatasetReport
    created_at: datetime

    @property
    def label(self) -> Text:
        """ "replies (54 rows)": the saved-datasets picker's label."""
        return t("finetune.dataset_label", name=self.name, rows=self.usable_count)


def _info(row: Any) -> DatasetInfo:
    return DatasetInfo(
        row.id,
        row.name,
        row.kind,
        ColumnMapping.from_dict(row.mapping),
        row.source_name,
        row.row_count,
        row.usable_count,
        DatasetReport.from_dict(row.report),
        row.created_at,
    )


def _cell(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else ("" if value is None else repr(value))
    return clip(text, limit)


class DatasetService:
    def __init__(self, uow_factory: Callable[[], Any], settings: Any, registry: ModelRegistry | None = None):
        self.uow_factory = uow_factory
        self.settings = settings
        self.registry = registry

    @staticmethod
    def demo_file(language: str = ENGLISH) -> Path:
        """The demo dataset (60 customer-support replies) in ``language`` ("en", "pt")."""
        return demo_path(SUPPORT_REPLIES, language)

    # ---- base models and tokenizers --------------------------------------------------------
    def base_model_choices(self) -> list[tuple[str, str]]:
        """(label, key) of every model with local weights: what can be fine-tuned."""
        if self.registry is None:
            return []
        return [(spec.name, spec.key) for spec in self.registry.list_specs() if can_fine_tune(spec)]

    def tokenizer(self, base_model: str) -> Any:
        if self.registry is None:
            raise InvalidInput(t("finetune.no_registry"))
        return tokenizer_for(self.registry, base_model)

    # ---- uploads ---------------------------------------------------------------------------
    def read(self, path: str | Path, filename: str | None = None) -> DataTable:
        row_limit = int(getattr(self.settings, "finetune_row_limit", DEFAULT_ROW_LIMIT))
        try:
            return read_dataset_table(
                path, filename, row_limit=row_limit, archive=ArchiveLimits.from_settings(self.settings)
            )
        except InvalidInput as err:
            log.info("Dataset upload refused: %s", err)
            raise

    def inspect_file(self, path: str | Path, filename: str | None = None, rows: int = 5) -> DatasetInspection:
        table = self.read(path, filename)
        first = [[_cell(row.get(c)) for c in table.columns] for row in table.rows[:rows]]
        return DatasetInspection(
            table.filename, table.columns, detect_mapping(table.columns), len(table.rows), first, table.notes
        )

    def check_file(
        self,
        path: str | Path,
        mapping: ColumnMapping | None = None,
        *,
        max_length: int = DEFAULT_MAX_LENGTH,
        tokenizer: Any = None,
        prompt_format: str = ALPACA,
        filename: str | None = None,
    ) -> tuple[DataTable, ColumnMapping, list[Example], DatasetReport]:
        """Read, map and check a file without saving it. Raises InvalidInput when unusable."""
        table = self.read(path, filename)
        mapping = mapping or detect_mapping(table.columns)
        if mapping is None:
            raise InvalidInput(no_mapping_message(table.columns))
        rows = convert_table(table, mapping)
        count, text_of, notes = self._measure(tokenizer, prompt_format)
        report = check_dataset(rows, count, int(max_length), text_of=text_of, unit=table.unit)
        excluded = set(report.excluded)
        examples = [r.example for r in rows if r.number not in excluded and r.example is not None]
        size, note = holdout_size(len(examples), HOLDOUT_FRACTION, MIN_HOLDOUT)
        # The summary states the split; the note only says why a small dataset got less.
        report.holdout_rows = size
        report.notes += table.notes + notes + ([note] if note else [])
        report.settings = {"max_length": int(max_length), "prompt_format": prompt_format, "holdout": size}
        return table, mapping, examples, report

    def _measure(
        self, tokenizer: Any, prompt_format: str
    ) -> tuple[Callable[[str], int], Callable[[Example], str], list[Text | str]]:
        """How to count tokens of the exact training text (prompt + answer)."""
        has_object = tokenizer is not None and hasattr(tokenizer, "encode")
        check_format(prompt_format, tokenizer if has_object else None)
        if prompt_format == CHAT_TEMPLATE and not has_object:
            raise InvalidInput(t("finetune.chat_template_needs_base"))

        def text_of(example: Example) -> str:
            return "".join(render_training_pair(example, prompt_format, tokenizer if has_object else None))

        if tokenizer is None:
            return (
                estimate_tokens,
                text_of,
                [t("finetune.note_estimated_tokens")],
            )
        return token_counter(tokenizer), text_of, []

    def import_dataset(
        self,
        path: str | Path,
        name: str = "",
        mapping: ColumnMapping | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        tokenizer: Any = None,
        *,
        base_model: str | None = None,
        prompt_format: str = ALPACA,
        filename: str | None = None,
    ) -> DatasetInfo:
        """Check a file and save its usable rows as a dataset. ``tokenizer`` is a tokenizer or
        a text -> token count callable; else the ``base_model`` key's tokenizer is loaded."""
        source = filename or Path(path).name
        name = self._free_name(name.strip() or Path(source).stem)
        if tokenizer is None and base_model:
            tokenizer = self.tokenizer(base_model)
        table, mapping, examples, report = self.check_file(
            path, mapping, max_length=max_length, tokenizer=tokenizer, prompt_format=prompt_format, filename=filename
        )
        report.settings["base_model"] = base_model or ""
        with self.uow_factory() as uow:
            row = uow.finetune_datasets.add(
                name=name,
                kind=mapping.kind,
                mapping=mapping.to_dict(),
                source_name=table.filename,
                examples=[e.to_dict() for e in examples],
                row_count=len(table.rows),
                usable_count=len(examples),
                report=report.to_dict(),
            )
            info = _info(row)
        log.info("Saved dataset %r (%d of %d rows) from %s", name, info.usable_count, info.row_count, source)
        return info

    def _free_name(self, name: str) -> str:
        if len(name) > NAME_LIMIT:
            raise InvalidInput(t("finetune.name_too_long", length=len(name), limit=NAME_LIMIT))
        with self.uow_factory() as uow:
            if uow.finetune_datasets.by_name(name) is not None:
                raise InvalidInput(t("finetune.name_exists", name=name))
        return name

    # ---- saved datasets ------------------------------------------------------------------
    def list_datasets(self) -> list[DatasetInfo]:
        with self.uow_factory() as uow:
            return [_info(row) for row in uow.finetune_datasets.list()]

    def get(self, dataset_id: int) -> DatasetInfo:
        with self.uow_factory() as uow:
            row = uow.finetune_datasets.get(int(dataset_id)) if dataset_id not in (None, "") else None
            if row is None:
                raise InvalidInput(t("finetune.dataset_gone"))
            return _info(row)

    def examples(self, dataset_id: int) -> list[Example]:
        with self.uow_factory() as uow:
            data = uow.finetune_datasets.examples(int(dataset_id))
        if data is None:
            raise InvalidInput(t("finetune.dataset_gone"))
        return [Example.from_dict(d) for d in data]

    def split(
        self, dataset_id: int, fraction: float = HOLDOUT_FRACTION, seed: int = 0
    ) -> tuple[list[Example], list[Example]]:
        """(train, holdout) of a saved dataset: the same rows every time for the same seed."""
        return split_holdout(self.examples(dataset_id), fraction, MIN_HOLDOUT, seed)

    def rename(self, dataset_id: int, name: str) -> DatasetInfo:
        name = (name or "").strip()
        if not name:
            raise InvalidInput(t("finetune.type_new_name"))
        current = self.get(dataset_id)
        if name != current.name:
            self._free_name(name)
        with self.uow_factory() as uow:
            return _info(uow.finetune_datasets.rename(current.id, name))

    def delete(self, dataset_id: int) -> Text:
        info = self.get(dataset_id)
        with self.uow_factory() as uow:
            uow.finetune_datasets.delete(info.id)
        log.info("Deleted dataset %r", info.name)
        return t("finetune.dataset_deleted", name=info.name)

    # ---- preview ---------------------------------------------------------------------------
    def preview_training_text(
        self,
        source: int | Sequence[Example],
        prompt_format: str = ALPACA,
        tokenizer: Any = None,
        n: int = 3,
        *,
        base_model: str | None = None,
    ) -> list[tuple[str, str]]:
        """The exact (prompt, completion) text training sees, for the first ``n`` examples;
        without a ``tokenizer``, the ``base_model`` key's tokenizer (if any) is loaded."""
        if tokenizer is None and base_model:
            tokenizer = self.tokenizer(base_model)
        examples = self.examples(source) if isinstance(source, int) else list(source)
        if prompt_format == CHAT_TEMPLATE and not hasattr(tokenizer, "apply_chat_template"):
            raise InvalidInput(t("finetune.chat_template_needs_base"))
        check_format(prompt_format, tokenizer)
        return [render_training_pair(e, prompt_format, tokenizer) for e in examples[:n]]
