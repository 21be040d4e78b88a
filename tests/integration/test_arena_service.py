"""The Arena service on a real SQLite file with the two real embedded models."""

from __future__ import annotations

import sqlite3

import pytest

from playground.arena.prompts import parse_typed
from playground.errors import InvalidInput, UserFacingError
from playground.models.types import GenerationParams
from playground.services import Services
from playground.settings import Settings
from storage import ArenaVote, ConflictError

pytestmark = pytest.mark.slow
SMOL, GEMMA = "embedded/smollm2-135m-instruct", "embedded/gemma3-270m"
PROMPTS = "Say hello.\nWhat is 2+2?\nName a fruit.\nWhat colour is the sky?\nWrite one word."
PARAMS = GenerationParams(max_tokens=8, temperature=0.0, seed=3)


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    services = Services.create(Settings.from_env(tmp_path_factory.mktemp("arena") / "home"))
    yield services
    services.close()


@pytest.fixture(scope="module")
def ready(services):
    """A 5-prompt evaluation with both embedded models, answers generated."""
    info = services.arena.create_evaluation(
        "five", parse_typed(PROMPTS), [SMOL, GEMMA], PARAMS, repeat_fraction=0.2, seed=11
    )
    services.arena.start_generation(info.id)
    services.arena.jobs.wait(info.id, timeout=300)
    return info


def db(services) -> sqlite3.Connection:
    return sqlite3.connect(services.settings.database_url.removeprefix("sqlite:///"))


def test_pregeneration_records_every_answer_once(services, ready):
    progress = services.arena.pregen_status(ready.id)
    assert (progress.total, progress.done, progress.failed, progress.running) == (10, 10, 0, False)
    assert ready.battles == 6 and progress.servable == 6  # 5 battles + 1 side-swapped repeat
    with db(services) as con:
        kinds = con.execute(
            "SELECT r.kind, COUNT(*), SUM(g.status = 'ok') FROM generations g JOIN runs r ON r.id = g.run_id GROUP BY r.kind"
        ).fetchall()
        assert kinds == [("arena", 10, 10)]
        assert con.execute(
            "SELECT COUNT(*) FROM arena_answers WHERE generation_id IS NOT NULL AND status = 'ok'"
        ).fetchone() == (10,)
    # Resuming has nothing left to do and makes no new generations.
    services.arena.start_generation(ready.id)
    services.arena.jobs.wait(ready.id, timeout=60)
    with db(services) as con:
        assert con.execute("SELECT COUNT(*) FROM generations").fetchone() == (10,)


def test_two_raters_vote_and_every_vote_is_stored_once(services, ready):
    arena = services.arena
    ann, bob = arena.join(ready.join_code.lower(), "Ann"), arena.join(ready.join_code, "Bob")
    # Joining again from the same browser (its secret) is the same rater; from another, refused.
    assert arena.join(ready.join_code, "Ann", secret=ann["secret"])["rater_id"] == ann["rater_id"]
    with pytest.raises(InvalidInput, match="already joined as 'Ann'"):
        arena.join(ready.join_code, "ann")
    seen_by_ann = []
    for session, choice in ((ann, "a"), (bob, "tie")):
        while (battle := arena.next_battle(session)) is not None:
            for text in (battle.prompt, battle.text_a, battle.text_b):
                assert "SmolLM2 135M" not in text and "Gemma 3 270M" not in text
            if session is ann:
                seen_by_ann.append(battle.token)
            reveal = arena.vote(session, battle.token, choice, True, False, ["Clearer"], "note")
            assert not reveal.already_counted
            if not reveal.finished:  # names only after the rater's last battle
                assert reveal.label_a is None and reveal.label_b is None
            again = arena.vote(session, battle.token, "b")  # a double click
            assert again.already_counted and again.winner == choice
        assert reveal.finished and {reveal.label_a, reveal.label_b} == {"SmolLM2 135M Instruct", "Gemma 3 270M (base)"}
    assert len(seen_by_ann) == 6 == len(set(seen_by_ann))
    total, tally = arena.tally(ready.id)
    assert total == 12 and [(t.rater, t.votes) for t in tally] == [("Ann", 6), ("Bob", 6)]
    with db(services) as con:
        assert con.execute("SELECT winner, COUNT(*) FROM arena_votes GROUP BY winner ORDER BY winner").fetchall() == [
            ("a", 6),
            ("tie", 6),
        ]
    agreement = arena.agreement(ready.id)
    assert agreement.pairs[0].shared == 5 and agreement.pairs[0].agreement == 0.0
    ann_stats = next(r for r in agreement.raters if r.rater == "Ann")
    assert ann_stats.left_rate == 1.0 and ann_stats.repeats == 1 and ann_stats.self_consistency == 0.0
    board = arena.leaderboard(ready.id)
    assert board.votes_used == 10 and {r.name for r in board.rows} == {"SmolLM2 135M Instruct", "Gemma 3 270M (base)"}
    assert all(r.latency_s is not None and (r.cost_usd, r.cost_source) == (0.0, "local") for r in board.rows)


