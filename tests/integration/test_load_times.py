"""First-use status and warm-up with the real SmolLM2 GGUF: the waiting line names the model, a
later app (a new Services on the same data folder) quotes the load time this one measured, and
warm-up loads the model in the background without holding up the caller."""

import json
import re
import time

import pytest

from playground.compare.columns import ColumnConfig
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.load_times import LOAD_TIMES_FILE, WAITING_FOR_MODEL
from playground.services import Services
from playground.settings import Settings
from playground.warmup import start_warmup, warmup_keys

pytestmark = pytest.mark.slow
SMOL_NAME = "SmolLM2 135M Instruct"


def services_on(home, **overrides) -> Services:
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}").with_overrides(**overrides)
    return Services.create(settings)


def first_waiting_line(services: Services, key: str) -> tuple[str, str]:
    """The waiting line of a one-column Compare turn's first snapshot, and the final status."""
    columns = [ColumnConfig(model_key=key, temperature=0.0, max_tokens=4, seed=1)]
    run_id, text = services.compare.start_run(columns, "Say hi.")
    snapshots = list(services.compare.stream_turn(run_id, columns, [[]], text))
    return snapshots[0][0].waiting_text, snapshots[-1][0].status


def test_first_use_names_the_model_and_a_restart_quotes_the_measured_time(tmp_path):
    first = services_on(tmp_path)
    try:
        assert not first.registry.is_loaded(SMOLLM2_KEY)
        line, status = first_waiting_line(first, SMOLLM2_KEY)
        assert line == f"Loading {SMOL_NAME} (first use; this can take a little while)…"
        assert status == "ok" and first.registry.is_loaded(SMOLLM2_KEY)
        assert first_waiting_line(first, SMOLLM2_KEY)[0] == WAITING_FOR_MODEL  # loaded now: nothing to say
        measured = first.registry.expected_load_seconds(SMOLLM2_KEY)
        assert measured is not None and 0 < measured < 120
    finally:
        first.close()
    saved = json.loads((tmp_path / LOAD_TIMES_FILE).read_text())
    assert [entry["name"] for entry in saved.values()] == [SMOL_NAME]

    second = services_on(tmp_path)  # the app restarted on the same data folder
    try:
        line, status = first_waiting_line(second, SMOLLM2_KEY)
        quoted = re.fullmatch(rf"Loading {re.escape(SMOL_NAME)} \(first use, ~(\d+) s\)…", line)
        assert quoted, line
        assert int(quoted[1]) == max(1, round(measured)) and status == "ok"
    finally:
        second.close()


def test_warm_up_loads_in_the_background_and_a_request_shares_its_load(tmp_path):
    services = services_on(tmp_path, warmup=SMOLLM2_KEY)
    try:
        started = time.perf_counter()
        warmup = start_warmup(services.registry, services.settings)
        assert time.perf_counter() - started < 0.5  # start-up goes on at once
        assert warmup.thread is not None and warmup.thread.daemon
        line, status = first_waiting_line(services, SMOLLM2_KEY)  # asked while warm-up may still load
        assert status == "ok" and line in (
            WAITING_FOR_MODEL,
            f"Loading {SMOL_NAME} (first use; this can take a little while)…",
        )
        assert warmup.wait(120) and warmup.loaded == [SMOLLM2_KEY] and not warmup.failed
        assert services.registry.status(SMOLLM2_KEY) == "loaded"  # one copy served both
        assert first_waiting_line(services, SMOLLM2_KEY)[0] == WAITING_FOR_MODEL
    finally:
        services.close()


def test_warm_up_default_means_the_two_models_compare_opens_with(tmp_path):
    services = services_on(tmp_path, warmup="default")
    try:
        assert warmup_keys(services.settings, services.registry) == [SMOLLM2_KEY, GEMMA3_KEY]
    finally:
        services.close()
