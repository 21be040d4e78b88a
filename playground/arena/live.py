"""Live battles: a rater types a prompt, two contestants drawn at random answer side by side,
and the pair becomes an ordinary battle once both have finished.

A live prompt is an arena prompt with source="live", its answers are arena answers and the
battle a normal battle of the evaluation, so votes on it go through `vote` and count in the
leaderboard, agreement, exports and report like any other. Only the rater who asked holds
the battle's token; `next_battle` never serves live battles to anyone else.

Blindness: what this module yields never names a contestant. With the evaluation's
``show_together`` (on by default) no text is shown until both answers are in, only how many
of the two have finished, so stream speed cannot tell the models apart. Streamed text is redacted with
the evaluation's leak words, and a word still arriving is held back until it is complete (so
"Gem" never shows before "Gemma" can be recognised); a model's error text (which names it)
is logged, never shown; the battle's token exists only once both answers are in and clean.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from playground.arena.leaks import find_leaks, inside_words, redact
from playground.arena.live_limits import LiveAskLimiter
from playground.compare.fanout import ColumnState, StreamRequest, stream_requests
from playground.errors import InvalidInput, ModelNotFound
from playground.generation import GenerationRecorder
from playground.i18n import Text, t
from playground.models.registry import ModelRegistry
from playground.models.types import GenerationParams, Message
from storage import ArenaAnswer, ArenaBattle, ArenaEvaluation, ArenaPrompt, ArenaRater, ConflictError, UnitOfWork

log = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 4000
LIVE_MODE = "live"
# A LiveView's ``message`` is the English sentence (logs, API callers); ``said`` the same as a
# catalogue Text, which the rater's page shows in the rater's language.
ANSWERING_TEXT = t("arena.live_answering")
READY_TEXT = t("arena.live_ready")
READY_REDACTED_TEXT = t("arena.live_ready_redacted")
FAILED_VIEW_TEXT = t("arena.live_failed")
EXCLUDED_VIEW_TEXT = t("arena.live_excluded")
ANSWERING, READY, FAILED, EXCLUDED = (
    str(x) for x in (ANSWERING_TEXT, READY_TEXT, FAILED_VIEW_TEXT, EXCLUDED_VIEW_TEXT)
)
# Shown in an answer box in place of an answer; the rater's page swaps in the rater's language.
FAILED_TEXT = str(t("arena.live_failed_text"))
EXCLUDED_TEXT = str(t("arena.live_excluded_text"))
DELETED = t("arena.live_deleted")
LIVE_OFF = t("arena.live_off")
TOGETHER = str(t("arena.live_together", done="{done}"))
TOO_FEW = t("arena.live_too_few")


def together_text(done: int) -> Text:
    return t("arena.live_together", done=done)


@dataclass(frozen=True)
class LiveView:
    prompt: str
    text_a: str
    text_b: str
    message: str
    finished: bool  # both models are done (successfully or not)
    token: str | None = None  # only when the pair is a battle that can be voted on
    answered: int = 0  # how many of the two models have finished
    said: Text | None = None  # ``message`` as a catalogue Text, for the rater's language


def _view(prompt: str, text_a: str, text_b: str, said: Text, **kwargs: object) -> LiveView:
    return LiveView(prompt, text_a, text_b, str(said), said=said, **kwargs)  # type: ignore[arg-type]


def shown_while_streaming(text: str, words: Sequence[str]) -> str:
    """The part of a growing answer that is safe to show, with leak words blacked out.

    The trailing word is held back until whitespace follows it, and so is any tail that could
    still grow into a listed word or phrase ("Hugging " before "Face" arrives)."""
    cut = max(text.rfind(c) for c in (" ", "\n", "\t")) + 1
    lowered = text[:cut].lower()
    longest = max((len(w) for w in words), default=0)
    for start in range(max(0, cut - longest - 1), cut):
        glued = bool(start) and lowered[start - 1].isalnum()  # only a long word is caught inside another
        tail = lowered[start:].rstrip()
        if tail and any(
            w.lower().startswith(tail) and len(w) > len(tail) and (not glued or inside_words(w)) for w in words
        ):
            cut = start
            while cut and lowered[cut - 1].isalnum():  # hold back the whole word it is glued to
                cut -= 1
            break
    return redact(text[:cut], words)


def _check_cap(uow: UnitOfWork, evaluation: ArenaEvaluation, rater_id: int) -> None:
    """Refuse a live prompt past the evaluation's per-rater cap (None: no cap)."""
    cap = evaluation.live_cap
    if cap is not None and uow.arena.live_prompts_asked(evaluation.id).get(rater_id, 0) >= cap:
        raise InvalidInput(t("arena.live_cap", cap=cap))


