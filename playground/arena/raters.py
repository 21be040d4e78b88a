"""What a rater can do once joined (``joining``): get the next battle, vote, see their summary.

Blindness: nothing returned before the rater may know names one. Battles travel as opaque
tokens; answers that name a model are redacted (or excluded); names come from ``vote`` only
when the evaluation's reveal policy allows it at that moment (``reveal``), and otherwise in
``rater_summary`` once the rater has finished. Under "after_last" a finished rater is never
served another prepared battle, so names once seen cannot give a later answer away.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from playground.arena import reveal as policy
from playground.arena.joining import EVALUATION_GONE, VOTING_CLOSED, JoinActions
from playground.arena.leaks import redact
from playground.arena.reveal import RaterSummary, Reveal, SummaryRow
from playground.arena.routing import Candidates, Holds, pick_full_overlap, pick_routed
from playground.arena.schedule import rater_sequence
from playground.errors import InvalidInput
from playground.i18n import t
from storage import ArenaEvaluation, ArenaRater, ArenaVote, ConflictError, UnitOfWork

WINNERS = {"a": "A is better", "b": "B is better", "tie": "Tie (both equally good)", "bothbad": "Both are bad"}
GONE = t("arena.battle_gone")
NOT_YOURS = t("arena.battle_not_yours")
ALREADY_FINISHED = t("arena.already_finished")
__all__ = ["GONE", "WINNERS", "BattleView", "RaterActions", "RaterSummary", "Reveal", "SummaryRow"]


@dataclass(frozen=True)
class BattleView:
    token: str
    prompt: str
    text_a: str
    text_b: str
    number: int  # this rater's count of votes so far + 1
    total: int  # battles this rater can rate now (routed: about as many)


@dataclass(frozen=True)
class _Plan:
    """Where one rater stands in their evaluation."""

    pick: int | None  # the battle to serve next
    servable: dict[int, dict]  # ratable prepared battles by id
    voted: int  # of those, how many this rater voted
    left: int  # battles still to come for this rater
    waiting: int  # routed battles others are rating now
    pending: int  # answers still to be generated
    finished: bool


class RaterActions(JoinActions):
    uow_factory: Callable[[], UnitOfWork]
    holds: Holds

    @staticmethod
    def _servable(uow: UnitOfWork, evaluation_id: int) -> list[dict]:
        evaluation = uow.arena.get_evaluation(evaluation_id)
        exclude = evaluation is not None and evaluation.leak_action == "exclude"
        return [
            row
            for row in uow.arena.battle_rows(evaluation_id)
            if row["status_a"] == "ok"
            and row["status_b"] == "ok"
            and row["source"] == "set"
            and not (exclude and (row["leaks_a"] or row["leaks_b"]))
        ]

    def _evaluation(self, uow: UnitOfWork, rater: ArenaRater, voting: bool = True) -> ArenaEvaluation:
        evaluation = uow.arena.get_evaluation(rater.evaluation_id)
        if evaluation is None:  # deleted since the rater was read
            raise InvalidInput(EVALUATION_GONE)
        if voting and not evaluation.voting_open:
            raise InvalidInput(VOTING_CLOSED)
        return evaluation

    def _plan(self, uow: UnitOfWork, rater: ArenaRater, evaluation: ArenaEvaluation, hold: bool = False) -> _Plan:
        servable = {row["id"]: row for row in self._servable(uow, evaluation.id)}
        voted_order = uow.arena.voted_battle_order(rater.id)
        voted = len(set(voted_order) & servable.keys())
        pending = uow.arena.pending_answers(evaluation.id)
        if rater.finished_at is not None and evaluation.reveal_policy == policy.AFTER_LAST:
            return _Plan(None, servable, voted, 0, 0, pending, finished=True)  # names seen: nothing more
        repeat_of = {b: row["repeat_of_id"] for b, row in servable.items()}
        order = rater_sequence(list(repeat_of.items()), rater.id, evaluation.seed)
        candidates = Candidates(order, repeat_of, voted_order)
        need = evaluation.votes_per_battle
        if need is None:
            pick, waiting = pick_full_overlap(candidates), 0
            left = len(servable) - voted
        else:
            with self.holds.picking(evaluation.id):
                # Read under the lock, and fresh: nothing was written in this unit of work yet, so
                # SQLite (no BEGIN before a write) and PostgreSQL (read committed) see every vote
                # committed so far. (A second connection here could deadlock a full pool.)
                votes = uow.arena.vote_counts(evaluation.id)
                others, own = self.holds.snapshot(evaluation.id, rater.id)
                pick, waiting = pick_routed(candidates, votes, others, need, own)
                if hold and pick is not None:
                    self.holds.hold(evaluation.id, rater.id, pick)
            voted_set = set(voted_order)
            open_ = {b for b in servable if b not in voted_set and repeat_of[b] is None and votes.get(b, 0) < need}
            repeats = {b for b, o in repeat_of.items() if o is not None and b not in voted_set}
            left = len(open_) + sum(repeat_of[b] in voted_set | open_ for b in repeats)  # about: others vote too
        finished = pick is None and waiting == 0 and pending == 0
        return _Plan(pick, servable, voted, left, waiting, pending, finished)

    @staticmethod
    def _mark_finished(rater: ArenaRater) -> None:
        if rater.finished_at is None:
            rater.finished_at = datetime.now(UTC)

    def next_battle(self, session: dict | None) -> BattleView | None:
        """The rater's next battle, or None when there is none for them now (``rater_summary`` says why)."""
        with self.uow_factory() as uow:
            rater = self._rater(uow, session)
            evaluation = self._evaluation(uow, rater)
            plan = self._plan(uow, rater, evaluation, hold=True)
            if plan.pick is None:
                if plan.finished:
                    self._mark_finished(rater)
                return None
            battle = plan.servable[plan.pick]
            prompt = uow.arena.get_prompt(battle["prompt_id"])
            pair = uow.arena.get_battle(plan.pick)
            if prompt is None or pair is None:  # the evaluation was deleted or changed meanwhile
                raise InvalidInput(GONE)
            a, b = uow.arena.get_answer(pair.answer_a_id), uow.arena.get_answer(pair.answer_b_id)
            if a is None or b is None:
                raise InvalidInput(GONE)
            words = evaluation.leak_words
            return BattleView(
                token=battle["token"],
                prompt=prompt.text,
                text_a=redact(a.text, words) if a.leaks else a.text,
                text_b=redact(b.text, words) if b.leaks else b.text,
                number=plan.voted + 1,
                total=plan.voted + plan.left if evaluation.votes_per_battle else len(plan.servable),
            )

    def _votable(self, uow: UnitOfWork, session: dict | None, token: str) -> tuple[int, int, int, bool]:
        """(battle id, rater id, evaluation id, already voted) for a vote the rater may cast now."""
        rater = self._rater(uow, session)
        evaluation = self._evaluation(uow, rater)
        battle = uow.arena.battle_by_token(str(token))
        if battle is None or battle.evaluation_id != rater.evaluation_id:
            raise InvalidInput(GONE)
        prompt = uow.arena.get_prompt(battle.prompt_id)
        if prompt is None:
            raise InvalidInput(GONE)
        if prompt.source == "live" and prompt.asked_by_id not in (None, rater.id):
            raise InvalidInput(NOT_YOURS)
        already = uow.arena.vote(battle.id, rater.id) is not None
        latched = rater.finished_at is not None and evaluation.reveal_policy == policy.AFTER_LAST
        if latched and prompt.source != "live" and not already:
            raise InvalidInput(ALREADY_FINISHED)
        return battle.id, rater.id, evaluation.id, already

    def vote(
        self,
        session: dict | None,
        token: str | None,
        winner: str,
        acceptable_a: bool | None = None,
        acceptable_b: bool | None = None,
        reasons: Sequence[str] = (),
        comment: str = "",
        seconds: float | None = None,
    ) -> Reveal:
        if winner not in WINNERS:
            raise InvalidInput(t("arena.choose_winner"))
        if not token:
            raise InvalidInput(t("arena.no_battle_on_screen"))
        with self.uow_factory() as uow:
            battle_id, rater_id, evaluation_id, already = self._votable(uow, session, str(token))
        if not already:
            try:
                with self.uow_factory() as uow:  # the write alone: one INSERT, committed at once
                    uow.arena.add(
                        ArenaVote(
                            battle_id=battle_id,
                            rater_id=rater_id,
                            winner=winner,
                            acceptable_a=acceptable_a,
                            acceptable_b=acceptable_b,
                            reasons=[str(r)[:100] for r in (reasons or [])][:20],
                            comment=(comment or "").strip()[:5000],
                            seconds_to_vote=seconds,
                        )
                    )
            except ConflictError:
                already = True  # a double click or a second tab: the first vote stands
        self.holds.release(evaluation_id, rater_id, battle_id)  # after the commit: the vote now counts
        return self._reveal(session, str(token), already)

    def _reveal(self, session: dict | None, token: str, already: bool) -> Reveal:
        with self.uow_factory() as uow:
            rater = self._rater(uow, session)
            evaluation = self._evaluation(uow, rater, voting=False)
            battle = uow.arena.battle_by_token(token)
            stored = uow.arena.vote(battle.id, rater.id) if battle is not None else None
            if battle is None or stored is None:
                raise InvalidInput(GONE)
            finished = self._plan(uow, rater, evaluation).finished
            if finished:
                self._mark_finished(rater)
            rule = evaluation.reveal_policy
            message = policy.vote_message(rule, finished)
            if not policy.reveals_now(rule, finished):
                return Reveal(None, None, stored.winner, already, revealed=False, finished=finished, message=message)
            a, b = uow.arena.get_answer(battle.answer_a_id), uow.arena.get_answer(battle.answer_b_id)
            if a is None or b is None:  # the evaluation was deleted meanwhile
                raise InvalidInput(GONE)
            contestant_a, contestant_b = (
                uow.arena.get_contestant(a.contestant_id),
                uow.arena.get_contestant(b.contestant_id),
            )
            if contestant_a is None or contestant_b is None:
                raise InvalidInput(GONE)
            return Reveal(contestant_a.label, contestant_b.label, stored.winner, already, True, finished, message)

    def rater_summary(self, session: dict | None) -> RaterSummary:
        """The rater's own votes, with the names when their evaluation's policy allows, once they
        have finished; before that, why not yet (``available`` False)."""
        with self.uow_factory() as uow:
            rater = self._rater(uow, session)
            evaluation = self._evaluation(uow, rater, voting=False)
            plan = self._plan(uow, rater, evaluation)
            if not plan.finished:
                message = (
                    policy.battles_left(plan.left)
                    if plan.pick is not None
                    else (policy.OTHERS if plan.waiting else policy.PREPARING)
                )
                return RaterSummary(False, False, message)
            self._mark_finished(rater)
            names = evaluation.reveal_policy != policy.NEVER
            labels = {c.id: c.label for c in uow.arena.contestants(evaluation.id)}
            words = list(evaluation.leak_words)
            rows = [
                SummaryRow(
                    number=i,
                    prompt=v["prompt"],
                    text_a=redact(v["text_a"], words) if v["leaks_a"] else v["text_a"],
                    text_b=redact(v["text_b"], words) if v["leaks_b"] else v["text_b"],
                    winner=v["winner"],
                    choice=WINNERS[v["winner"]],
                    label_a=labels.get(v["contestant_a"]) if names else None,
                    label_b=labels.get(v["contestant_b"]) if names else None,
                    repeat=v["repeat_of_id"] is not None,
                    live=v["prompt_source"] == "live",
                )
                for i, v in enumerate(uow.arena.vote_rows(evaluation.id, rater_id=rater.id), start=1)
            ]
            message = policy.FINISHED if names else policy.FINISHED_NEVER
            return RaterSummary(True, names, message, rows)
