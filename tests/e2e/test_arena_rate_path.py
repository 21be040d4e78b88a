"""One process, two doors: the rater view at /rate beside the facilitator's app at /, driven
through gradio_client as raters and scripts would. The rater door answers only rater events;
a rater is a session (a secret the browser keeps), not a typed name."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.e2e.arena_doors import ADMIN, Room, serve_room

pytestmark = pytest.mark.slow
RATER_APIS = {
    "/arena_join",
    "/arena_next",
    "/arena_vote_a",
    "/arena_vote_b",
    "/arena_vote_tie",
    "/arena_vote_bothbad",
    "/arena_live_ask",
    "/arena_live_retry",
    "/arena_resume",
}
ADMIN_APIS = ("/arena_create", "/arena_delete", "/arena_export", "/arena_leaderboard", "/arena_room", "/models_add")


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    with serve_room(tmp_path_factory.mktemp("doors") / "home") as room:
        yield room


def rater(room: Room) -> Client:
    return Client(room.rate_url, verbose=False)


def assert_blind(room: Room, response) -> None:
    text = str(response).lower()
    for word in (*room.labels, *room.keys, "smollm", "gemma", "third-remote"):
        assert word.lower() not in text, f"{word!r} reached the rater before their last vote: {response!r}"


def stored_votes(room: Room, name: str) -> list[tuple[str, str, str]]:
    """(label A, label B, winner) of each vote of rater ``name``, in voting order."""
    db = sqlite3.connect(room.services.settings.database_url.removeprefix("sqlite:///"))
    try:
        return db.execute(
            "SELECT ca.label, cb.label, v.winner FROM arena_votes v JOIN arena_raters r ON r.id = v.rater_id "
            "JOIN arena_battles b ON b.id = v.battle_id JOIN arena_answers aa ON aa.id = b.answer_a_id "
            "JOIN arena_answers ab ON ab.id = b.answer_b_id JOIN arena_contestants ca ON ca.id = aa.contestant_id "
            "JOIN arena_contestants cb ON cb.id = ab.contestant_id WHERE r.name = ? ORDER BY v.id",
            (name,),
        ).fetchall()
    finally:
        db.close()


def test_the_rater_door_lists_only_rater_endpoints(room):
    names = set(rater(room).view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert names and names <= RATER_APIS, names - RATER_APIS
    assert {"/arena_join", "/arena_next", "/arena_vote_a", "/arena_resume"} <= names


def test_admin_endpoints_do_not_answer_on_the_rater_door(room):
    client = rater(room)
    for api_name in ADMIN_APIS:
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own "not found" kinds
            client.predict(api_name=api_name)
    config = httpx.get(room.rate_url + "config", timeout=10).text
    for word in ("arena_create", "arena_delete", "models_add", '"Compare"', '"Models"', *room.labels):
        assert word not in config, word
    for path in ("gradio_api/call/arena_delete", "gradio_api/run/arena_delete"):
        response = httpx.post(room.rate_url + path, json={"data": [room.evaluation_id]}, timeout=10)
        assert response.status_code >= 400, path
    assert room.services.arena.evaluation(room.evaluation_id).name == "room"  # still there


def test_the_facilitator_door_needs_its_login(room):
    assert httpx.get(room.url + "config", timeout=10).status_code == 401
    assert httpx.post(room.url + "gradio_api/call/arena_delete", json={"data": [1]}, timeout=10).status_code == 401
    admin = Client(room.url, auth=ADMIN, verbose=False)
    dropdown, _ = admin.predict(None, api_name="/arena_list")
    assert room.evaluation_id in [value for _, value in dropdown["choices"]]
    assert httpx.get(room.url + "rate", timeout=10, follow_redirects=True).status_code == 200


def test_a_rater_votes_through_blind_and_the_summary_is_right(room):
    client = rater(room)
    battle = client.predict("Rita", room.code, api_name="/arena_join")
    votes, choices = 0, ("a", "b", "tie", "bothbad")
    while True:
        assert "battle" in battle[0] and votes < 50, battle
        assert_blind(room, battle)
        outcome = client.predict("Yes", None, [], "", api_name=f"/arena_vote_{choices[votes % 4]}")
        votes += 1
        if "Your votes" in str(outcome[-1]):  # the last vote: the summary, with the names
            break
        assert_blind(room, outcome)
        battle = client.predict(api_name="/arena_next")
    stored = stored_votes(room, "Rita")
    assert votes == len(stored) == room.services.arena.pregen_status(room.evaluation_id).servable
    summary = outcome[-1]
    for a_label, b_label, _ in stored:
        assert a_label in summary and b_label in summary
    assert summary.count("\n|") >= votes + 1  # a header row and one row a vote


def test_a_second_browser_is_refused_the_name_and_the_first_resumes(room):
    first = rater(room)
    joined = first.predict("Sam", room.code, api_name="/arena_join")
    secret = joined[-1]
    assert isinstance(secret, str) and len(secret) >= 16
    with pytest.raises(AppError, match="already joined as"):
        rater(room).predict(" sam ", room.code, api_name="/arena_join")
    with pytest.raises(AppError, match="already joined as"):
        rater(room).predict("S\u200bam", room.code, api_name="/arena_join")
    reloaded = rater(room)  # the same browser after a reload: a new session holding the secret
    resumed = reloaded.predict(secret, api_name="/arena_resume")
    assert resumed[1] == room.code or "battle" in str(resumed)
    assert [part for part in resumed if isinstance(part, str) and part.startswith("### Prompt")] == [joined[1]]


def test_a_reload_mid_battle_brings_the_same_battle_back(room):
    client = rater(room)
    joined = client.predict("Mo", room.code, api_name="/arena_join")
    client.predict(None, None, [], "", api_name="/arena_vote_a")
    on_screen = client.predict(api_name="/arena_next")
    again = rater(room).predict(joined[-1], api_name="/arena_resume")
    assert on_screen[1] in again and on_screen[2] in again and on_screen[3] in again  # prompt, A, B


def test_a_released_name_can_be_taken_and_closed_voting_refuses_plainly(room):
    arena = room.services.arena
    rater(room).predict("Lee", room.code, api_name="/arena_join")
    arena.release_rater_name(room.evaluation_id, "lee")
    rater(room).predict("Lee", room.code, api_name="/arena_join")
    late = rater(room)
    late.predict("Kai", room.code, api_name="/arena_join")
    arena.set_voting_open(room.evaluation_id, False)
    try:
        with pytest.raises(AppError, match="[Vv]oting is closed"):
            late.predict(None, None, [], "", api_name="/arena_vote_a")
        with pytest.raises(AppError, match="[Vv]oting is closed"):
            rater(room).predict("Newcomer", room.code, api_name="/arena_join")
    finally:
        arena.set_voting_open(room.evaluation_id, True)
    with pytest.raises(AppError, match="No evaluation has the join code"):
        rater(room).predict("Nina", "ZZZZZZ", api_name="/arena_join")


def test_the_room_view_shows_the_join_link_a_qr_code_and_the_tally(room):
    admin = Client(room.url, auth=ADMIN, verbose=False)
    link, qr, status, raters, policy, *_ = admin.predict(room.evaluation_id, api_name="/arena_room")
    assert f"/rate?code={room.code}" in link and room.code in link
    assert qr and Path(qr).stat().st_size > 500  # a PNG of the QR code
    assert "Raters joined" in status and policy == "after_last"
    rater(room).predict("Tally", room.code, api_name="/arena_join")
    status, raters = admin.predict(room.evaluation_id, api_name="/arena_room_status")
    assert "Tally" in [row[0] for row in raters["data"]]
    status, _ = admin.predict(room.evaluation_id, api_name="/arena_close_voting")
    assert "closed" in status
    status, _ = admin.predict(room.evaluation_id, api_name="/arena_open_voting")
    assert "open" in status
