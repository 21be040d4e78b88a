"""Prices in the real app, through gradio_client: a local model's details say "local: $0, by
choice" and its context window; a price set in the Models tab wins, shows in the next answer's
figures and can be cleared; a half-typed price is refused plainly."""

import pytest

from tests.e2e.app_process import REFUSED

pytestmark = pytest.mark.slow
SMOL = "embedded/smollm2-135m-instruct"


def test_a_price_set_in_the_models_tab_wins_and_can_be_cleared(client):
    details = client.predict(SMOL, api_name="/model_details")
    assert "Price: local: $0, by choice." in details and "Context window: 4,096 tokens" in details
    details, price_in, price_out = client.predict(SMOL, "2.5", "10", api_name="/model_price_set")
    assert "Price: $2.50 input · $10.00 output per 1M tokens, set by you" in details
    assert (price_in, price_out) == ("", "")  # the form is emptied once the price is saved
    try:
        _, figures = client.predict(SMOL, "Say hi.", 8, 0.0, 1, api_name="/model_try")
        cost = figures.split(" · ")[4]  # first token · total · speed · tokens · cost
        assert cost.startswith("$0.000") and float(cost[1:]) > 0, figures  # tens of tokens at $2.50-$10 per 1M
    finally:
        details = client.predict(SMOL, api_name="/model_price_clear")
    assert "Price: local: $0, by choice." in details
    _, figures = client.predict(SMOL, "Say hi.", 8, 0.0, 1, api_name="/model_try")
    assert figures.split(" · ")[4] == "local: $0, by choice"


def test_a_half_typed_price_is_refused_and_nothing_changes(client):
    with pytest.raises(REFUSED, match="Enter both prices"):
        client.predict(SMOL, "1.0", "", api_name="/model_price_set")
    with pytest.raises(REFUSED, match="more than any model costs"):
        client.predict(SMOL, "10000000", "1", api_name="/model_price_set")
    with pytest.raises(REFUSED, match="must be numbers"):
        client.predict(SMOL, "cheap", "1", api_name="/model_price_set")
    assert "Price: local: $0, by choice." in client.predict(SMOL, api_name="/model_details")
