"""The Models tab's Connections section in the real app, driven through gradio_client: save a
connection to a local test server, tick its models, add them, try one, remove the connection."""

import pytest

from tests.e2e.app_process import REFUSED
from tests.service.connection_server import ANSWER, ConnectionServer

pytestmark = pytest.mark.slow


def choice_values(update) -> list[str]:
    return [value for _label, value in update["choices"]]


def test_a_connection_is_saved_listed_added_tried_and_removed(client):
    with ConnectionServer(["alpha", "beta"]) as server:
        preset = client.predict("vllm", api_name="/connection_preset")
        assert preset[1] == "http://localhost:8000/v1" and "VLLM_API_KEY" in preset[0]

        chosen, status, boxes, key = client.predict(
            "", "vllm", "Lab cluster", server.base_url, "", "", "", "", api_name="/connection_save"
        )
        assert "Listed 2 models" in status and key == ""
        connection_id = chosen["value"]
        assert choice_values(boxes) == ["alpha", "beta"]

        status, boxes, typed, table, picker = client.predict(
            connection_id, ["beta"], "", api_name="/connection_add_models"
        )
        labels = dict((value, label) for label, value in boxes["choices"])
        assert "✓ added" in labels["beta"] and "✓ added" not in labels["alpha"]
        names = [row[0] for row in table["data"]]
        assert "Lab cluster/beta" in names
        key = next(value for label, value in picker["choices"] if label == "Lab cluster/beta")

        answer, _figures = client.predict(key, "Hi", 16, 0.0, -1, api_name="/model_try")
        assert answer == ANSWER and server.posts()[-1]["body"]["model"] == "beta"

    with pytest.raises(REFUSED, match="web page"):
        with ConnectionServer(html=True) as page:
            client.predict("", "custom", "Page", page.origin, "", "", "", "", api_name="/connection_save")

    chosen, status, boxes, table, picker = client.predict(connection_id, api_name="/connection_remove")
    assert chosen["value"] == "" and "Lab cluster/beta" not in [row[0] for row in table["data"]]
