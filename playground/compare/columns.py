"""A Compare column's settings: which model, and how it is asked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from playground.errors import InvalidInput
from playground.i18n import Text, t
from playground.models.types import GenerationParams

MAX_COLUMNS = 4


@dataclass(frozen=True)
class ColumnConfig:
    model_key: str
    system_prompt: str = ""
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 256
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def params(self) -> GenerationParams:
        return GenerationParams(**{name: getattr(self, name) for name in _PARAM_FIELDS})

    def to_dict(self) -> dict[str, Any]:
        return {"model_key": self.model_key, **self.params().to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnConfig:
        params = GenerationParams.from_dict(data)
        return cls(model_key=data["model_key"], **{name: getattr(params, name) for name in _PARAM_FIELDS})


# The generation settings a column offers (a column has no reply grammar).
_PARAM_FIELDS = tuple(name for name in ColumnConfig.__dataclass_fields__ if name != "model_key")


def parse_stop(text: str | None) -> tuple[str, ...]:
    """Stop sequences typed one per line; ``\\n`` written out means a newline."""
    lines = (text or "").splitlines()
    return tuple(line.replace("\\n", "\n") for line in lines if line.strip())


def format_stop(stop: Sequence[str]) -> str:
    return "\n".join(s.replace("\n", "\\n") for s in stop)


def parse_seed(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        seed = int(float(value))
    except (TypeError, ValueError) as err:
        raise InvalidInput(t("compare.bad_seed", value=repr(value))) from err
    return None if seed < 0 else seed


def make_column(
    model_key: Any,
    system_prompt: Any,
    temperature: Any,
    top_p: Any,
    max_tokens: Any,
    seed: Any,
    stop: Any,
    *,
    label: str | Text,
) -> ColumnConfig:
    """Build a column from raw form values, with a plain message for each bad one."""
    if not model_key:
        raise InvalidInput(t("compare.column_no_model", column=label))
    try:
        temperature_f, top_p_f, max_tokens_i = float(temperature), float(top_p), int(max_tokens)
    except (TypeError, ValueError) as err:
        raise InvalidInput(t("compare.column_not_numbers", column=label)) from err
    if not 0 <= temperature_f <= 2:
        raise InvalidInput(t("compare.column_temperature", column=label))
    if not 0 < top_p_f <= 1:
        raise InvalidInput(t("compare.column_top_p", column=label))
    if not 1 <= max_tokens_i <= 8192:
        raise InvalidInput(t("compare.column_max_tokens", column=label))
    return ColumnConfig(
        model_key=str(model_key),
        system_prompt=str(system_prompt or ""),
        temperature=temperature_f,
        top_p=top_p_f,
        max_tokens=max_tokens_i,
        seed=parse_seed(seed),
        stop=parse_stop(stop),
    )
