"""A room served the way launcher.py serves it (both doors, one process), in this process on the
fake backend, with a prepared evaluation: 3 models x 3 prompts plus side-swapped repeats."""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from components.doors import mount_doors, serve
from playground.arena.prompts import from_texts
from playground.models.fake import fake_backends
from playground.models.types import GenerationParams, ModelSpec
from playground.services import Services
from playground.settings import Settings
from playground.startup import DoorLogins
from tests.e2e.app_process import free_port

SMOL, GEMMA = "embedded/smollm2-135m-instruct", "embedded/gemma3-270m"
ADMIN = ("admin", "room-admin-pw")
PROMPTS = ("Name a fruit.", "What is 2+2?", "Say hello to the room.")


def anonymous_answer(spec: ModelSpec, messages: Sequence[Mapping[str, str]]) -> str:
    """An answer that differs per model and prompt but never names the model."""
    prompt = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    n = zlib.crc32(f"{spec.key}|{prompt}".encode()) % 10_000
    return f"Here is answer number {n} to: {prompt}"


@dataclass
class Room:
    services: Services
    url: str  # the facilitator's door; raters at url + "rate/"
    code: str
    evaluation_id: int
    labels: list[str]
    keys: list[str]

    @property
    def rate_url(self) -> str:
        return self.url + "rate/"


def prepare(services: Services, name: str = "room", prompts: Sequence[str] = PROMPTS, **options) -> tuple[int, str]:
    third = services.models.add_endpoint("Third model", f"http://127.0.0.1:{free_port()}/v1", "third-remote")
    info = services.arena.create_evaluation(
        name,
        from_texts(list(prompts)),
        [SMOL, GEMMA, third.key],
        GenerationParams(max_tokens=16, temperature=0.0, seed=1),
        seed=5,
        **{"repeat_fraction": 0.3, **options},
    )
    services.arena.start_generation(info.id)
    services.arena.jobs.wait(info.id, timeout=60)
    return info.id, info.join_code


@contextmanager
def serve_room(home: Path, *, chunk_delay_s: float = 0.0, **options) -> Iterator[Room]:
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}")
    services = Services.create(settings, backends=fake_backends(anonymous_answer, chunk_delay_s=chunk_delay_s))
    served = None
    try:
        evaluation_id, code = prepare(services, **options)
        info = services.arena.evaluation(evaluation_id)
        keys = [c.model_key for c in _contestants(services, evaluation_id)]
        port = free_port()
        doors = mount_doors(services, DoorLogins(admin=[ADMIN], rater=None), host="127.0.0.1", port=port)
        served = serve(doors, host="127.0.0.1", port=port)
        yield Room(services, f"http://127.0.0.1:{port}/", code, evaluation_id, list(info.contestants), keys)
    finally:
        if served is not None:
            served.close()
        services.close()


def _contestants(services: Services, evaluation_id: int):
    with services.uow_factory() as uow:
        return list(uow.arena.contestants(evaluation_id))
