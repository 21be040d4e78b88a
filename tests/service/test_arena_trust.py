"""An Arena a room can trust (issue 17), on real SQLite with the scripted fake backend:
blind until the rater is done, raters who are who they say, open/closed voting, routing,
the facilitator's tally, live caps and live answers shown together."""

from __future__ import annotations

import threading

import pytest

from playground.arena import live, reveal
from playground.arena.prompts import parse_typed
from playground.arena.service import WINNERS
from playground.errors import GenerationError, InvalidInput, UserFacingError
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.types import GenerationParams

PROMPTS = "Name a fruit.\nWhat is 2+2?\nDescribe rain."
PARAMS = GenerationParams(max_tokens=32, temperature=0.0, seed=3)
STYLES = {SMOLLM2_KEY: "briefly", GEMMA3_KEY: "at length"}


def plain_answer(spec, messages):
    """Each model answers in its own words, naming no model, so texts can be told apart only by content."""
    if spec.name.startswith("Broken"):
        raise GenerationError("this endpoint is down")
    prompt = messages[-1]["content"]
    style = STYLES.get(spec.key, "in a third way")
    return f"Answering {style}, {len(prompt)} characters asked: {prompt}"


@pytest.fixture
def arena_services(make_services):
    return make_services(script=plain_answer)


@pytest.fixture
def three_models(arena_services):
    third = arena_services.models.add_endpoint("Third endpoint", "http://127.0.0.1:9/v1", "third-remote-model")
    return [SMOLLM2_KEY, GEMMA3_KEY, third.key]


def identities(services, keys) -> list[str]:
    """Everything that would name a contestant: labels, keys, remote model names."""
    specs = [services.models.registry.get_spec(k) for k in keys]
    return [w for s in specs for w in (s.name, s.key, s.remote_model) if w]


def make_ready(services, keys, name="room", **options):
    info = services.arena.create_evaluation(name, parse_typed(PROMPTS), keys, PARAMS, seed=7, **options)
    services.arena.start_generation(info.id)
    services.arena.jobs.wait(info.id, timeout=30)
    assert services.arena.pregen_status(info.id).done == services.arena.pregen_status(info.id).total
    return info


def battle_meta(services, evaluation_id):
    """token -> (battle id, repeat_of id, label A, label B), read as the facilitator could."""
    with services.uow_factory() as uow:
        labels = {c.id: c.label for c in uow.arena.contestants(evaluation_id)}
        answers = {a.id: labels[a.contestant_id] for a in uow.arena.answers(evaluation_id)}
        return {
            b.token: (b.id, b.repeat_of_id, answers[b.answer_a_id], answers[b.answer_b_id])
            for b in uow.arena.battles(evaluation_id)
        }


def assert_blind(value, names) -> None:
    text = repr(value).lower()
    for name in names:
        assert name.lower() not in text, f"{name!r} reached the rater too early: {value!r}"


def rate_all(arena, session, choose=lambda view: "a"):
    """Vote on every battle served; returns [(view, reveal)] in order."""
    done = []
    while (view := arena.next_battle(session)) is not None:
        done.append((view, arena.vote(session, view.token, choose(view))))
    return done


# ---- 1. reveal policy ----------------------------------------------------------------------
def test_a_rater_sees_no_name_before_their_last_vote_and_a_right_summary_after(arena_services, three_models):
    arena = arena_services.arena
    info = make_ready(arena_services, three_models, repeat_fraction=0.3)
    assert info.reveal_policy == "after_last" and info.battles == 9 + 3  # 3 prompts x 3 pairs, 3 repeats
    names = identities(arena_services, three_models)
    meta = battle_meta(arena_services, info.id)
    session = arena.join(info.join_code, "Ana")
    assert_blind(session, names)
    served, votes = [], {}
    while (view := arena.next_battle(session)) is not None:
        assert_blind(view, names)
        assert arena.next_battle(session).token == view.token  # a reload mid-battle: the same battle comes back
        choice = "ab"[len(served) % 2]
        result = arena.vote(session, view.token, choice)
        served.append(view.token)
        votes[view.token] = choice
        if len(served) < info.battles:
            assert_blind(result, names)
            assert not result.revealed and not result.finished and result.label_a is None
            assert result.message == reveal.HIDDEN_UNTIL_LAST
            assert not arena.rater_summary(session).available
    assert len(served) == len(set(served)) == 12
    assert result.finished and result.revealed and result.message == reveal.FINISHED
    assert (result.label_a, result.label_b) == meta[served[-1]][2:]
    # No repeat is served right after its original.
    ids = [meta[t][0] for t in served]
    for before, after in zip(served, served[1:]):
        assert meta[after][1] != meta[before][0]
    assert {meta[t][1] for t in served if meta[t][1]} <= set(ids)

    summary = arena.rater_summary(session)
    assert summary.available and summary.names_shown and len(summary.rows) == 12
    for row, token in zip(summary.rows, served):
        assert (row.label_a, row.label_b) == meta[token][2:]
        assert row.winner == votes[token] and row.choice == WINNERS[row.winner]
        assert row.repeat == (meta[token][1] is not None) and not row.live
    # Finished under "after_last": nothing more is served, and a stale battle cannot be voted again.
    assert arena.next_battle(session) is None
    assert arena.vote(session, served[0], "b").already_counted


