"""What the Models tab says about a model's price and context window, and the price a user sets
for a model (it wins over LiteLLM's price map and over "local: $0"; see ``pricing``)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

from playground.errors import InvalidInput
from playground.formatting import dollars_per_m, price_text
from playground.i18n import Text, t
from playground.models import prices
from playground.models.pricing import PRESET_KEY, resolve
from playground.models.registry import ModelRegistry
from playground.models.types import BackendKind, ContextSource, ModelSource, ModelSpec, Price, PriceSource
from storage import UnitOfWork

log = logging.getLogger(__name__)
MAX_PRICE_PER_M = 10_000.0  # dollars per million tokens; the dearest models cost a few hundred
CONTEXT_KEYS = {
    ContextSource.SERVER: "prices.context_server",
    ContextSource.TABLE: "prices.context_table",
    ContextSource.N_CTX: "prices.context_n_ctx",
}


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError) as err:
        raise InvalidInput(t("prices.not_numbers")) from err
    if not math.isfinite(number):
        raise InvalidInput(t("prices.not_numbers"))
    return number


def validate_price(price_in: Any, price_out: Any) -> Price:
    """Both prices, as numbers of dollars per million tokens, or a plain refusal."""
    given_in, given_out = _number(price_in), _number(price_out)
    if given_in is None or given_out is None:
        raise InvalidInput(t("prices.both_needed"))
    values = (given_in, given_out)
    if any(v < 0 for v in values):
        raise InvalidInput(t("prices.negative"))
    too_high = next((v for v in values if v > MAX_PRICE_PER_M), None)
    if too_high is not None:
        raise InvalidInput(t("prices.too_high", value=too_high))
    return Price(values[0], values[1])


def price_detail(spec: ModelSpec) -> Text:
    """One sentence: the model's price and where it came from."""
    shown = price_text(spec.price, spec.price_source)
    if spec.price_source == PriceSource.OVERRIDE:
        return t("prices.detail_override", price=shown)
    if spec.price_source == PriceSource.LOCAL:
        return t("prices.detail_local", local=shown)
    if spec.price_source == PriceSource.TABLE:
        return t("prices.detail_table", price=shown, entry=spec.price_match or "")
    return t("prices.detail_unknown", model=spec.name)


def context_detail(spec: ModelSpec) -> Text | None:
    if spec.context_length and spec.context_source in CONTEXT_KEYS:
        return t(CONTEXT_KEYS[spec.context_source], tokens=spec.context_length)
    return t("prices.context_unknown") if spec.is_remote else None


class PriceOverrides:
    def __init__(self, registry: ModelRegistry, uow_factory: Callable[[], UnitOfWork]):
        self.registry = registry
        self.uow_factory = uow_factory

    def table_text(self) -> Text:
        """ "Prices from LiteLLM's price map (litellm 1.110.2, 2026-11-20)." """
        return prices.table_text()

    def details(self, key: str) -> list[Text]:
        """The picked model's price line, and its context window line where there is one."""
        spec = self.registry.get_spec(key)
        lines = [price_detail(spec)]
        context = context_detail(spec)
        return lines + ([context] if context is not None else [])

    def set(self, key: str | None, price_in: Any, price_out: Any) -> Text:
        spec = self._spec(key)
        price = validate_price(price_in, price_out)
        with self.uow_factory() as uow:
            entry_id = spec.entry_id if spec.source == ModelSource.USER else None
            uow.price_overrides.set(spec.key, price.input_per_m, price.output_per_m, entry_id)
        log.info("Price of %s set to %s / %s per 1M tokens", spec.key, price.input_per_m, price.output_per_m)
        return t("prices.set_done", model=spec.name, price=price_text(price, PriceSource.OVERRIDE))

    def clear(self, key: str | None) -> Text:
        spec = self._spec(key)
        with self.uow_factory() as uow:
            cleared = uow.price_overrides.clear(spec.key)
        if not cleared:
            return t("prices.nothing_to_clear", model=spec.name)
        log.info("Price of %s cleared", spec.key)
        now = self.registry.get_spec(spec.key)
        return t("prices.cleared", model=spec.name, price=price_text(now.price, now.price_source))

    def listed_price(self, preset_id: str, base_url: str, remote_model: str, details: Mapping[str, Any]) -> Text:
        """What a model a connection lists would cost once added (before any price of the user's)."""
        probe = ModelSpec(
            key="listed",
            name=remote_model,
            backend=BackendKind.OPENAI,
            source=ModelSource.USER,
            base_url=base_url,
            remote_model=remote_model,
            extra={PRESET_KEY: preset_id},
        )
        model = details.get("model")
        shown = resolve(probe, None, prices.price_table, deployment_model=model if isinstance(model, str) else None)
        if shown.price is None or shown.price_source == PriceSource.LOCAL:
            return price_text(shown.price, shown.price_source)
        price = shown.price
        return t(
            "prices.per_million_short", input=dollars_per_m(price.input_per_m), output=dollars_per_m(price.output_per_m)
        )

    def _spec(self, key: str | None) -> ModelSpec:
        if not key:
            raise InvalidInput(t("models.pick_model"))
        return self.registry.get_spec(key)
