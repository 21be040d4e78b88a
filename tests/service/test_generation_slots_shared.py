"""The process-wide cap on answers generating at once holds for every path that generates:
a Compare turn and an Arena live battle on one Services (the two doors share it) together never
exceed ``generation_concurrency``, and what waits still finishes."""

from __future__ import annotations

from playground.models.embedded import SMOLLM2_KEY
from playground.models.fake import fake_backends
from playground.services import Services
from playground.settings import Settings
from tests.service.fake_model import scripted_answer
from tests.service.test_compare_service import cols, run_turn


def services_with_limit(tmp_path, limit: int) -> Services:
    home = tmp_path / "home"
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}", generation_concurrency=limit)
    return Services.create(settings, backends=fake_backends(scripted_answer, chunk_delay_s=0.01))


def test_with_one_slot_two_columns_take_turns_and_both_finish(tmp_path):
    services = services_with_limit(tmp_path, 1)
    try:
        _, snapshots = run_turn(
            services, cols(SMOLLM2_KEY, SMOLLM2_KEY, max_tokens=40), "Tell me a long story about rain."
        )
        assert not any(all(s.status == "running" and s.text for s in snap) for snap in snapshots)
        assert [s.usage.completion_tokens for s in snapshots[-1]] == [40, 40]
        assert services.registry.generation_slots.busy == 0
    finally:
        services.close()


def test_with_two_slots_the_same_columns_stream_together(tmp_path):
    services = services_with_limit(tmp_path, 2)
    try:
        _, snapshots = run_turn(
            services, cols(SMOLLM2_KEY, SMOLLM2_KEY, max_tokens=40), "Tell me a long story about rain."
        )
        assert any(all(s.status == "running" and s.text for s in snap) for snap in snapshots)
    finally:
        services.close()


def test_every_service_generates_through_the_one_registry_and_its_slots(tmp_path):
    services = services_with_limit(tmp_path, 3)
    try:
        slots = services.registry.generation_slots
        assert slots.limit == 3
        recorders = {
            services.compare.recorder,
            services.arena.recorder,
            services.documents.recorder,
            services.judge.recorder,
        }
        assert {id(r.registry.generation_slots) for r in recorders} == {id(slots)}
    finally:
        services.close()