def test_repeats_are_spaced_for_every_rater(arena_services, three_models):
    arena = arena_services.arena
    info = make_ready(arena_services, three_models, repeat_fraction=0.5)
    meta = battle_meta(arena_services, info.id)
    for n in range(6):
        session = arena.join(info.join_code, f"Rater {n}")
        tokens = [view.token for view, _ in rate_all(arena, session)]
        assert len(tokens) == info.battles
        for before, after in zip(tokens, tokens[1:]):
            assert meta[after][1] != meta[before][0], f"rater {n}: a repeat came right after its original"


def test_a_failed_model_does_not_keep_raters_from_finishing(arena_services):
    arena = arena_services.arena
    broken = arena_services.models.add_endpoint("Broken endpoint", "http://127.0.0.1:9/v1", "m")
    info = arena.create_evaluation(
        "with a broken model", parse_typed(PROMPTS), [SMOLLM2_KEY, GEMMA3_KEY, broken.key], PARAMS, repeat_fraction=0
    )
    arena.start_generation(info.id)
    arena.jobs.wait(info.id, timeout=30)
    assert arena.pregen_status(info.id).servable == 3  # only SmolLM2 against Gemma
    session = arena.join(info.join_code, "Gus")
    results = rate_all(arena, session)
    assert len(results) == 3 and results[-1][1].finished and results[-1][1].revealed
    summary = arena.rater_summary(session)
    labels = {label for row in summary.rows for label in (row.label_a, row.label_b)}
    assert summary.available and labels == {"SmolLM2 135M Instruct", "Gemma 3 270M (base)"}


def test_never_keeps_names_from_the_rater_even_in_the_summary(arena_services):
    arena = arena_services.arena
    info = make_ready(arena_services, [SMOLLM2_KEY, GEMMA3_KEY], reveal_policy="never", repeat_fraction=0)
    session = arena.join(info.join_code, "Nev")
    results = rate_all(arena, session)
    assert all(not r.revealed and r.label_a is None for _, r in results) and results[-1][1].finished
    assert results[-1][1].message == reveal.FINISHED_NEVER
    summary = arena.rater_summary(session)
    assert summary.available and not summary.names_shown and all(r.label_a is None for r in summary.rows)
    assert {r.name for r in arena.leaderboard(info.id).rows} == {"SmolLM2 135M Instruct", "Gemma 3 270M (base)"}


