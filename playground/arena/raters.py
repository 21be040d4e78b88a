"""What a rater can do: join with a name (or login) and a code, get the next battle, vote.

Blindness: nothing returned before the vote names a contestant. Battles travel as opaque
tokens; answers that name a model are redacted (or excluded); names come only from `vote`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from playground.arena.leaks import redact
from playground.arena.schedule import rater_sequence
from playground.errors import InvalidInput
from storage import ArenaRater, ArenaVote, ConflictError, UnitOfWork

WINNERS = {"a": "A is better", "b": "B is better", "tie": "Tie (both equally good)", "bothbad": "Both are bad"}
EVALUATION_GONE = "This evaluation no longer exists. Ask your facilitator for a new join code."
GONE = "This battle no longer exists (the evaluation was deleted or changed). Press “Next battle” to go on."


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


@dataclass(frozen=True)
class BattleView:
    token: str
    prompt: str
    text_a: str
    text_b: str
    number: int  # this rater's count of votes so far + 1
    total: int  # battles this rater can rate now


@dataclass(frozen=True)
class Reveal:
    label_a: str
    label_b: str
    winner: str
    already_counted: bool


class RaterActions:
    uow_factory: Callable[[], UnitOfWork]

    # ---- raters ----------------------------------------------------------------------
    def join(self, code: str, name: str, username: str | None = None) -> dict:
        """A rater's session: {rater_id, evaluation_id, name}. A login name wins over a typed one."""
        code = _clean(code).upper()
        if not code:
            raise InvalidInput("Type the join code your facilitator gave you.")
        rater_name = _clean(username) if username else _clean(name)
        if not rater_name:
            raise InvalidInput("Type your name (any name your facilitator will recognise).")
        if len(rater_name) > 100:
            raise InvalidInput("Please use a shorter name (100 characters at most).")
        for _ in range(3):  # two tabs joining with one name at once: the second finds the first's row
            try:
                with self.uow_factory() as uow:
                    evaluation = uow.arena.evaluation_by_code(code)
                    if evaluation is None:
                        raise InvalidInput(
                            f"No evaluation has the join code {code!r}. Check the code with your facilitator."
                        )
                    rater = uow.arena.rater(evaluation.id, rater_name) or uow.arena.add(
                        ArenaRater(evaluation_id=evaluation.id, name=rater_name, source="login" if username else "join")
                    )
                    return {"rater_id": rater.id, "evaluation_id": evaluation.id, "name": rater_name}
            except ConflictError:
                continue
        raise InvalidInput("Could not register your name just now; please press Join again.")

    def _rater(self, uow: UnitOfWork, session: dict | None) -> ArenaRater:
        rater = uow.arena.get_rater(int(session["rater_id"])) if session and session.get("rater_id") else None
        if rater is None:
            raise InvalidInput(
                "Join first: type your name and the join code, then press Join." if not session else EVALUATION_GONE
            )
        return rater

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

    def next_battle(self, session: dict | None) -> BattleView | None:
        """The rater's next unrated battle, or None when every ready battle has their vote."""
        with self.uow_factory() as uow:
            rater = self._rater(uow, session)
            evaluation = uow.arena.get_evaluation(rater.evaluation_id)
            if evaluation is None:  # deleted since the rater was read
                raise InvalidInput(EVALUATION_GONE)
            servable = {row["id"]: row for row in self._servable(uow, rater.evaluation_id)}
            voted = uow.arena.voted_battle_ids(rater.id)
            order = rater_sequence([(b, row["repeat_of_id"]) for b, row in servable.items()], rater.id, evaluation.seed)
            pick = next((b for b in order if b not in voted and (servable[b]["repeat_of_id"] in (None, *voted))), None)
            if pick is None:
                return None
            battle = servable[pick]
            prompt = uow.arena.get_prompt(battle["prompt_id"])
            pair = uow.arena.get_battle(pick)
            if prompt is None or pair is None:  # the evaluation was deleted or changed meanwhile
                raise InvalidInput(GONE)
            a, b = uow.arena.get_answer(pair.answer_a_id), uow.arena.get_answer(pair.answer_b_id)
            if a is None or b is None:
                raise InvalidInput(GONE)
            words = evaluation.leak_words
            done = len(voted & servable.keys())
            return BattleView(
                token=battle["token"],
                prompt=prompt.text,
                text_a=redact(a.text, words) if a.leaks else a.text,
                text_b=redact(b.text, words) if b.leaks else b.text,
                number=done + 1,
                total=len(servable),
            )

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
            raise InvalidInput("Choose A better, B better, Tie or Both bad.")
        if not token:
            raise InvalidInput("There is no battle on screen to vote on. Press “Next battle”.")
        with self.uow_factory() as uow:
            rater = self._rater(uow, session)
            battle = uow.arena.battle_by_token(str(token))
            if battle is None or battle.evaluation_id != rater.evaluation_id:
                raise InvalidInput(GONE)
            battle_id, rater_id = battle.id, rater.id
        already = False
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
        with self.uow_factory() as uow:
            battle = uow.arena.battle_by_token(str(token))
            if battle is None:
                raise InvalidInput(GONE)
            stored = uow.arena.vote(battle.id, rater_id)
            if stored is None:
                raise InvalidInput(GONE)
            a, b = uow.arena.get_answer(battle.answer_a_id), uow.arena.get_answer(battle.answer_b_id)
            if a is None or b is None:  # the evaluation was deleted meanwhile
                raise InvalidInput(GONE)
            contestant_a, contestant_b = (
                uow.arena.get_contestant(a.contestant_id),
                uow.arena.get_contestant(b.contestant_id),
            )
            if contestant_a is None or contestant_b is None:
                raise InvalidInput(GONE)
            return Reveal(contestant_a.label, contestant_b.label, stored.winner, already)
