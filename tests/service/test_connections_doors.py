"""The Connections section is on the facilitator's side only: its events are in the admin app's
API and in none of the rater door's (a participant cannot save a connection, list a server's models
or make the server send a key anywhere through it)."""

from components.app import build_app, build_rater_app

CONNECTION_EVENTS = {
    "connection_preset",
    "connection_open",
    "connection_save",
    "connection_refresh",
    "connection_add_models",
    "connection_remove",
}


def api_names(blocks) -> set[str]:
    return {d.get("api_name") for d in blocks.config["dependencies"] if d.get("api_name")}


def test_connection_events_exist_on_the_admin_door_and_nowhere_on_the_rater_door(services):
    assert CONNECTION_EVENTS <= api_names(build_app(services))
    rater = api_names(build_rater_app(services))
    assert rater and not rater & CONNECTION_EVENTS
    assert not {name for name in rater if name.startswith(("connection", "model_"))}
