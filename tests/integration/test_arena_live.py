"""Live battles on a real SQLite file with the two real embedded models (and a dead endpoint)."""

from __future__ import annotations

import sqlite3
import string

import pytest

from playground.arena import live
from playground.arena.live import shown_while_streaming
from playground.arena.prompts import parse_typed
from playground.errors import InvalidInput
from playground.models.types import GenerationParams
from playground.services import Services
from playground.settings import Settings
from tests.integration.servers import free_port

pytestmark = pytest.mark.slow
SMOL, GEMMA = "embedded/smollm2-135m-instruct", "embedded/gemma3-270m"
LABELS = {"SmolLM2 135M Instruct", "Gemma 3 270M (base)"}
NAMES = ("smollm", "gemma", SMOL, GEMMA, "dead endpoint", "entry/")
PARAMS = GenerationParams(max_tokens=16, temperature=0.0, seed=5)


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    services = Services.create(Settings.from_env(tmp_path_factory.mktemp("arena-live") / "home"))
    yield services
    services.close()


def db(services) -> sqlite3.Connection:
    return sqlite3.connect(services.settings.database_url.removeprefix("sqlite:///"))


def assert_blind(view) -> None:
    text = repr(view).lower()
    for name in NAMES:
        assert name.lower() not in text, f"{name!r} reached the rater before the vote: {view!r}"


def ask(arena, session, prompt):
    views = list(arena.ask_live(session, prompt))
    for view in views:
        assert_blind(view)
    assert views and all(not v.finished and v.token is None for v in views[:-1]) and views[-1].finished
    return views


def test_streamed_text_holds_back_a_word_that_may_still_name_a_model():
    words = ["Gemma", "Hugging Face", "Google"]
    assert shown_while_streaming("I am Gem", words) == "I am "
    assert shown_while_streaming("I am Gemma ", words) == "I am [model] "
    assert shown_while_streaming("Made by Hugging ", words) == "Made by "
    assert shown_while_streaming("Made by Hugging Face, in ", words) == "Made by [model], in "
    assert shown_while_streaming("Hello there", words) == "Hello "
    assert shown_while_streaming("Go", words) == ""


def test_a_live_battle_streams_blind_and_its_vote_counts(services):
    arena = services.arena
    info = arena.create_evaluation("live one", [], [SMOL, GEMMA], PARAMS, mode="live", seed=1)
    assert info.mode == "live" and info.battles == 0
    session = arena.join(info.join_code, "Lee")
    assert arena.live_enabled(session) and arena.next_battle(session) is None
    views = ask(arena, session, "  Say hello in three words.  ")
    final = views[-1]
    assert final.token and final.message.startswith(live.READY) and (final.text_a or final.text_b)
    assert views[0].text_a == views[0].text_b == ""  # voting is locked while they answer
    assert all(v.text_a == v.text_b == "" for v in views[:-1])  # shown together, once both have finished
    # Another rater of the evaluation is never served this rater's live battle.
    other = arena.join(info.join_code, "Max")
    assert arena.next_battle(other) is None
    with pytest.raises(InvalidInput, match="no longer exists"):
        arena.vote(
            arena.join(arena.create_evaluation("elsewhere", [], [SMOL, GEMMA], PARAMS, mode="live").join_code, "Zed"),
            final.token,
            "a",
        )

    reveal = arena.vote(session, final.token, "b", True, None, ["Clearer"], "")
    assert not reveal.already_counted and {reveal.label_a, reveal.label_b} == LABELS
    assert arena.vote(session, final.token, "a").already_counted  # a double click: the first vote stands
    with db(services) as con:
        row = con.execute(
            "SELECT p.source, p.text, ca.label, cb.label, v.winner, aa.generation_id IS NOT NULL, ab.generation_id IS NOT NULL "
            "FROM arena_votes v JOIN arena_battles b ON b.id = v.battle_id JOIN arena_prompts p ON p.id = b.prompt_id "
            "JOIN arena_answers aa ON aa.id = b.answer_a_id JOIN arena_answers ab ON ab.id = b.answer_b_id "
            "JOIN arena_contestants ca ON ca.id = aa.contestant_id JOIN arena_contestants cb ON cb.id = ab.contestant_id "
            "WHERE b.token = ?",
            (final.token,),
        ).fetchall()
    assert row == [("live", "Say hello in three words.", reveal.label_a, reveal.label_b, "b", 1, 1)]
    board = arena.leaderboard(info.id)
    assert board.votes_used == 1 and {r.name for r in board.rows} == LABELS
    assert (
        arena.tally(info.id)[0] == 1 and arena.pregen_status(info.id).total == 0
    )  # live answers are not pre-generation


