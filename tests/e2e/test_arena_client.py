"""The Arena in the real app, driven through gradio_client: an admin sets up a 5-prompt
evaluation with both embedded models, a rater votes; nothing names a model before the rater's
last vote (the default reveal policy), and the summary after it names the models of each vote."""

from __future__ import annotations

import sqlite3
import time

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError, ValidationError

pytestmark = pytest.mark.slow
SMOL, GEMMA = "embedded/smollm2-135m-instruct", "embedded/gemma3-270m"
NAMES = ("SmolLM2 135M Instruct", "Gemma 3 270M (base)", SMOL, GEMMA, "smollm", "gemma")
PROMPTS = "Say hello.\nWhat is 2+2?\nName a fruit.\nWhat colour is the sky?\nWrite one word."


def create(client, name, prompts=PROMPTS, models=(SMOL, GEMMA), repeats=0.2):
    return client.predict(
        name, prompts, None, list(models), 8, 0.0, 7, "", "", "redact", repeats, 0, api_name="/arena_create"
    )


def assert_blind(response) -> None:
    text = str(response).lower()
    for name in NAMES:
        assert name.lower() not in text, f"{name!r} reached the rater before the vote: {response!r}"


@pytest.fixture(scope="module")
def evaluation(client):
    dropdown, info = create(client, "e2e five prompts")
    evaluation_id = dropdown["value"]
    client.predict(evaluation_id, api_name="/arena_generate")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        progress, _tally, _flagged, setup_progress = client.predict(evaluation_id, api_name="/arena_progress")
        assert setup_progress == progress  # the same progress shows on Set up, where Generate was pressed
        if "all answers ready" in progress:
            break
        time.sleep(1)
    else:
        pytest.fail(f"pre-generation did not finish: {progress}")
    code = info.split("`")[1]
    return evaluation_id, code


def test_a_rater_completes_every_battle_blind_until_the_last_vote(evaluation, running_app):
    evaluation_id, code = evaluation
    rater = Client(running_app.url, verbose=False)
    joined = rater.predict("Rita", code, api_name="/arena_join")
    db = sqlite3.connect(running_app.data_dir / "playground.db")
    votes = 0
    battle = joined
    while True:
        assert "battle" in battle[0] and votes < 10, battle[0]
        assert_blind(battle)
        status, prompt, text_a, text_b = battle[:4]
        assert prompt.startswith("### Prompt") and (text_a or text_b)
        outcome = rater.predict("Yes", "No", ["Clearer"], "", api_name="/arena_vote_a")
        votes += 1
        again = rater.predict("Yes", "No", [], "", api_name="/arena_vote_b")  # a double click
        assert "already been counted" in again[0]
        if "Your votes" in outcome[-1]:
            break
        assert_blind(outcome)
        assert_blind(again)
        assert outcome[0].startswith("### Voted: A is better")
        battle = rater.predict(api_name="/arena_next")
    assert votes == 6  # 5 battles + 1 side-swapped repeat
    # The summary names the very models behind A and B of each battle, as stored.
    stored = db.execute(
        "SELECT ca.label, cb.label FROM arena_votes v JOIN arena_raters r ON r.id = v.rater_id "
        "JOIN arena_battles b ON b.id = v.battle_id JOIN arena_answers aa ON aa.id = b.answer_a_id "
        "JOIN arena_answers ab ON ab.id = b.answer_b_id JOIN arena_contestants ca ON ca.id = aa.contestant_id "
        "JOIN arena_contestants cb ON cb.id = ab.contestant_id WHERE r.name = 'Rita' ORDER BY v.id"
    ).fetchall()
    summary_rows = [line for line in outcome[-1].splitlines() if line.startswith("| ") and "**" in line]
    assert len(summary_rows) == 6
    for row, (a_label, b_label) in zip(summary_rows, stored):
        assert f"**{a_label}** | **{b_label}**" in row
    rows = db.execute(
        "SELECT v.winner, v.acceptable_a, v.acceptable_b, v.reasons FROM arena_votes v JOIN arena_raters r ON r.id = v.rater_id WHERE r.name = 'Rita'"
    ).fetchall()
    db.close()
    assert len(rows) == 6 and all(row[:3] == ("a", 1, 0) and "Clearer" in row[3] for row in rows)
    board = rater.predict(evaluation_id, api_name="/arena_leaderboard")
    assert {row[1] for row in board[1]["data"]} == {"SmolLM2 135M Instruct", "Gemma 3 270M (base)"}
    assert (
        "Automatic judge:** not run on this evaluation yet" in board[0]
    )  # the judge's agreement sits beside the board


def test_bad_input_gets_plain_messages(client, evaluation, running_app):
    # Told from the form alone: refused by the event's validator, before anything runs.
    with pytest.raises(ValidationError, match="at least two different models"):
        create(client, "one model", models=(SMOL,))
    with pytest.raises(ValidationError, match="duplicate prompts"):
        create(client, "dupes", prompts="Same\nsame")
    with pytest.raises(ValidationError, match="Give the evaluation a name"):
        create(client, "  ")
    with pytest.raises(ValidationError, match="Choose a vote file to import first"):
        client.predict(None, "", api_name="/arena_import")
    rater = Client(running_app.url, verbose=False)
    with pytest.raises(AppError, match="No evaluation has the join code"):
        rater.predict("Nina", "ZZZZZZ", api_name="/arena_join")
    with pytest.raises(ValidationError, match="Type the join code"):
        rater.predict("Nina", "  ", api_name="/arena_join")
    with pytest.raises(ValidationError, match="Type your name"):
        rater.predict("\u200b ", "ZZZZZZ", api_name="/arena_join")  # a zero-width space is no name
    with pytest.raises(AppError, match="There is no battle on screen"):
        rater.predict(None, None, [], "", api_name="/arena_vote_tie")
    # A rater holding a battle of an evaluation that is then deleted.
    dropdown, info = create(client, "short lived", prompts="x\ny", repeats=0)
    gone = Client(running_app.url, verbose=False)
    gone.predict("Otto", info.split("`")[1], api_name="/arena_join")
    client.predict(dropdown["value"], api_name="/arena_delete")
    with pytest.raises(AppError, match="no longer exists"):
        gone.predict(api_name="/arena_next")