def test_after_each_is_refused_where_an_answer_returns_and_allowed_where_none_does(arena_services, three_models):
    arena = arena_services.arena
    problem = arena.new_reveal_policy_problem("after_each", prompts=3, models=3)
    assert problem and "more than one battle" in problem
    assert "sides swapped" in arena.new_reveal_policy_problem(
        "after_each", prompts=3, models=3, pairs_per_prompt=1, repeat_fraction=0.2
    )
    assert arena.new_reveal_policy_problem("after_each", prompts=3, models=3, pairs_per_prompt=1) is None
    assert arena.new_reveal_policy_problem("after_each", prompts=0, models=3, mode="live") is None
    with pytest.raises(UserFacingError, match="would give later battles away"):
        arena.create_evaluation("unsafe", parse_typed(PROMPTS), three_models, PARAMS, reveal_policy="after_each")
    assert arena.list_evaluations() == []

    info = make_ready(arena_services, three_models, repeat_fraction=0)
    with pytest.raises(InvalidInput, match="would give later battles away"):
        arena.set_reveal_policy(info.id, "after_each")
    with pytest.raises(InvalidInput, match="Choose when raters see"):
        arena.set_reveal_policy(info.id, "sometimes")
    assert arena.evaluation(info.id).reveal_policy == "after_last"

    safe = make_ready(
        arena_services,
        three_models,
        name="one pair each",
        pairs_per_prompt=1,
        repeat_fraction=0,
        reveal_policy="after_each",
    )
    session = arena.join(safe.join_code, "Eve")
    results = rate_all(arena, session)
    assert len(results) == 3 and all(r.revealed and r.label_a and r.label_b for _, r in results)


# ---- 2. raters are sessions ------------------------------------------------------------------
def test_a_name_belongs_to_the_browser_holding_its_secret(arena_services):
    arena = arena_services.arena
    info = make_ready(arena_services, [SMOLLM2_KEY, GEMMA3_KEY], repeat_fraction=0)
    ana = arena.join(info.join_code, "Ana")
    assert ana["secret"] and len(ana["secret"]) >= 40
    with arena_services.uow_factory() as uow:  # only a hash of the secret is stored
        stored = uow.arena.get_rater(ana["rater_id"])
        assert stored.secret_hash and ana["secret"] not in stored.secret_hash and stored.name_key == "ana"
    first = arena.next_battle(ana)
    for typed in ("Ana", " ana ", "A\u200bna", "ANA", "Ａｎａ"):  # one rater, however it is typed
        with pytest.raises(InvalidInput, match="already joined as 'Ana' from another browser"):
            arena.join(info.join_code, typed)
    again = arena.join(info.join_code, " ana ", secret=ana["secret"])  # the same browser, after a reload
    assert again["rater_id"] == ana["rater_id"] and arena.next_battle(again).token == first.token
    assert arena.resume(ana["secret"])["rater_id"] == ana["rater_id"]
    assert arena.resume("not-a-secret") is None and arena.resume("") is None
    with pytest.raises(InvalidInput, match="already joined"):
        arena.join(info.join_code, "Ana", secret="a guessed secret")

    # The facilitator releases the name: the next joiner takes the rater over, the old browser stops.
    arena.vote(ana, first.token, "a")
    assert "Released the name 'Ana'" in arena.release_rater_name(info.id, "  ANA ")
    with pytest.raises(InvalidInput, match="released the name"):
        arena.next_battle(ana)
    assert arena.resume(ana["secret"]) is None
    taken = arena.join(info.join_code, "ana")
    assert taken["rater_id"] == ana["rater_id"] and taken["secret"] != ana["secret"]
    assert arena.next_battle(taken).token != first.token  # continues after the vote already cast
    with pytest.raises(InvalidInput, match="already joined"):
        arena.join(info.join_code, "Ana", secret=ana["secret"])
    with pytest.raises(InvalidInput, match="No rater named 'Bob'"):
        arena.release_rater_name(info.id, "Bob")
    assert [(t.rater, t.votes) for t in arena.tally(info.id)[1]] == [("Ana", 1)]


def test_a_login_is_the_identity(arena_services):
    arena = arena_services.arena
    info = make_ready(arena_services, [SMOLLM2_KEY, GEMMA3_KEY], repeat_fraction=0)
    first = arena.join(info.join_code, "typed", username="rita")
    assert first["name"] == "rita" and first["secret"] is None
    assert arena.join(info.join_code, "", username="rita")["rater_id"] == first["rater_id"]
    with pytest.raises(InvalidInput, match="already joined as 'rita'"):
        arena.join(info.join_code, "Rita")  # a typed name cannot take a login's place


