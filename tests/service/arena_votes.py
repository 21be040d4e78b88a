"""An Arena evaluation on the fake backend with every battle voted by one rater."""

from __future__ import annotations

from playground.arena.prompts import parse_typed
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.types import GenerationParams
from playground.services import Services

PARAMS = GenerationParams(max_tokens=32, temperature=0.0, seed=3)


def voted_evaluation(services: Services, **vote_options):
    """Two models on two prompts, answered, and every battle voted "a" by Ana."""
    arena = services.arena
    info = arena.create_evaluation("Oficina", parse_typed("Name a fruit.\nDescribe rain."), [SMOLLM2_KEY, GEMMA3_KEY], PARAMS, seed=5)  # fmt: skip
    arena.start_generation(info.id)
    arena.jobs.wait(info.id, timeout=30)
    session = arena.join(info.join_code, "Ana")
    while (battle := arena.next_battle(session)) is not None:
        arena.vote(session, battle.token, "a", **vote_options)
    return info
