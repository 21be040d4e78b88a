"""Join codes: what a facilitator reads out to a room so raters find the evaluation."""

from __future__ import annotations

import secrets

from storage import UnitOfWork

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud in rooms
CODE_LENGTH = 6


def new_join_code(uow: UnitOfWork) -> str:
    """A random code that no evaluation has yet."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if uow.arena.evaluation_by_code(code) is None:
            return code