def test_a_flood_of_joins_is_refused(arena_services):
    arena = arena_services.arena
    info = make_ready(arena_services, [SMOLLM2_KEY, GEMMA3_KEY], repeat_fraction=0)
    per_address = arena.join_limiter.per_address
    for n in range(per_address):
        arena.join(info.join_code, f"bot {n}", client="10.0.0.9")
    with pytest.raises(InvalidInput, match="Too many joins from your network"):
        arena.join(info.join_code, "bot again", client="10.0.0.9")
    arena.join(info.join_code, "a person", client="10.0.0.10")  # another address still gets in
    with pytest.raises(InvalidInput, match="Too many joins from your network"):
        arena.join("WRONG1", "guessing codes", client="10.0.0.9")
    for n in range(arena.join_limiter.per_code - per_address - 1):
        arena.join(info.join_code, f"crowd {n}", client=f"10.1.{n // 200}.{n % 200}")
    with pytest.raises(InvalidInput, match="Too many joins with this code"):
        arena.join(info.join_code, "one too many", client="10.2.0.1")
    with arena_services.uow_factory() as uow:
        assert len(uow.arena.raters(info.id)) == arena.join_limiter.per_code


# ---- 3. voting open / closed --------------------------------------------------------------
def test_votes_and_joins_after_closing_are_refused_and_not_stored(arena_services):
    arena = arena_services.arena
    info = make_ready(arena_services, [SMOLLM2_KEY, GEMMA3_KEY], repeat_fraction=0)
    session = arena.join(info.join_code, "Cy")
    view = arena.next_battle(session)
    assert "Voting is closed" in arena.set_voting_open(info.id, False)
    assert not arena.evaluation(info.id).voting_open
    with pytest.raises(InvalidInput, match="Voting is closed"):
        arena.vote(session, view.token, "a")
    with pytest.raises(InvalidInput, match="Voting is closed"):
        arena.join(info.join_code, "Dee")
    with pytest.raises(InvalidInput, match="Voting is closed"):
        arena.join(info.join_code, "Cy", secret=session["secret"])
    with pytest.raises(InvalidInput, match="Voting is closed"):
        arena.next_battle(session)
    assert arena.tally(info.id) == (0, arena.tally(info.id)[1]) and arena.room_status(info.id).votes_cast == 0
    arena.set_voting_open(info.id, True)
    assert arena.vote(session, view.token, "a").winner == "a" and arena.tally(info.id)[0] == 1


# ---- 4. the facilitator's tally -----------------------------------------------------------
def test_room_status_counts_raters_votes_and_battles_still_needing_votes(arena_services, three_models):
    arena = arena_services.arena
    info = make_ready(arena_services, three_models, repeat_fraction=0)
    empty = arena.room_status(info.id)
    assert (empty.raters_joined, empty.votes_cast, empty.battles, empty.battles_needing_votes) == (0, 0, 9, 0)
    ann, bob = arena.join(info.join_code, "Ann"), arena.join(info.join_code, "Bob")
    rate_all(arena, ann)
    view = arena.next_battle(bob)
    arena.vote(bob, view.token, "b")
    status = arena.room_status(info.id)
    assert (status.raters_joined, status.votes_cast, status.battles) == (2, 10, 9)
    assert status.battles_needing_votes == 8 and status.votes_still_needed == 8  # Bob's 8 to go
    assert [(r.name, r.votes, r.finished) for r in status.raters] == [("Ann", 9, True), ("Bob", 1, False)]
    assert status.voting_open and status.reveal_policy == "after_last" and status.join_code == info.join_code


# ---- 5. task routing ----------------------------------------------------------------------
def votes_per_battle(services, evaluation_id):
    with services.uow_factory() as uow:
        counts = uow.arena.vote_counts(evaluation_id)
        return {b.id: counts.get(b.id, 0) for b in uow.arena.battles(evaluation_id)}


def test_two_votes_per_battle_with_five_raters_cover_every_battle_exactly_twice(arena_services, three_models):
    arena = arena_services.arena
    info = make_ready(arena_services, three_models, votes_per_battle=2, repeat_fraction=0.3)
    raters = [arena.join(info.join_code, f"R{n}") for n in range(5)]
    for session in raters:  # one after another
        rate_all(arena, session)
    assert set(votes_per_battle(arena_services, info.id).values()) == {2}
    assert all(arena.rater_summary(s).available for s in raters)
    assert arena.room_status(info.id).battles_needing_votes == 0