def test_exclude_discards_a_live_pair_that_names_a_model_and_redact_blacks_it_out(services):
    arena = services.arena
    info = arena.create_evaluation("live leaks", [], [SMOL, GEMMA], PARAMS, mode="live", seed=2)
    session = arena.join(info.join_code, "Ada")
    every_word = ",".join(string.ascii_letters + string.digits)  # makes every answer "name a model"
    arena.set_leak_policy(info.id, "exclude", every_word)
    final = ask(arena, session, "Name three colours.")[-1]
    assert final.token is None and final.message == live.EXCLUDED
    assert live.EXCLUDED_TEXT in (final.text_a, final.text_b)
    arena.set_leak_policy(info.id, "redact")
    views = ask(arena, session, "Name three colours.")
    assert views[-1].token and "[model]" in views[-1].text_a + views[-1].text_b
    assert all(not any(c.isalpha() for c in (v.text_a + v.text_b).replace("[model]", "")) for v in views)
    with db(services) as con:  # only the redacted pair became a battle
        assert con.execute("SELECT COUNT(*) FROM arena_battles WHERE evaluation_id = ?", (info.id,)).fetchone() == (1,)


def test_a_failing_model_shows_a_plain_message_and_cannot_be_voted(services):
    arena = services.arena
    dead = services.models.add_endpoint("Dead endpoint", f"http://127.0.0.1:{free_port()}/v1", "none")
    info = arena.create_evaluation("live dead", [], [dead.key, SMOL], PARAMS, mode="live", seed=3)
    session = arena.join(info.join_code, "Bo")
    final = ask(arena, session, "What is 2+2?")[-1]
    assert final.token is None and final.message == live.FAILED and live.FAILED_TEXT in (final.text_a, final.text_b)
    with db(services) as con:
        statuses = con.execute(
            "SELECT a.status FROM arena_answers a JOIN arena_prompts p ON p.id = a.prompt_id WHERE p.evaluation_id = ? ORDER BY a.status",
            (info.id,),
        ).fetchall()
        assert statuses == [("error",), ("ok",)]
        assert con.execute("SELECT COUNT(*) FROM arena_battles WHERE evaluation_id = ?", (info.id,)).fetchone() == (0,)


def test_bad_live_input_gets_plain_messages(services):
    arena = services.arena
    info = arena.create_evaluation("live bad", [], [SMOL, GEMMA], PARAMS, mode="live", seed=4)
    session = arena.join(info.join_code, "Cy")
    with pytest.raises(InvalidInput, match="Type a prompt"):
        list(arena.ask_live(session, "   "))
    with pytest.raises(InvalidInput, match="Join first"):
        list(arena.ask_live(None, "hello"))
    with pytest.raises(InvalidInput, match="No evaluation has the join code"):
        arena.join("ZZZZZZ", "Cy")
    fixed = arena.create_evaluation("prompt set only", parse_typed("Hi\nBye"), [SMOL, GEMMA], PARAMS, seed=5)
    fixed_session = arena.join(fixed.join_code, "Cy")
    assert not arena.live_enabled(fixed_session)
    with pytest.raises(InvalidInput, match="Live prompts are off"):
        list(arena.ask_live(fixed_session, "hello"))
    assert "Live prompts are on" in arena.set_live_mode(fixed.id, True) and arena.live_enabled(fixed_session)
    with db(services) as con:  # one model vanishes from the registry: fewer than two can answer
        con.execute(
            "UPDATE arena_contestants SET model_key = 'local//nowhere/gone.gguf' WHERE evaluation_id = ? AND position = 0",
            (info.id,),
        )
    with pytest.raises(InvalidInput, match="fewer than two working models"):
        list(arena.ask_live(session, "hello"))
    with db(services) as con:
        assert con.execute("SELECT COUNT(*) FROM arena_prompts WHERE evaluation_id = ?", (info.id,)).fetchone() == (0,)