def _messages(params: GenerationParams, prompt: str) -> tuple[Message, ...]:
    return tuple(
        ([Message("system", params.system_prompt)] if params.system_prompt else []) + [Message("user", prompt)]
    )


class LiveActions:
    """Mixed into ArenaService (which provides these attributes and `_rater`)."""

    registry: ModelRegistry
    recorder: GenerationRecorder
    uow_factory: Callable[[], UnitOfWork]
    live_limiter: LiveAskLimiter
    _rater: Callable[[UnitOfWork, dict | None], ArenaRater]
    _evaluation: Callable[..., ArenaEvaluation]

    def live_enabled(self, session: dict | None) -> bool:
        """Whether the rater's evaluation takes live prompts (False before joining)."""
        if not session or not session.get("rater_id"):
            return False
        with self.uow_factory() as uow:
            rater = uow.arena.get_rater(int(session["rater_id"]))
            evaluation = uow.arena.get_evaluation(rater.evaluation_id) if rater is not None else None
            return evaluation is not None and evaluation.mode == LIVE_MODE

    def _working(self, model_key: str) -> bool:
        try:
            self.registry.get_spec(model_key)
            return True
        except ModelNotFound:
            return False

    @staticmethod
    def check_live_prompt(prompt: str | None) -> str:
        """The rater's live prompt as it is asked; refuses an empty or overlong one."""
        text = re.sub(r"[ \t]+\n", "\n", (prompt or "").strip())
        if not text:
            raise InvalidInput(t("arena.live_blank"))
        if len(text) > MAX_PROMPT_CHARS:
            raise InvalidInput(t("arena.live_too_long", length=len(text), max=MAX_PROMPT_CHARS))
        return text

    def ask_live(
        self, session: dict | None, prompt: str | None, cancel: threading.Event | None = None
    ) -> Iterator[LiveView]:
        """Stream two anonymous answers to the rater's prompt; the last view says whether
        (and by which token) the pair can be voted on. A rater past their live-ask limits
        (``live_limiter``) is refused with a plain message before anything is stored."""
        text = self.check_live_prompt(prompt)
        with self.uow_factory() as uow:
            rater = self._rater(uow, session)
            if uow.arena.get_evaluation(rater.evaluation_id) is None:
                raise InvalidInput(DELETED)
            evaluation = self._evaluation(uow, rater)  # voting closed: refused
            if evaluation.mode != LIVE_MODE:
                raise InvalidInput(LIVE_OFF)
            evaluation_id, words, rater_id = evaluation.id, list(evaluation.leak_words), rater.id
            _check_cap(uow, evaluation, rater_id)
            together = evaluation.show_together
            # A model that failed pre-generation is known broken; one gone from the registry cannot run.
            candidates = [
                (c.id, c.model_key, dict(c.params))
                for c in uow.arena.contestants(evaluation_id)
                if c.status != "failed"
            ]
        with self.live_limiter.slot(f"rater:{rater_id}"):
            yield from self._ask_pair(evaluation_id, words, candidates, text, cancel, rater_id, together)

    def _ask_pair(
        self,
        evaluation_id: int,
        words: list[str],
        candidates: list[tuple[int, str, dict]],
        text: str,
        cancel: threading.Event | None,
        rater_id: int | None = None,
        together: bool = True,
    ) -> Iterator[LiveView]:
        working = [c for c in candidates if self._working(c[1])]
        if len(working) < 2:
            raise InvalidInput(TOO_FEW)
        pair = random.SystemRandom().sample(working, 2)  # a random pair in a random order: A is pair[0]
        prompt_id, answer_ids = self._live_rows(evaluation_id, text, [c[0] for c in pair], rater_id)
        run_id = self.recorder.start_run(
            "arena", title=text, meta={"evaluation_id": evaluation_id, "live": True, "prompt_id": prompt_id}
        )
        jobs = [
            StreamRequest(position=i, model_key=key, messages=_messages(params, text), params=params)
            for i, (_, key, params) in enumerate((c[0], c[1], GenerationParams.from_dict(c[2])) for c in pair)
        ]
        log.info("Live arena prompt %s in evaluation %s", prompt_id, evaluation_id)
        yield _view(text, "", "", together_text(0) if together else ANSWERING_TEXT, finished=False)
        states: list[ColumnState] = [ColumnState(0), ColumnState(1)]
        snapshots = stream_requests(self.recorder, run_id, jobs, cancel)
        shown: tuple[str, ...] | int = ("", "") if not together else 0
        try:
            for states in snapshots:
                if all(s.done for s in states):
                    continue
                done = sum(s.done for s in states)
                if together:  # how many have finished, never what or which
                    if done != shown:
                        shown = done
                        yield _view(text, "", "", together_text(done), finished=False, answered=done)
                    continue
                now = tuple(
                    FAILED_TEXT if s.status == "error" else shown_while_streaming(s.text, words) for s in states
                )
                if now != shown:  # snapshots come every 80 ms even while a model is still loading
                    shown = now
                    text_a, text_b = now  # one state per request: the pair's two answers
                    yield _view(text, text_a, text_b, ANSWERING_TEXT, finished=False, answered=done)
        finally:
            snapshots.close()  # the rater went away: stop both generations
            if not all(s.done for s in states):
                self._save_answers(answer_ids, states, [[], []])
        yield self._finish(evaluation_id, text, prompt_id, answer_ids, states)

    def _live_rows(
        self, evaluation_id: int, text: str, contestant_ids: Sequence[int], rater_id: int | None = None
    ) -> tuple[int, list[int]]:
        for _ in range(5):  # two raters asking at once may take the same position: the second retries
            try:
                with self.uow_factory() as uow:
                    evaluation = uow.arena.get_evaluation(evaluation_id)
                    if evaluation is None:
                        raise InvalidInput(DELETED)
                    if rater_id is not None:
                        _check_cap(uow, evaluation, rater_id)  # again, in the transaction that adds the prompt
                    row = uow.arena.add(
                        ArenaPrompt(
                            evaluation_id=evaluation_id,
                            position=uow.arena.max_prompt_position(evaluation_id) + 1,
                            question_id=f"live-{uuid.uuid4().hex[:12]}",
                            text=text,
                            source="live",
                            asked_by_id=rater_id,
                        )
                    )
                    answers = [
                        ArenaAnswer(prompt_id=row.id, contestant_id=cid, text="", status="pending", leaks=[])
                        for cid in contestant_ids
                    ]
                    uow.arena.add_all(answers)
                    return row.id, [a.id for a in answers]
            except ConflictError:
                continue
        raise InvalidInput(t("arena.live_busy"))

    def _save_answers(
        self, answer_ids: Sequence[int], states: Sequence[ColumnState], leaks: Sequence[list[str]]
    ) -> bool:
        """Store both answers; False when they are gone (the evaluation was deleted)."""
        with self.uow_factory() as uow:
            answers = []
            for answer_id in answer_ids:
                answer = uow.arena.get_answer(answer_id)
                if answer is None:
                    return False
                answers.append(answer)
            for answer, state, found in zip(answers, states, leaks):
                ok = state.status == "ok"
                answer.generation_id = state.generation_id
                answer.text = state.text
                answer.status = "ok" if ok else "error"
                answer.error = None if ok else str(state.error or "The answer did not finish.")
                answer.leaks = list(found)
        return True

    def _finish(
        self, evaluation_id: int, text: str, prompt_id: int, answer_ids: Sequence[int], states: Sequence[ColumnState]
    ) -> LiveView:
        with self.uow_factory() as uow:  # the policy as it is now: the admin may have changed it meanwhile
            evaluation = uow.arena.get_evaluation(evaluation_id)
            if evaluation is None:
                return _view(text, "", "", DELETED, finished=True)
            words, action = list(evaluation.leak_words), evaluation.leak_action
        leaks = [find_leaks(s.text, words) if s.status == "ok" else [] for s in states]
        if not self._save_answers(answer_ids, states, leaks):
            return _view(text, "", "", DELETED, finished=True)
        failed = [s.status != "ok" for s in states]
        if any(failed):
            a, b = (FAILED_TEXT if bad else redact(s.text, words) for s, bad in zip(states, failed))
            for s in states:
                if s.status != "ok":
                    log.warning("Live arena prompt %s: an answer failed (%s): %s", prompt_id, s.status, s.error)
            return _view(text, a, b, FAILED_VIEW_TEXT, finished=True)
        if action == "exclude" and any(leaks):
            a, b = (EXCLUDED_TEXT if found else redact(s.text, words) for s, found in zip(states, leaks))
            log.info("Live arena prompt %s: an answer named a model (%s); discarded", prompt_id, leaks)
            return _view(text, a, b, EXCLUDED_VIEW_TEXT, finished=True)
        with self.uow_factory() as uow:
            if uow.arena.get_evaluation(evaluation_id) is None:
                return _view(text, "", "", DELETED, finished=True)
            battle = uow.arena.add(
                ArenaBattle(
                    evaluation_id=evaluation_id,
                    token=uuid.uuid4().hex,
                    position=uow.arena.max_battle_position(evaluation_id) + 1,
                    prompt_id=prompt_id,
                    answer_a_id=answer_ids[0],
                    answer_b_id=answer_ids[1],
                )
            )
            token = battle.token
        a, b = (redact(s.text, words) for s in states)
        return _view(text, a, b, READY_REDACTED_TEXT if any(leaks) else READY_TEXT, finished=True, token=token)