def test_interleaved_raters_share_the_work_and_each_battle_still_gets_exactly_two(arena_services, three_models):
    arena = arena_services.arena
    info = make_ready(arena_services, three_models, votes_per_battle=2, repeat_fraction=0)
    raters = [arena.join(info.join_code, f"R{n}") for n in range(5)]
    shown = [arena.next_battle(s) for s in raters]  # five raters fetch at once: five different battles
    assert len({v.token for v in shown}) == 5
    busy = True
    while busy:
        busy = False
        for i, session in enumerate(raters):
            view = shown[i] or arena.next_battle(session)
            shown[i] = None
            if view is not None:
                arena.vote(session, view.token, "tie")
                busy = True
    counts = votes_per_battle(arena_services, info.id)
    assert set(counts.values()) == {2} and sum(counts.values()) == 18
    per_rater = [t.votes for t in arena.tally(info.id)[1]]
    assert max(per_rater) - min(per_rater) <= 1  # spread over the room, not two raters doing it all


def test_concurrent_fetches_do_not_overshoot_in_one_process(arena_services, three_models):
    arena = arena_services.arena
    info = make_ready(arena_services, three_models, votes_per_battle=1, repeat_fraction=0)
    raters = [arena.join(info.join_code, f"T{n}") for n in range(9)]
    views: list = [None] * 9
    threads = [
        threading.Thread(target=lambda i=i: views.__setitem__(i, arena.next_battle(raters[i]))) for i in range(9)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({v.token for v in views}) == 9  # every battle handed to exactly one rater


# ---- 2. live cap, 6. answers together ----------------------------------------------------------
def test_live_prompts_are_capped_per_rater(arena_services):
    arena = arena_services.arena
    info = arena.create_evaluation("live capped", [], [SMOLLM2_KEY, GEMMA3_KEY], PARAMS, mode="live", live_cap=2)
    assert info.reveal_policy == "after_each" and info.live_cap == 2
    session = arena.join(info.join_code, "Lou")
    for n in range(2):
        assert list(arena.ask_live(session, f"Question {n}?"))[-1].token
    with pytest.raises(InvalidInput, match="You have asked 2 live prompt"):
        list(arena.ask_live(session, "One more?"))
    other = arena.join(info.join_code, "Max")
    assert list(arena.ask_live(other, "My own?"))[-1].token  # the cap is per rater
    assert "may ask 3 live" in arena.set_live_cap(info.id, 3)
    assert list(arena.ask_live(session, "Now one more?"))[-1].token
    arena.set_live_cap(info.id, None)
    assert [(r.name, r.live_asked) for r in arena.room_status(info.id).raters] == [("Lou", 3), ("Max", 1)]
    with pytest.raises(InvalidInput, match="whole number"):
        arena.set_live_cap(info.id, -2)


def test_live_answers_show_together_only_once_both_have_finished(make_services):
    services = make_services(script=plain_answer, chunk_delay_s=0.05)
    arena = services.arena
    info = arena.create_evaluation("together", [], [SMOLLM2_KEY, GEMMA3_KEY], PARAMS, mode="live")
    assert info.show_together
    session = arena.join(info.join_code, "Tia")
    views = list(arena.ask_live(session, "Describe a long rainy afternoon in the city."))
    streaming, final = views[:-1], views[-1]
    assert all(v.text_a == v.text_b == "" and not v.finished and v.token is None for v in streaming)
    assert [v.message for v in streaming][:1] == [live.TOGETHER.format(done=0)]
    assert all("of 2 done" in v.message for v in streaming)
    assert final.finished and final.token and final.text_a and final.text_b

    arena.set_show_together(info.id, False)
    views = list(arena.ask_live(session, "Describe a long rainy afternoon in the village."))
    assert any(v.text_a or v.text_b for v in views[:-1])  # streamed as written


def test_another_rater_cannot_vote_on_my_live_battle(arena_services):
    arena = arena_services.arena
    info = arena.create_evaluation("live mine", [], [SMOLLM2_KEY, GEMMA3_KEY], PARAMS, mode="live")
    mine, theirs = arena.join(info.join_code, "Me"), arena.join(info.join_code, "Them")
    token = list(arena.ask_live(mine, "Hello?"))[-1].token
    with pytest.raises(InvalidInput, match="another rater's live prompt"):
        arena.vote(theirs, token, "a")
    assert arena.vote(mine, token, "a").revealed
