"""History on real parts: SQLite, the embedded SmolLM2, a GGUF added then removed."""

import csv
import json
from datetime import date, timedelta

import pytest

from playground.compare.columns import ColumnConfig
from playground.errors import InvalidInput
from playground.models.embedded import SMOLLM2_KEY, smollm2_path
from playground.models.types import GenerationParams
from playground.services import Services
from playground.settings import Settings
from tests.integration.servers import free_port

pytestmark = pytest.mark.slow
TODAY = date.today()


def col(key, system=""):
    return ColumnConfig(model_key=key, temperature=0.0, max_tokens=12, seed=1, system_prompt=system)


def compare_run(services, columns, body, variables=None, template=""):
    run_id, text = services.compare.start_run(columns, body, variables, template)
    final = list(services.compare.stream_turn(run_id, columns, [[] for _ in columns], text))[-1]
    return run_id, final


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A few saved runs: a templated compare with a failing column, a plain one, a try run,
    and a compare run whose (added) model was removed afterwards."""
    home = tmp_path_factory.mktemp("history")
    services = Services.create(Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}"))
    dead = services.models.add_endpoint("Dead endpoint", f"http://127.0.0.1:{free_port()}/v1", "none")
    services.templates.save("reviews", "Summarise this review in a few words: {{review}}")
    templated, final = compare_run(
        services,
        [col(SMOLLM2_KEY), col(dead.key)],
        "Summarise this review in a few words: {{review}}",
        {"review": "The zebra blender broke."},
        "reviews",
    )
    assert [s.status for s in final] == ["ok", "error"]
    plain, _ = compare_run(services, [col(SMOLLM2_KEY, system="Answer briefly.")], "Name a colour of the sky.")
    services.compare.feedback(final[0].generation_id, 1, "short and right")
    *_, tried = services.models.try_prompt(
        SMOLLM2_KEY, "Say hello to the walrus.", GenerationParams(max_tokens=12, temperature=0.0)
    )
    copy = services.models.add_gguf(str(smollm2_path()), "Smol copy")
    removed, final = compare_run(services, [col(copy.key)], "What is two plus two?")
    assert final[0].status == "ok"
    services.models.remove(copy.key)
    ids = {
        "templated": templated,
        "plain": plain,
        "try": _run_of(services, tried.generation_id),
        "removed": removed,
        "copy_key": copy.key,
    }
    yield services, ids
    services.close()


def _run_of(services, generation_id):
    with services.uow_factory() as uow:
        return uow.generations.get(generation_id).run_id


def found(services, **filters):
    return [s.id for s in services.history.search(**filters)]


def test_search_by_text_in_prompt_and_in_outputs(world):
    services, ids = world
    assert found(services, text="zebra") == [ids["templated"]]
    assert found(services, text="WALRUS") == [ids["try"]]  # case does not matter
    with services.uow_factory() as uow:
        run = uow.runs.get(ids["plain"])
        output = run.generations[0].output
    word = next(w for w in output.split() if len(w) > 3 and w.lower() not in run.title.lower())
    assert ids["plain"] in found(services, text=word)
    assert found(services, text="no run says this xyzzy") == []


def test_filter_by_model_template_kind_and_date(world):
    services, ids = world
    assert found(services, model_key=ids["copy_key"]) == [ids["removed"]]
    assert set(found(services, model_key=SMOLLM2_KEY)) == {ids["templated"], ids["plain"], ids["try"]}
    assert found(services, template_name="reviews") == [ids["templated"]]
    assert found(services, template_name="no such template") == []
    assert found(services, kinds=["try"]) == [ids["try"]]
    today, tomorrow, yesterday = (
        TODAY.isoformat(),
        (TODAY + timedelta(days=1)).isoformat(),
        (TODAY - timedelta(days=1)).isoformat(),
    )
    assert len(found(services, date_from=today, date_to=today)) == 4  # both ends included
    assert found(services, date_from=tomorrow) == []
    assert found(services, date_to=yesterday) == []


def test_summary_counts_answers_errors_and_the_local_cost(world):
    services, ids = world
    summary = next(s for s in services.history.search() if s.id == ids["templated"])
    # The one answer with figures ran locally: $0 by choice (tests/service/test_prices_and_context.py: unknown).
    assert (summary.kind, summary.answers, summary.errors, summary.cost) == ("compare", 1, 1, "local: $0, by choice")
    assert summary.template == "reviews v1" and summary.models == "SmolLM2 135M Instruct, Dead endpoint"
    assert "zebra" in summary.title and summary.created_at.startswith(TODAY.isoformat())


def test_bad_dates_get_a_plain_message(world):
    services, _ = world
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        services.history.search(date_from="31/12/2025")
    with pytest.raises(InvalidInput, match="after the 'to' date"):
        services.history.search(date_from="2025-02-01", date_to="2025-01-01")


def test_detail_shows_prompt_template_settings_answers_figures_and_feedback(world):
    services, ids = world
    text = services.history.detail(ids["templated"])
    for part in ("The zebra blender broke.", "reviews v1", "SmolLM2 135M Instruct", "temperature 0.0", "max tokens 12", "seed 1",
                 "Dead endpoint", "❌", "first token", "tokens/s", "local: $0, by choice", "👍 short and right"):  # fmt: skip
        assert part in text, part
    assert "cost unknown" not in text  # the failed answer has no figures; SmolLM2's cost is known: $0 by choice


def test_a_run_whose_model_was_removed_still_opens(world):
    services, ids = world
    text = services.history.detail(ids["removed"])
    assert "Smol copy" in text and "removed" in text and "What is two plus two?" in text
    saved = services.compare.load_run(ids["removed"])
    assert saved.column_names == ["Smol copy"] and saved.histories[0][1]["content"]
    assert ("Smol copy (removed)", ids["copy_key"]) in services.history.model_choices()
    with pytest.raises(
        InvalidInput, match="uses 'Smol copy', which was removed; reopen it in Compare and pick another model"
    ):
        list(services.history.rerun(ids["removed"]))


def test_rerun_makes_a_new_run_with_the_same_columns_and_prompt(world):
    services, ids = world
    updates = list(services.history.rerun(ids["plain"]))
    new_id = updates[-1].run_id
    assert new_id not in ids.values() and [s.status for s in updates[-1].states] == ["ok"]
    old, new = services.compare.load_run(ids["plain"]), services.compare.load_run(new_id)
    assert new.columns == old.columns and new.prompt == old.prompt
    assert new.histories[0][1]["content"] == old.histories[0][1]["content"]  # temperature 0, same seed
    with pytest.raises(InvalidInput, match="only Compare runs can be re-run"):
        list(services.history.rerun(ids["try"]))
    services.history.delete([new_id])


def test_rerun_keeps_the_template_version(world):
    services, ids = world
    new_id = list(services.history.rerun(ids["templated"]))[-1].run_id
    assert found(services, template_name="reviews") == [new_id, ids["templated"]]
    services.history.delete([new_id])


def test_export_has_every_generation_and_empty_unknown_cost(world):
    services, ids = world
    runs = [ids["templated"], ids["removed"]]
    path = services.history.export(runs, "jsonl")
    assert path.parent == services.settings.home / "exports"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["run_id"], r["model_name"], r["status"]) for r in records] == [
        (ids["templated"], "SmolLM2 135M Instruct", "ok"), (ids["templated"], "Dead endpoint", "error"), (ids["removed"], "Smol copy", "ok")
    ]  # fmt: skip
    ok = records[0]
    assert (
        ok["cost_usd"] == 0.0  # local: $0 by choice; the failed answer's stays unknown (None, empty in the CSV)
        and records[1]["cost_usd"] is None
        and ok["settings"]["max_tokens"] == 12
        and ok["messages"][-1]["content"].endswith("The zebra blender broke.")
    )
    assert (
        ok["output"]
        and ok["completion_tokens"] > 0
        and ok["total_s"] > 0
        and ok["template"] == "reviews v1"
        and ok["rating"] == 1
    )
    assert records[1]["error"]
    rows = list(csv.DictReader(services.history.export(runs, "csv").open(encoding="utf-8-sig")))
    assert len(rows) == 3 and [r["cost_usd"] for r in rows] == ["0", "", "0"]
    assert json.loads(rows[0]["settings"])["seed"] == 1 and rows[0]["output"] == ok["output"]
    with pytest.raises(InvalidInput, match="no runs to export"):
        services.history.export([], "csv")
    with pytest.raises(InvalidInput, match="JSONL or CSV"):
        services.history.export(runs, "xlsx")


def test_delete_cascades_to_generations(world):
    services, ids = world
    run_id, final = compare_run(services, [col(SMOLLM2_KEY)], "Delete me soon.")
    generation_id = final[0].generation_id
    assert services.history.delete([run_id]) == 1
    with services.uow_factory() as uow:
        assert uow.runs.get(run_id) is None and uow.generations.get(generation_id) is None
    with pytest.raises(InvalidInput, match="does not exist"):
        services.history.detail(run_id)
    assert run_id not in found(services)
