"""Compare on real parts: two embedded models in SQLite-backed runs, streaming together."""

import threading
import time

import pytest

from playground.compare.columns import ColumnConfig
from playground.errors import InvalidInput
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY, smollm2_path
from playground.services import Services
from playground.settings import Settings
from tests.integration.servers import free_port

pytestmark = pytest.mark.slow
QUESTION = "What is the capital of France? Answer in one sentence."


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    home = tmp_path_factory.mktemp("compare")
    svc = Services.create(Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}"))
    yield svc
    svc.close()


def cols(*keys, **settings):
    return [
        ColumnConfig(
            model_key=k,
            temperature=0.0,
            max_tokens=settings.get("max_tokens", 32),
            seed=1,
            system_prompt=settings.get("system", ""),
        )
        for k in keys
    ]


def run_turn(services, columns, text, histories=None, run_id=None, cancel=None):
    if run_id is None:
        run_id, text = services.compare.start_run(columns, text)
    snapshots = list(services.compare.stream_turn(run_id, columns, histories or [[] for _ in columns], text, cancel))
    return run_id, snapshots


def test_two_models_stream_at_the_same_time_and_are_recorded(services):
    columns = cols(SMOLLM2_KEY, GEMMA3_KEY, max_tokens=48)
    run_id, snapshots = run_turn(services, columns, QUESTION)
    final = snapshots[-1]
    assert [s.status for s in final] == ["ok", "ok"]
    assert "Paris" in final[0].text and final[1].text
    saved = services.compare.load_run(run_id)
    assert saved.column_names == ["SmolLM2 135M Instruct", "Gemma 3 270M (base)"]
    with services.uow_factory() as uow:
        gens = uow.generations.list_for_run(run_id)
        assert [(g.position, g.status) for g in gens] == [(0, "ok"), (1, "ok")]
        assert all(g.prompt_tokens and g.completion_tokens and g.ttft_s and g.cost_usd == 0.0 for g in gens)  # local


def test_columns_stream_together_not_one_after_another(services):
    columns = cols(SMOLLM2_KEY, GEMMA3_KEY, max_tokens=64)
    run_turn(services, cols(SMOLLM2_KEY, GEMMA3_KEY, max_tokens=1), "Hi")  # both loaded: loading time is not the point
    _, snapshots = run_turn(services, columns, "Write a short poem about the sea.")
    # Both columns were mid-answer in the same snapshot: they stream at the same time.
    assert any(all(s.status == "running" and s.text for s in snap) for snap in snapshots)


def test_follow_up_uses_each_columns_own_history(services):
    columns = cols(SMOLLM2_KEY, SMOLLM2_KEY, system="Answer briefly.")
    histories = [
        [{"role": "user", "content": "My name is Ada."}, {"role": "assistant", "content": "Nice to meet you, Ada."}],
        [{"role": "user", "content": "My name is Bob."}, {"role": "assistant", "content": "Hello Bob."}],
    ]
    run_id, _ = services.compare.start_run(columns, "My name is Ada.")
    list(services.compare.stream_turn(run_id, columns, histories, "What is my name?"))
    with services.uow_factory() as uow:
        gens = [g for g in uow.generations.list_for_run(run_id) if g.turn == 1]
    assert len(gens) == 2
    assert "Ada" in str(gens[0].messages) and "Bob" not in str(gens[0].messages)
    assert "Bob" in str(gens[1].messages) and gens[0].messages[-1] == {"role": "user", "content": "What is my name?"}


def test_same_model_in_two_columns_runs_concurrently(services):
    columns = cols(SMOLLM2_KEY, SMOLLM2_KEY, max_tokens=60)
    _, snapshots = run_turn(services, columns, "Write a short poem about rain.")
    assert any(all(s.status == "running" and s.text for s in snap) for snap in snapshots)


def test_a_failing_column_does_not_stop_the_others(services):
    dead = services.models.add_endpoint("Dead endpoint", f"http://127.0.0.1:{free_port()}/v1", "none")
    columns = cols(dead.key, SMOLLM2_KEY)
    _, snapshots = run_turn(services, columns, QUESTION)
    final = snapshots[-1]
    assert final[0].status == "error" and "nothing is listening" in final[0].error
    assert final[1].status == "ok" and final[1].text


