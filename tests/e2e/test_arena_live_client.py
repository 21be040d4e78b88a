"""Live mode in the real app, through gradio_client: a rater asks their own prompt, two
anonymous models stream side by side, voting unlocks when both finish, the vote reveals the
models and counts in the leaderboard. Nothing before the vote names a model."""

from __future__ import annotations

import sqlite3
import time

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError, ValidationError

pytestmark = pytest.mark.slow
SMOL, GEMMA = "embedded/smollm2-135m-instruct", "embedded/gemma3-270m"
LABELS = {"SmolLM2 135M Instruct", "Gemma 3 270M (base)"}
NAMES = ("smollm", "gemma", SMOL, GEMMA, "embedded/")


def create(client, name, prompts="", live=True):
    return client.predict(
        name, prompts, None, [SMOL, GEMMA], 16, 0.0, 7, "", "", "redact", 0, 0, live, api_name="/arena_create"
    )


def assert_blind(response) -> None:
    text = str(response).lower()
    for name in NAMES:
        assert name.lower() not in text, f"{name!r} reached the rater before the vote: {response!r}"


def test_a_rater_asks_a_live_prompt_votes_blind_and_the_vote_counts(client, running_app):
    dropdown, info = create(client, "e2e live")
    evaluation_id, code = dropdown["value"], info.split("`")[1]
    assert "live prompts **on**" in info
    rater = Client(running_app.url, verbose=False)
    joined = rater.predict("Liv", code, api_name="/arena_join")
    assert_blind(joined)
    assert "every battle" in joined[0]  # a live-only evaluation has no prepared battles

    job = rater.submit("Say hello in three words.", api_name="/arena_live_ask")
    while not job.outputs() and not job.done():
        time.sleep(0.01)
    try:  # while the models answer there is no battle to vote on (the token exists only at the end)
        rater.predict("Yes", None, ["Clearer"], "", api_name="/arena_vote_a")
        early_vote = True
    except AppError as err:
        assert "There is no battle on screen" in str(err)
        early_vote = False
    final = job.result(timeout=120)
    updates = job.outputs()
    assert tuple(updates[-1]) == tuple(final)
    if early_vote:  # only when both answers were already in at that moment (a very fast machine)
        assert len(updates) >= 1 and final[0].startswith("Both answers are in")
    for update in updates:
        assert_blind(update)
    for update in updates[:-1]:  # both answers are shown together once both finished (the default)
        assert update[0].startswith("Both models are answering") and update[2] == update[3] == ""
    assert (
        final[0].startswith("Both answers are in") and final[1].startswith("### Your prompt") and (final[2] or final[3])
    )

    revealed = rater.predict("Yes", None, ["Clearer"], "", api_name="/arena_vote_a")
    reveal_text = revealed[0] if isinstance(revealed, (list, tuple)) else revealed
    db = sqlite3.connect(running_app.data_dir / "playground.db")
    stored = db.execute(
        "SELECT ca.label, cb.label, v.winner, p.source FROM arena_votes v JOIN arena_raters r ON r.id = v.rater_id "
        "JOIN arena_battles b ON b.id = v.battle_id JOIN arena_prompts p ON p.id = b.prompt_id "
        "JOIN arena_answers aa ON aa.id = b.answer_a_id JOIN arena_answers ab ON ab.id = b.answer_b_id "
        "JOIN arena_contestants ca ON ca.id = aa.contestant_id JOIN arena_contestants cb ON cb.id = ab.contestant_id "
        "WHERE r.name = 'Liv' AND r.evaluation_id = ?",
        (evaluation_id,),
    ).fetchall()
    db.close()
    assert len(stored) == 1 and stored[0][2:] == ("a", "live") and set(stored[0][:2]) == LABELS
    assert f"**A** was **{stored[0][0]}** · **B** was **{stored[0][1]}**" in reveal_text
    again = rater.predict("Yes", None, [], "", api_name="/arena_vote_b")  # a double click
    assert "already been counted" in (again[0] if isinstance(again, (list, tuple)) else again)

    board = client.predict(evaluation_id, api_name="/arena_leaderboard")
    assert {row[1] for row in board[1]["data"]} == LABELS and board[0].startswith(
        "1 vote cast; all count for the ratings"
    )


def test_live_bad_input_gets_plain_messages(client, running_app):
    dropdown, info = create(client, "e2e not live", prompts="Hi\nBye", live=False)
    rater = Client(running_app.url, verbose=False)
    with pytest.raises(AppError, match="Join first"):
        rater.predict("hello", api_name="/arena_live_ask")
    with pytest.raises(AppError, match="No evaluation has the join code"):
        rater.predict("Kim", "ZZZZZZ", api_name="/arena_join")
    rater.predict("Kim", info.split("`")[1], api_name="/arena_join")
    with pytest.raises(AppError, match="Live prompts are off"):
        rater.predict("hello", api_name="/arena_live_ask")
    with pytest.raises(AppError, match="Type a prompt first"):  # nothing asked yet: the service's sentence
        rater.predict(api_name="/arena_live_retry")
    assert "live prompts **on**" in client.predict(dropdown["value"], True, api_name="/arena_live_mode")
    with pytest.raises(ValidationError, match="Type a prompt"):  # refused by the Ask's validator
        rater.predict("   ", api_name="/arena_live_ask")
