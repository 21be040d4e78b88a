"""The facilitator's side of a room: the tally, open and close voting, release a name, and the
evaluation's room options (reveal policy, votes needed per battle, live cap, answers together)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from playground.arena import leaderboard as lb
from playground.arena import reveal
from playground.arena.rater_identity import name_key
from playground.arena.routing import Holds
from playground.errors import InvalidInput
from playground.i18n import Text, t
from storage import ArenaEvaluation, UnitOfWork

if TYPE_CHECKING:
    from playground.arena.service import EvaluationInfo

MAX_COUNT = 100_000
# What a facilitator reads after changing the reveal policy, by policy.
_POLICY_SET = {
    reveal.AFTER_LAST: "arena.policy_set_after_last",
    reveal.AFTER_EACH: "arena.policy_set_after_each",
    reveal.NEVER: "arena.policy_set_never",
}


@dataclass(frozen=True)
class RaterTally:
    rater: str
    votes: int


@dataclass(frozen=True)
class RaterProgress:
    name: str
    votes: int
    live_asked: int
    finished: bool
    released: bool
    source: str  # join | login | import


@dataclass(frozen=True)
class RoomStatus:
    evaluation_id: int
    name: str
    join_code: str
    voting_open: bool
    reveal_policy: str
    votes_per_battle: int | None
    live_cap: int | None
    raters_joined: int
    votes_cast: int
    battles: int  # prepared battles ready to rate
    battles_needing_votes: int  # full overlap: fewer votes than raters joined; routed: fewer than needed
    votes_still_needed: int
    raters: list[RaterProgress]


def optional_count(value: Any, what: str | Text, none_means: str | Text) -> int | None:
    """A whole number of 1 or more, or None for empty / 0 (a number box left blank)."""
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number == 0:
        return None
    if number < 1 or number != int(number) or number > MAX_COUNT:
        raise InvalidInput(t("arena.count_whole", what=what, none_means=none_means))
    return int(number)


def votes_needed(value: Any) -> int | None:
    return optional_count(value, t("arena.count_votes_what"), t("arena.count_votes_none"))


def live_cap(value: Any) -> int | None:
    return optional_count(value, t("arena.count_cap_what"), t("arena.count_cap_none"))


class RoomActions:
    uow_factory: Callable[[], UnitOfWork]
    holds: Holds
    evaluation: Callable[[int | None], EvaluationInfo]
    _servable: Callable[[UnitOfWork, int], list[dict]]

    def _update(self, evaluation_id: int | None, **fields: Any) -> EvaluationInfo:
        info = self.evaluation(evaluation_id)
        with self.uow_factory() as uow:
            evaluation = uow.arena.get_evaluation(info.id)
            if evaluation is None:
                raise InvalidInput(t("arena.evaluation_deleted"))
            for column, value in fields.items():
                setattr(evaluation, column, value)
        return info

    # ---- reveal policy ---------------------------------------------------------------
    # Why a policy cannot be chosen for an evaluation about to be created (None: it can).
    new_reveal_policy_problem = staticmethod(reveal.new_policy_problem)

    def reveal_policy_problem(self, evaluation_id: int | None, policy: str) -> Text | None:
        """Why ``policy`` cannot be chosen for this evaluation (None: it can)."""
        info = self.evaluation(evaluation_id)
        with self.uow_factory() as uow:
            prepared = {p.id for p in uow.arena.prompts(info.id) if p.source == "set"}
            battles = [
                (b.answer_a_id, b.answer_b_id, b.repeat_of_id)
                for b in uow.arena.battles(info.id)
                if b.prompt_id in prepared
            ]
        return reveal.stored_policy_problem(policy, battles)

    def set_reveal_policy(self, evaluation_id: int | None, policy: str) -> Text:
        problem = self.reveal_policy_problem(evaluation_id, policy)
        if problem:
            raise InvalidInput(problem)
        info = self._update(evaluation_id, reveal_policy=policy)
        return t(_POLICY_SET[policy], name=info.name)

    # ---- routing, live cap, answers together ---------------------------------------------
    def set_votes_per_battle(self, evaluation_id: int | None, votes: Any) -> Text:
        need = votes_needed(votes)
        info = self._update(evaluation_id, votes_per_battle=need)
        if need is None:
            return t("arena.votes_set_all", name=info.name)
        return t("arena.votes_set_need", name=info.name, n=need)

    def set_live_cap(self, evaluation_id: int | None, cap: Any) -> Text:
        value = live_cap(cap)
        info = self._update(evaluation_id, live_cap=value)
        if value is None:
            return t("arena.cap_set_none", name=info.name)
        return t("arena.cap_set", name=info.name, n=value)

    def set_show_together(self, evaluation_id: int | None, on: bool) -> Text:
        info = self._update(evaluation_id, show_together=bool(on))
        return t("arena.together_on" if on else "arena.together_off", name=info.name)

    # ---- the room --------------------------------------------------------------------
    def set_voting_open(self, evaluation_id: int | None, open_: bool) -> Text:
        info = self._update(evaluation_id, voting_open=bool(open_))
        return t("arena.voting_opened" if open_ else "arena.voting_closed_for", name=info.name)

    @staticmethod
    def check_release_name(name: str | None) -> str:
        """The name key of the rater to release; refuses a blank name."""
        key = name_key(name)
        if not key:
            raise InvalidInput(t("arena.release_blank"))
        return key

    def release_rater_name(self, evaluation_id: int | None, name: str) -> Text:
        """Free a rater's name: the browser holding it stops rating as them, and the next person
        joining under it takes the rater over (with their votes)."""
        key = self.check_release_name(name)
        info = self.evaluation(evaluation_id)
        with self.uow_factory() as uow:
            rater = uow.arena.rater_by_key(info.id, key) if key else None
            if rater is None:
                raise InvalidInput(t("arena.no_such_rater", name=name, evaluation=info.name))
            rater.released_at, rater.secret_hash = datetime.now(UTC), None
            rater_id, shown = rater.id, rater.name
        self.holds.release(info.id, rater_id)
        return t("arena.name_freed", name=shown)

    def room_status(self, evaluation_id: int | None) -> RoomStatus:
        info = self.evaluation(evaluation_id)
        with self.uow_factory() as uow:
            evaluation = uow.arena.get_evaluation(info.id)
            if evaluation is None:
                raise InvalidInput(t("arena.evaluation_deleted"))
            raters = [r for r in uow.arena.raters(info.id) if r.source != "import"]
            per_rater = uow.arena.votes_per_rater(info.id)
            asked = uow.arena.live_prompts_asked(info.id)
            servable = self._servable(uow, info.id)
            counts = uow.arena.vote_counts(info.id)
            progress = [
                RaterProgress(
                    r.name,
                    per_rater.get(r.id, 0),
                    asked.get(r.id, 0),
                    r.finished_at is not None,
                    r.released_at is not None,
                    r.source,
                )
                for r in raters
            ]
            missing = _missing_votes(evaluation, servable, counts, len(raters))
            return RoomStatus(
                evaluation_id=info.id,
                name=info.name,
                join_code=info.join_code,
                voting_open=evaluation.voting_open,
                reveal_policy=evaluation.reveal_policy,
                votes_per_battle=evaluation.votes_per_battle,
                live_cap=evaluation.live_cap,
                raters_joined=len(raters),
                votes_cast=sum(per_rater.values()),
                battles=len(servable),
                battles_needing_votes=sum(n > 0 for n in missing),
                votes_still_needed=sum(missing),
                raters=sorted(progress, key=lambda p: (-p.votes, p.name.casefold())),
            )

    # ---- tallies ---------------------------------------------------------------------
    def tally(self, evaluation_id: int | None) -> tuple[int, list[RaterTally]]:
        count, per_rater = self.vote_tally(evaluation_id)
        return count.cast, per_rater

    def vote_tally(self, evaluation_id: int | None) -> tuple[lb.VoteCount, list[RaterTally]]:
        """Votes cast per rater, and all votes counted the way the leaderboard counts them."""
        info = self.evaluation(evaluation_id)
        with self.uow_factory() as uow:
            evaluation = uow.arena.get_evaluation(info.id)
            if evaluation is None:
                raise InvalidInput(t("arena.evaluation_deleted"))
            action = evaluation.leak_action
            counts: dict[str, int] = {r.name: 0 for r in uow.arena.raters(info.id)}
            rows = uow.arena.vote_rows(info.id)
        for row in rows:
            counts[row["rater"]] = counts.get(row["rater"], 0) + 1
        return lb.count_votes(rows, action), [
            RaterTally(name, n) for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]


def _missing_votes(evaluation: ArenaEvaluation, servable: list[dict], counts: dict[int, int], raters: int) -> list[int]:
    """Votes each ratable battle still lacks: to reach every rater (full overlap) or the number needed.
    Routed repeats are each rater's own consistency checks, not coverage, so they are left out."""
    need = evaluation.votes_per_battle
    if need is None:
        return [max(0, raters - counts.get(row["id"], 0)) for row in servable]
    return [max(0, need - counts.get(row["id"], 0)) for row in servable if row["repeat_of_id"] is None]
