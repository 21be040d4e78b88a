"""History on the fake backend: list and search saved runs, reopen them, export, re-run."""

from __future__ import annotations

import csv
import json

import pytest

from playground.compare.columns import ColumnConfig
from playground.errors import InvalidInput
from playground.models.embedded import SMOLLM2_KEY
from playground.models.types import GenerationParams


def col(key, system=""):
    return ColumnConfig(model_key=key, temperature=0.0, max_tokens=24, seed=1, system_prompt=system)


def compare_run(services, columns, body, variables=None, template=""):
    run_id, text = services.compare.start_run(columns, body, variables, template)
    final = list(services.compare.stream_turn(run_id, columns, [[] for _ in columns], text))[-1]
    return run_id, final


@pytest.fixture
def world(services):
    """A templated compare run with a failing column, a plain one, and a Models-tab try."""
    broken = services.models.add_endpoint("Broken endpoint", "http://127.0.0.1:9/v1", "m")
    services.templates.save("reviews", "Summarise: {{review}}")
    templated, final = compare_run(
        services,
        [col(SMOLLM2_KEY), col(broken.key)],
        "Summarise: {{review}}",
        {"review": "The zebra blender broke."},
        "reviews",
    )
    assert [s.status for s in final] == ["ok", "error"]
    services.compare.feedback(final[0].generation_id, 1, "short and right")
    plain, _ = compare_run(services, [col(SMOLLM2_KEY, system="Answer briefly.")], "Name a colour of the sky.")
    *_, tried = services.models.try_prompt(
        SMOLLM2_KEY, "Say hello to the walrus.", GenerationParams(max_tokens=12, temperature=0.0)
    )
    with services.uow_factory() as uow:
        tried_run = uow.generations.get(tried.generation_id).run_id
    return {"templated": templated, "plain": plain, "try": tried_run}


def found(services, **filters):
    return [s.id for s in services.history.search(**filters)]


def test_list_and_search_saved_runs(services, world):
    assert found(services) == [world["try"], world["plain"], world["templated"]]  # newest first
    assert found(services, text="zebra") == [world["templated"]]
    assert found(services, text="WALRUS") == [world["try"]]  # in the prompt and the answer, any case
    assert found(services, template_name="reviews") == [world["templated"]]
    assert found(services, kinds=["try"]) == [world["try"]]
    summary = next(s for s in services.history.search() if s.id == world["templated"])
    # The one answer measured ran locally: $0 by choice (the failed one has no figures to count).
    assert (summary.kind, summary.answers, summary.errors, summary.cost) == ("compare", 1, 1, "local: $0, by choice")
    assert summary.template == "reviews v1" and summary.models == "SmolLM2 135M Instruct, Broken endpoint"


def test_reopen_shows_the_run_as_saved(services, world):
    text = services.history.detail(world["templated"])
    for part in ("The zebra blender broke.", "reviews v1", "SmolLM2 135M Instruct", "temperature 0.0", "max tokens 24",
                 "Broken endpoint", "the script says so", "👍 short and right"):  # fmt: skip
        assert part in text, part
    saved = services.compare.load_run(world["plain"])
    assert saved.columns == [col(SMOLLM2_KEY, system="Answer briefly.")] and saved.prompt == "Name a colour of the sky."
    assert saved.histories[0] == [
        {"role": "user", "content": "Name a colour of the sky."},
        {"role": "assistant", "content": "SmolLM2 135M Instruct answers: Name a colour of the sky."},
    ]


def test_export_has_every_generation(services, world):
    runs = [world["templated"], world["plain"]]
    records = [json.loads(line) for line in services.history.export(runs, "jsonl").read_text().splitlines()]
    assert [(r["run_id"], r["model_name"], r["status"]) for r in records] == [
        (world["templated"], "SmolLM2 135M Instruct", "ok"), (world["templated"], "Broken endpoint", "error"), (world["plain"], "SmolLM2 135M Instruct", "ok")
    ]  # fmt: skip
    assert records[0]["cost_usd"] == 0.0 and records[1]["cost_usd"] is None  # local $0; the failure: unknown
    assert records[0]["rating"] == 1 and records[0]["template"] == "reviews v1"
    assert records[0]["messages"][-1]["content"] == "Summarise: The zebra blender broke."
    rows = list(csv.DictReader(services.history.export(runs, "csv").open(encoding="utf-8-sig")))
    assert (
        len(rows) == 3 and rows[0]["output"] == records[0]["output"] and [r["cost_usd"] for r in rows] == ["0", "", "0"]
    )
    with pytest.raises(InvalidInput, match="JSONL or CSV"):
        services.history.export(runs, "xlsx")


def test_rerun_makes_a_new_run_with_the_same_columns_and_prompt(services, world):
    updates = list(services.history.rerun(world["plain"]))
    new_id = updates[-1].run_id
    assert new_id not in world.values() and [s.status for s in updates[-1].states] == ["ok"]
    old, new = services.compare.load_run(world["plain"]), services.compare.load_run(new_id)
    assert new.columns == old.columns and new.histories == old.histories
    with pytest.raises(InvalidInput, match="only Compare runs can be re-run"):
        list(services.history.rerun(world["try"]))
    assert services.history.delete([new_id]) == 1 and new_id not in found(services)
