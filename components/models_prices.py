"""The Models tab's price section: where prices come from (LiteLLM's price map and its date), and
the price a user sets for the picked model, which wins over the map and over "local: $0".

Layout + controller, as every tab: each handler calls one method of ``services.models.prices``
and answers with the picked model's refreshed details.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from components.i18n import L, say
from components.ui_errors import user_errors
from playground.services import Services


@dataclass
class PriceWidgets:
    table_line: gr.Markdown
    price_in: gr.Textbox
    price_out: gr.Textbox
    set: gr.Button
    clear: gr.Button


def prices_layout(services: Services) -> PriceWidgets:
    with gr.Accordion(L("prices.accordion"), open=False, elem_id="model-price"):
        # A function: rendered on each page load, in that reader's language.
        table_line = gr.Markdown(lambda: say(services.models.prices.table_text()), elem_id="price-table-line")
        gr.Markdown(L("prices.override_info"))
        with gr.Row():
            # Text boxes, not gr.Number: an empty one stays empty (a Number shows 0, and 0 is a price),
            # and "0,15" is read as typed in Portuguese.
            price_in = gr.Textbox(label=L("prices.override_in"), placeholder="0.15", elem_id="price-in")
            price_out = gr.Textbox(label=L("prices.override_out"), placeholder="0.60", elem_id="price-out")
        with gr.Row():
            set_button = gr.Button(L("prices.set"), variant="primary", elem_id="price-set")
            clear = gr.Button(L("prices.clear"), elem_id="price-clear")
    return PriceWidgets(table_line, price_in, price_out, set_button, clear)


class PricesController:
    def __init__(self, services: Services, describe: Callable[[str | None], str]):
        """``describe(key)``: the picked model's details, fresh (they carry its price line)."""
        self.prices = services.models.prices
        self.describe = describe

    @user_errors
    def set_price(self, key: str | None, price_in: str | None, price_out: str | None):
        gr.Info(say(self.prices.set(key, price_in, price_out)))
        return self.describe(key), "", ""

    @user_errors
    def clear_price(self, key: str | None):
        gr.Info(say(self.prices.clear(key)))
        return self.describe(key)


def wire_prices(ui: PriceWidgets, controller: PricesController, pick: gr.Dropdown, details: gr.Markdown) -> None:
    ui.set.click(
        controller.set_price,
        [pick, ui.price_in, ui.price_out],
        [details, ui.price_in, ui.price_out],
        api_name="model_price_set",
    )
    ui.clear.click(controller.clear_price, [pick], [details], api_name="model_price_clear")
