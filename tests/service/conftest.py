"""The fast tier's world: every service wired by ``Services.create`` on a fresh SQLite file,
with the scripted fake backend behind every model kind. No model weights load here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from playground.models.fake import Script
from playground.services import Services
from tests.service.fake_model import fake_services, scripted_answer

MakeServices = Callable[..., Services]


@pytest.fixture
def make_services(tmp_path: Path) -> Iterator[MakeServices]:
    made: list[Services] = []

    def make(script: Script = scripted_answer, chunk_delay_s: float = 0.0) -> Services:
        made.append(fake_services(tmp_path / f"home{len(made)}", script, chunk_delay_s))
        return made[-1]

    yield make
    for services in made:
        services.close()


@pytest.fixture
def services(make_services: MakeServices) -> Services:
    return make_services()