def test_database_allows_one_vote_per_rater_per_battle(services, ready):
    arena = services.arena
    session = arena.join(ready.join_code, "Cy")
    battle = arena.next_battle(session)
    with services.uow_factory() as uow:
        battle_id = uow.arena.battle_by_token(battle.token).id
    with pytest.raises(ConflictError):
        with services.uow_factory() as uow:
            uow.arena.add_all(
                [
                    ArenaVote(battle_id=battle_id, rater_id=session["rater_id"], winner=w, reasons=[], comment="")
                    for w in ("a", "b")
                ]
            )


def test_export_import_report_and_delete(services, ready, tmp_path):
    arena = services.arena
    jsonl = arena.export_votes(ready.id, "jsonl")
    assert jsonl.read_text().count("\n") >= 12 and '"winner": "tie"' in jsonl.read_text()
    imported = arena.import_votes(arena.export_votes(ready.id, "csv"), "copy of five")
    assert arena.tally(imported.id)[0] == arena.tally(ready.id)[0]
    md, page = arena.write_report(ready.id)
    assert "## Rater agreement" in md.read_text() and "plotly" in page.read_text()
    session = arena.join(ready.join_code, "Dee")
    battle = arena.next_battle(session)
    arena.delete_evaluation(imported.id)
    with pytest.raises(InvalidInput, match="No evaluation has the join code"):
        arena.join("NOPE42", "Eve")
    temp = arena.create_evaluation("temporary", parse_typed("a\nb"), [SMOL, GEMMA], PARAMS)
    temp_session = arena.join(temp.join_code, "Fay")
    arena.delete_evaluation(temp.id)
    with pytest.raises(InvalidInput, match="no longer exists"):
        arena.vote(temp_session, battle.token, "a")
    with pytest.raises(InvalidInput, match="no longer exists"):
        arena.vote(session, "not-a-battle", "a")


@pytest.mark.parametrize(
    "models, prompts, message",
    [
        ([SMOL], "a\nb", "at least two different models"),
        ([SMOL, SMOL], "a\nb", "at least two different models"),
        ([SMOL, "embedded/nope"], "a", "no longer available"),
    ],
)
def test_bad_setups_are_refused_and_store_nothing(services, models, prompts, message):
    with pytest.raises(UserFacingError, match=message):
        services.arena.create_evaluation("bad", parse_typed(prompts), models, PARAMS)
    with db(services) as con:
        assert con.execute("SELECT COUNT(*) FROM arena_evaluations WHERE name = 'bad'").fetchone() == (0,)


def test_failing_model_is_held_back_while_the_rest_go_on(services):
    dead = services.models.add_endpoint("Dead endpoint", "http://127.0.0.1:9/v1", "nothing")
    info = services.arena.create_evaluation(
        "with a broken model", parse_typed("Hi.\nBye."), [SMOL, dead.key, GEMMA], PARAMS, repeat_fraction=0, seed=2
    )
    services.arena.start_generation(info.id)
    services.arena.jobs.wait(info.id, timeout=300)
    progress = services.arena.pregen_status(info.id)
    statuses = {label: status for label, status, _ in progress.contestants}
    assert statuses == {"SmolLM2 135M Instruct": "ok", "Dead endpoint": "failed", "Gemma 3 270M (base)": "ok"}
    assert progress.done == 4 and progress.failed == 2
    assert progress.servable == 2  # only the SmolLM2-vs-Gemma battles; the 4 with the dead model wait
    session = services.arena.join(info.join_code, "Gus")
    while (battle := services.arena.next_battle(session)) is not None:
        services.arena.vote(session, battle.token, "b")
    summary = services.arena.rater_summary(session)  # a failed model does not keep the rater from finishing
    shown = {label for row in summary.rows for label in (row.label_a, row.label_b)}
    assert summary.available and shown == {"SmolLM2 135M Instruct", "Gemma 3 270M (base)"}


def test_generation_can_be_cancelled_and_resumed(services):
    info = services.arena.create_evaluation(
        "cancel me", parse_typed("One.\nTwo.\nThree."), [SMOL, GEMMA], PARAMS, seed=4
    )
    services.arena.start_generation(info.id)
    assert "already" in services.arena.start_generation(info.id)
    services.arena.cancel_generation(info.id)
    services.arena.jobs.wait(info.id, timeout=120)
    assert services.arena.pregen_status(info.id).done < 6
    services.arena.start_generation(info.id)
    services.arena.jobs.wait(info.id, timeout=300)
    progress = services.arena.pregen_status(info.id)
    assert (progress.done, progress.total, progress.servable) == (6, 6, 4)  # 3 battles + 1 repeat


def test_answers_naming_a_model_are_redacted_or_excluded(services, ready):
    arena = services.arena
    info = arena.create_evaluation("leaky", parse_typed("x\ny"), [SMOL, GEMMA], PARAMS, repeat_fraction=0, seed=5)
    with services.uow_factory() as uow:  # stand-in answers, so the test does not depend on what the models say
        for answer in uow.arena.answers(info.id):
            answer.status, answer.text = (
                "ok",
                "Hello from Gemma by Google." if answer.contestant_id % 2 else "Plain answer.",
            )
    assert "2 answer(s) name a model" in arena.set_leak_policy(info.id, "redact")
    session = arena.join(info.join_code, "Hal")
    battle = arena.next_battle(session)
    assert "[model]" in battle.text_a + battle.text_b and "Gemma" not in battle.text_a + battle.text_b
    arena.set_leak_policy(info.id, "exclude")
    assert arena.next_battle(session) is None and arena.pregen_status(info.id).servable == 0