def test_stop_cancels_every_column(services):
    cancel = threading.Event()
    columns = cols(SMOLLM2_KEY, GEMMA3_KEY, max_tokens=400)
    run_id, text = services.compare.start_run(columns, "Write a long story about a dragon.")
    started = time.monotonic()
    final = None
    for snap in services.compare.stream_turn(run_id, columns, [[], []], text, cancel):
        if any(s.text for s in snap):
            cancel.set()
        final = snap
    assert [s.status for s in final] == ["cancelled", "cancelled"]
    assert time.monotonic() - started < 20


def test_bad_inputs_are_refused_before_anything_runs(services):
    with services.uow_factory() as uow:
        before = len(uow.runs.list(limit=1000))
    with pytest.raises(InvalidInput, match="Type a prompt"):
        services.compare.start_run(cols(SMOLLM2_KEY), "   ")
    with pytest.raises(InvalidInput, match="Fill in the template variable"):
        services.compare.start_run(cols(SMOLLM2_KEY), "Review: {{review}}", {"review": " "})
    with pytest.raises(InvalidInput, match="at least one column"):
        services.compare.start_run([], "Hi")
    with services.uow_factory() as uow:
        assert len(uow.runs.list(limit=1000)) == before


def test_template_versions_are_recorded_on_runs(services):
    v1 = services.templates.save("Summary", "Summarise: {{text}}")
    same = services.templates.save("Summary", "Summarise: {{text}}")
    v2 = services.templates.save("Summary", "Summarise in one line: {{text}}")
    assert (v1.version, same.version, v2.version) == (1, 1, 2) and v2.variables == ["text"]
    run_id, prompt = services.compare.start_run(
        cols(SMOLLM2_KEY), "Summarise in one line: {{text}}", {"text": "Cats sleep a lot."}, "Summary"
    )
    assert prompt == "Summarise in one line: Cats sleep a lot."
    assert services.compare.load_run(run_id).template_version_id == v2.version_id
    run_v1, _ = services.compare.start_run(cols(SMOLLM2_KEY), "Summarise: {{text}}", {"text": "x"}, "Summary")
    assert services.compare.load_run(run_v1).template_version_id == v1.version_id


def test_repeat_reports_stability(services):
    column = ColumnConfig(model_key=SMOLLM2_KEY, temperature=1.2, max_tokens=12)
    results, stats = services.compare.repeat(column, [], "Invent a name for a cat.", 3)
    assert len(results) == 3 and stats.runs == 3 and 1 <= stats.distinct_outputs <= 3
    assert stats.total_s.low <= stats.total_s.mean <= stats.total_s.high
    with pytest.raises(InvalidInput):
        services.compare.repeat(column, [], "x", 50)


def test_feedback_is_saved_with_the_generation(services):
    _, snapshots = run_turn(services, cols(SMOLLM2_KEY), "Say hi.")
    gen_id = snapshots[-1][0].generation_id
    services.compare.feedback(gen_id, -1, "too short")
    with services.uow_factory() as uow:
        gen = uow.generations.get(gen_id)
        assert (gen.rating, gen.feedback_note) == (-1, "too short")
    with pytest.raises(InvalidInput):
        services.compare.feedback(999_999, 1)


def test_run_with_a_removed_model_still_opens(services):
    copy = services.models.add_gguf(str(smollm2_path()), "Temporary SmolLM2")
    run_id, snapshots = run_turn(services, cols(copy.key, SMOLLM2_KEY), QUESTION)
    services.models.remove(copy.key)
    saved = services.compare.load_run(run_id)
    assert saved.column_names[0] == "Temporary SmolLM2"
    assert saved.histories[0][-1]["content"] == snapshots[-1][0].text
    assert saved.states[0][-1]["model_name"] == "Temporary SmolLM2"


def test_the_last_snapshot_is_final_and_comes_once(services):
    _, snapshots = run_turn(services, cols(SMOLLM2_KEY), "Say hi.")
    assert all(s.done for s in snapshots[-1])
    assert sum(all(s.done for s in snap) for snap in snapshots) == 1


def test_an_endpoint_dying_mid_answer_keeps_its_partial_text_and_the_others_finish(services):
    from tests.integration.servers import MisbehavingServer

    with MisbehavingServer("drop") as server:
        dying = services.models.add_endpoint("Dies mid-answer", server.base_url, "m")
        run_id, snapshots = run_turn(services, cols(dying.key, SMOLLM2_KEY), QUESTION)
    final = snapshots[-1]
    assert final[0].status == "error" and "broke off" in final[0].error and final[0].text
    assert final[1].status == "ok" and "Paris" in final[1].text
    with services.uow_factory() as uow:
        gen = uow.generations.list_for_run(run_id)[0]
        assert (gen.status, gen.output) == ("error", final[0].text)
