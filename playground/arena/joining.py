"""Joining an evaluation: a rater is a session, not a typed name.

The first browser to join under a name gets a random secret (the database keeps only its
hash) and keeps it (``gr.BrowserState``); with it, a reload or a closed tab resumes the same
rater. Another browser typing that name is refused, unless the facilitator released the name:
then the next joiner takes the rater over and the old secret stops working. With ``--auth``
the login is the identity, and joining again under it resumes. Joins are rate-limited per
join code and per client address (``JoinLimiter``).
"""

from __future__ import annotations

from collections.abc import Callable

from playground.arena.live_limits import JoinLimiter
from playground.arena.rater_identity import (
    MAX_NAME_CHARS,
    clean_name,
    name_key,
    new_secret,
    secret_hash,
    secret_matches,
)
from playground.errors import InvalidInput
from playground.i18n import t
from storage import ArenaEvaluation, ArenaRater, ConflictError, UnitOfWork

EVALUATION_GONE = t("arena.evaluation_gone")
JOIN_FIRST = t("arena.join_first")
VOTING_CLOSED = t("arena.voting_closed")
NAME_RELEASED = t("arena.name_released")


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _session(rater: ArenaRater, secret: str | None) -> dict:
    return {"rater_id": rater.id, "evaluation_id": rater.evaluation_id, "name": rater.name, "secret": secret}


def _claim(rater: ArenaRater, secret: str | None, login: bool) -> str | None:
    """Resume or take over an existing rater; the secret this browser holds from now on
    (None for a login). Raises the "name taken" message otherwise."""
    if rater.released_at is None:
        if login and rater.source == "login":
            return None  # the login is the identity
        if secret_matches(secret, rater.secret_hash):
            return secret
    # Released by the facilitator, or joined before raters had secrets: this browser takes over.
    if rater.released_at is not None or (rater.source == "join" and rater.secret_hash is None):
        rater.released_at = None
        if login:
            rater.source, rater.secret_hash = "login", None
            return None
        issued = new_secret()
        rater.source, rater.secret_hash = "join", secret_hash(issued)
        return issued
    raise InvalidInput(t("arena.name_taken", name=rater.name))


class JoinActions:
    uow_factory: Callable[[], UnitOfWork]
    join_limiter: JoinLimiter

    def join(
        self,
        code: str,
        name: str,
        username: str | None = None,
        *,
        secret: str | None = None,
        client: str | None = None,
    ) -> dict:
        """A rater's session: {rater_id, evaluation_id, name, secret}. A login name wins over a typed
        one; ``secret`` is what this browser got from an earlier join; ``client`` its address."""
        code = self.check_join_code(code)
        self.join_limiter.check(code, client)
        display = self.check_join_name(name, username)
        for _ in range(3):  # two tabs joining with one name at once: the second finds the first's row
            try:
                with self.uow_factory() as uow:
                    evaluation = self._joinable(uow, code)
                    rater = uow.arena.rater_by_key(evaluation.id, name_key(display))
                    if rater is None:
                        issued = None if username else new_secret()
                        rater = uow.arena.add(
                            ArenaRater(
                                evaluation_id=evaluation.id,
                                name=display,
                                name_key=name_key(display),
                                source="login" if username else "join",
                                secret_hash=secret_hash(issued) if issued else None,
                            )
                        )
                    else:
                        issued = _claim(rater, secret, login=bool(username))
                    return _session(rater, issued)
            except ConflictError:
                continue
        raise InvalidInput(t("arena.join_retry"))

    @staticmethod
    def check_join_code(code: str | None) -> str:
        """The join code as ``join`` looks it up; refuses a blank one (told before any look-up)."""
        code = _clean(code).upper()
        if not code:
            raise InvalidInput(t("arena.join_code_blank"))
        return code

    @staticmethod
    def check_join_name(name: str | None, username: str | None = None) -> str:
        """The rater's display name (a login wins over a typed name); refuses a blank or overlong one."""
        display = clean_name(username) if username else clean_name(name)
        if not display:
            raise InvalidInput(t("arena.join_name_blank"))
        if len(display) > MAX_NAME_CHARS:
            raise InvalidInput(t("arena.join_name_long", max=MAX_NAME_CHARS))
        return display

    def resume(self, secret: str | None, client: str | None = None) -> dict | None:
        """The session of the rater this browser's secret belongs to; None when there is none
        (never joined, or the name was released since): the page then shows the join form."""
        if not secret:
            return None
        self.join_limiter.check(None, client)
        with self.uow_factory() as uow:
            rater = uow.arena.rater_by_secret_hash(secret_hash(str(secret)))
            if rater is None or rater.released_at is not None:
                return None
            evaluation = uow.arena.get_evaluation(rater.evaluation_id)
            if evaluation is None:
                return None
            if not evaluation.voting_open:
                raise InvalidInput(VOTING_CLOSED)
            return _session(rater, str(secret))

    @staticmethod
    def _joinable(uow: UnitOfWork, code: str) -> ArenaEvaluation:
        evaluation = uow.arena.evaluation_by_code(code)
        if evaluation is None:
            raise InvalidInput(t("arena.join_code_unknown", code=code))
        if not evaluation.voting_open:
            raise InvalidInput(VOTING_CLOSED)
        return evaluation

    def _rater(self, uow: UnitOfWork, session: dict | None) -> ArenaRater:
        """The session's rater; refused once the facilitator released the name and someone took it over."""
        rater = uow.arena.get_rater(int(session["rater_id"])) if session and session.get("rater_id") else None
        if rater is None:
            raise InvalidInput(JOIN_FIRST if not session else EVALUATION_GONE)
        if rater.released_at is not None or (
            rater.secret_hash is not None and not secret_matches(session.get("secret"), rater.secret_hash)  # type: ignore[union-attr]
        ):
            raise InvalidInput(NAME_RELEASED)
        return rater
