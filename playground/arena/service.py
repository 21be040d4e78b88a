"""What the Arena tab and the rater view can do. The UI calls only this.

Blindness: nothing a rater's handlers return names a contestant before the evaluation's
reveal policy allows (by default: after the rater's last battle) — battles travel as opaque
tokens, answers are redacted (or excluded) when they name a model, and names come back from
`vote` or `rater_summary` only when the policy says so (``playground.arena.reveal``).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from playground.arena import files
from playground.arena import leaderboard as lb
from playground.arena.agreement import AgreementReport, Judgement, agreement_report
from playground.arena.creation import (
    LEAK_ACTIONS,
    check_new_evaluation,
    contestant_labels,
    contestant_words,
    room_settings,
    store_battles,
)
from playground.arena.join_codes import new_join_code
from playground.arena.leaks import default_words, find_leaks, parse_words, unique_words
from playground.arena.live import LIVE_MODE, LiveActions, LiveView  # noqa: F401 - LiveView re-exported for the UI
from playground.arena.live_limits import JoinLimiter, LiveAskLimiter
from playground.arena.pregen import PregenJobs
from playground.arena.prompts import PromptItem, parse_file
from playground.arena.raters import GONE, WINNERS, BattleView, RaterActions  # noqa: F401 - re-exported for the UI
from playground.arena.reveal import (  # noqa: F401 - re-exported for the UI
    REVEAL_POLICIES,
    RaterSummary,
    Reveal,
    SummaryRow,
    check_policy,
    default_policy,
    new_policy_problem,
)
from playground.arena.room import RaterProgress, RaterTally, RoomActions, RoomStatus, votes_needed  # noqa: F401
from playground.arena.routing import Holds
from playground.arena.schedule import pick_repeats, schedule
from playground.demo import ARENA_PROMPTS, demo_path
from playground.errors import InvalidInput
from playground.generation import GenerationRecorder
from playground.i18n import DEFAULT_LANGUAGE, Text, t
from playground.languages import ENGLISH
from playground.models.registry import ModelRegistry
from playground.models.types import GenerationParams
from playground.progress import Progress
from storage import ArenaEvaluation, UnitOfWork

log = logging.getLogger(__name__)
DELETED_EVALUATION = t("arena.evaluation_deleted")
MIN_ROUNDS = 100  # bootstrap rounds behind the leaderboard's intervals


@dataclass(frozen=True)
class EvaluationInfo:
    id: int
    name: str
    join_code: str
    prompts: int
    contestants: list[str]
    battles: int
    mode: str = "prompt_set"  # prompt_set | live (raters may also ask their own prompts) | imported
    reveal_policy: str = "after_last"  # after_last | after_each | never (playground.arena.reveal)
    votes_per_battle: int | None = None  # None: every rater rates every battle
    live_cap: int | None = None  # live prompts per rater; None: no cap
    voting_open: bool = True
    show_together: bool = True  # live answers appear together once both have finished


@dataclass(frozen=True)
class PregenStatus:
    """Where pre-generation of an evaluation stands, read from the database (so any page,
    or one reloaded later, sees the same), with what raters can do meanwhile."""

    total: int
    done: int
    failed: int
    running: bool
    current: Text | str  # the answer being generated now ("label: prompt 3 of 10"), or ""
    contestants: list[tuple[str, str, str]]  # label, status, error
    flagged: int
    servable: int

    @property
    def progress(self) -> Progress:
        return Progress(self.done, self.total, self.current)

    @property
    def finished(self) -> bool:
        return not self.running


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _stored_evaluation(uow: UnitOfWork, evaluation_id: int) -> ArenaEvaluation:
    """The evaluation's row, or the "no longer exists" message when it was deleted meanwhile."""
    evaluation = uow.arena.get_evaluation(evaluation_id)
    if evaluation is None:
        raise InvalidInput(DELETED_EVALUATION)
    return evaluation


def _info(evaluation: ArenaEvaluation, prompts: int, contestants: list[str], battles: int) -> EvaluationInfo:
    return EvaluationInfo(
        evaluation.id,
        evaluation.name,
        evaluation.join_code,
        prompts,
        contestants,
        battles,
        evaluation.mode,
        evaluation.reveal_policy,
        evaluation.votes_per_battle,
        evaluation.live_cap,
        evaluation.voting_open,
        evaluation.show_together,
    )


class ArenaService(RaterActions, LiveActions, RoomActions):
    def __init__(
        self,
        registry: ModelRegistry,
        recorder: GenerationRecorder,
        uow_factory: Callable[[], UnitOfWork],
        export_dir: Path,
        live_limiter: LiveAskLimiter | None = None,
        join_limiter: JoinLimiter | None = None,
    ):
        self.registry = registry
        self.recorder = recorder
        self.uow_factory = uow_factory
        self.export_dir = export_dir
        self.live_limiter = live_limiter or LiveAskLimiter()
        settings = registry.settings
        self.join_limiter = join_limiter or JoinLimiter(
            settings.joins_per_minute_per_code, settings.joins_per_minute_per_address
        )
        self.holds = Holds()  # routed battles handed out and not yet voted (this process)
        self.jobs = PregenJobs(recorder, uow_factory)

    # ---- creating --------------------------------------------------------------------
    def default_leak_words(self) -> list[str]:
        """The vendor list new evaluations start with (the file in settings, else the one in assets/)."""
        configured = self.registry.settings.leak_words_file
        return default_words(Path(configured).expanduser() if configured else None)

    @staticmethod
    def demo_prompts(language: str = ENGLISH) -> list[str]:
        """The demo prompt set (ten business tasks) in ``language`` ("en", "pt")."""
        return [item.text for item in parse_file(demo_path(ARENA_PROMPTS, language))]

    def prompts_from_compare(self, limit: int = 50) -> list[str]:
        """The prompts of recent Compare runs, newest first, each once."""
        with self.uow_factory() as uow:
            titles = [r.title for r in uow.runs.list(kind="compare", limit=limit * 3)]
        seen, result = set(), []
        for title in titles:
            key = _clean(title).casefold()
            if key and key not in seen:
                seen.add(key)
                result.append(title.strip())
        return result[:limit]

    def create_evaluation(
        self,
        name: str,
        prompts: Sequence[PromptItem],
        model_keys: Sequence[str],
        params: GenerationParams,
        *,
        leak_words: str = "",
        leak_action: str = "redact",
        repeat_fraction: float = 0.1,
        pairs_per_prompt: int | None = None,
        seed: int | None = None,
        mode: str = "prompt_set",
        reveal_policy: str | None = None,
        votes_per_battle: int | None = None,
        live_cap: int | None = None,
        show_together: bool = True,
    ) -> EvaluationInfo:
        """``reveal_policy`` None: after the rater's last battle (after each vote for a live
        evaluation without prompts); ``votes_per_battle`` None: every rater rates every battle."""
        name = _clean(name)
        keys = list(dict.fromkeys(k for k in model_keys if k))
        check_new_evaluation(name, prompts, keys, params, leak_action, repeat_fraction, mode)
        room = room_settings(
            mode, len(prompts), len(keys), pairs_per_prompt, repeat_fraction,
            reveal_policy, votes_per_battle, live_cap, show_together,
        )  # fmt: skip
        specs = [self.registry.get_spec(k) for k in keys]  # ModelNotFound is a plain message
        labels = contestant_labels(specs)
        words = unique_words([*self.default_leak_words(), *parse_words(leak_words), *contestant_words(specs, labels)])
        seed = random.SystemRandom().randrange(1, 2**31) if seed is None else int(seed)
        slots = schedule(len(prompts), len(keys), seed=seed, pairs_per_prompt=pairs_per_prompt)
        repeats = pick_repeats(len(slots), repeat_fraction, seed)
        with self.uow_factory() as uow:
            if uow.arena.evaluation_by_name(name) is not None:
                raise InvalidInput(t("arena.name_exists", name=name))
            evaluation = uow.arena.add_evaluation(
                name=name,
                mode=mode,
                join_code=new_join_code(uow),
                params=params.to_dict(),
                leak_words=words,
                leak_action=leak_action,
                seed=seed,
                **room,
            )
            battles = store_battles(uow, evaluation.id, prompts, specs, labels, params, slots, repeats)
            info = _info(evaluation, len(prompts), labels, battles)
        log.info(
            "Created arena evaluation %s (%s): %d prompts, %d models, %d battles",
            info.id,
            name,
            info.prompts,
            len(keys),
            info.battles,
        )
        return info

    def list_evaluations(self) -> list[tuple[Text, int]]:
        """(label, id) for the evaluation picker; the label is shown in the reader's language."""
        with self.uow_factory() as uow:
            return [
                (t("arena.evaluation_choice", name=e.name, code=e.join_code), e.id)
                for e in uow.arena.list_evaluations()
            ]

    def evaluation(self, evaluation_id: int | None) -> EvaluationInfo:
        try:
            wanted = int(evaluation_id) if evaluation_id not in (None, "") else None
        except (TypeError, ValueError):
            wanted = None
        with self.uow_factory() as uow:
            evaluation = uow.arena.get_evaluation(wanted) if wanted is not None else None
            if evaluation is None:
                raise InvalidInput(t("arena.pick_evaluation") if wanted is None else DELETED_EVALUATION)
            return _info(
                evaluation,
                len(uow.arena.prompts(evaluation.id)),
                [c.label for c in uow.arena.contestants(evaluation.id)],
                len(uow.arena.battles(evaluation.id)),
            )

    def set_live_mode(self, evaluation_id: int | None, enabled: bool) -> Text:
        """Let the evaluation's raters ask their own prompts (live battles) besides the prepared ones."""
        info = self.evaluation(evaluation_id)
        if info.mode == "imported":
            raise InvalidInput(t("arena.imported_no_live"))
        with self.uow_factory() as uow:
            _stored_evaluation(uow, info.id).mode = LIVE_MODE if enabled else "prompt_set"
        return t("arena.live_mode_on" if enabled else "arena.live_mode_off", name=info.name)

    def delete_evaluation(self, evaluation_id: int | None) -> Text:
        info = self.evaluation(evaluation_id)
        self.jobs.cancel(info.id)
        self.jobs.wait(info.id, timeout=30)
        with self.uow_factory() as uow:
            uow.arena.delete_evaluation(info.id)
        self.holds.forget(info.id)
        log.info("Deleted arena evaluation %s (%s)", info.id, info.name)
        return t("arena.deleted", name=info.name)

    # ---- pre-generation ------------------------------------------------------------
    def start_generation(self, evaluation_id: int | None, estimate: dict | None = None) -> Text:
        """``estimate``: the run's cost and time estimate (``RunEstimate.to_dict()``), kept with its run."""
        info = self.evaluation(evaluation_id)
        if not self.jobs.start(info.id, estimate):
            return t("arena.already_generating")
        return t("arena.generating", name=info.name)

    def cancel_generation(self, evaluation_id: int | None) -> Text:
        info = self.evaluation(evaluation_id)
        return t("arena.stopping") if self.jobs.cancel(info.id) else t("arena.nothing_generating")

    def pregen_status(self, evaluation_id: int | None) -> PregenStatus:
        info = self.evaluation(evaluation_id)
        with self.uow_factory() as uow:
            answers = uow.arena.answers(info.id, source="set")  # live answers are not pre-generated
            contestants = [(c.label, c.status, c.error or "") for c in uow.arena.contestants(info.id)]
            servable = len(self._servable(uow, info.id))
        return PregenStatus(
            total=len(answers),
            done=sum(a.status == "ok" for a in answers),
            failed=sum(a.status == "error" for a in answers),
            running=self.jobs.running(info.id),
            current=self.jobs.current(info.id),
            contestants=contestants,
            flagged=sum(bool(a.leaks) for a in answers if a.status == "ok"),
            servable=servable,
        )

    def flagged_answers(self, evaluation_id: int | None) -> list[tuple[str, str, str, str]]:
        """(question id, model, words found, answer start) for answers that name a model."""
        info = self.evaluation(evaluation_id)
        with self.uow_factory() as uow:
            labels = {c.id: c.label for c in uow.arena.contestants(info.id)}
            prompts = {p.id: p.question_id for p in uow.arena.prompts(info.id)}
            return [
                (prompts[a.prompt_id], labels[a.contestant_id], ", ".join(a.leaks), a.text[:160])
                for a in uow.arena.answers(info.id)
                if a.leaks
            ]

    def set_leak_policy(self, evaluation_id: int | None, action: str, extra_words: str = "") -> Text:
        """Redact or exclude answers naming a model; extra words re-check every answer."""
        info = self.evaluation(evaluation_id)
        if action not in LEAK_ACTIONS:
            raise InvalidInput(t("arena.choose_redact_exclude"))
        with self.uow_factory() as uow:
            evaluation = _stored_evaluation(uow, info.id)
            words = unique_words([*evaluation.leak_words, *parse_words(extra_words)])
            evaluation.leak_words, evaluation.leak_action = words, action
            flagged = 0
            for answer in uow.arena.answers(info.id):
                answer.leaks = find_leaks(answer.text, words) if answer.status == "ok" else []
                flagged += bool(answer.leaks)
        return t("arena.leaks_redacted" if action == "redact" else "arena.leaks_excluded", n=flagged)

    # ---- leaderboard and agreement -----------------------------------------------------
    def leaderboard(self, evaluation_id: int | None, rounds: int = 100, seed: int = 0) -> lb.Leaderboard:
        if rounds < MIN_ROUNDS:
            raise InvalidInput(t("arena.min_rounds", rounds=MIN_ROUNDS))
        info = self.evaluation(evaluation_id)
        with self.uow_factory() as uow:
            action = _stored_evaluation(uow, info.id).leak_action
            votes = uow.arena.vote_rows(info.id)
            contestants = [(c.id, c.label) for c in uow.arena.contestants(info.id)]
            usage = uow.arena.answer_usage(info.id)
        return lb.build(votes, contestants, usage, leak_action=action, rounds=rounds, seed=seed)

    def agreement(self, evaluation_id: int | None) -> AgreementReport:
        info = self.evaluation(evaluation_id)
        with self.uow_factory() as uow:
            votes = uow.arena.vote_rows(info.id)
        return agreement_report(Judgement(v["rater"], v["battle_id"], v["winner"], v["repeat_of_id"]) for v in votes)

    def vote_rows(self, evaluation_id: int | None) -> tuple[EvaluationInfo, list[dict], dict[int, str]]:
        info = self.evaluation(evaluation_id)
        with self.uow_factory() as uow:
            labels = {c.id: c.label for c in uow.arena.contestants(info.id)}
            return info, uow.arena.vote_rows(info.id), labels

    # ---- files -----------------------------------------------------------------------
    def export_votes(self, evaluation_id: int | None, fmt: str = "jsonl") -> Path:
        return files.export_votes(self, evaluation_id, fmt, self.export_dir)

    def write_report(
        self, evaluation_id: int | None, rounds: int = 100, language: str = DEFAULT_LANGUAGE
    ) -> tuple[Path, Path]:
        """The report as Markdown and HTML, its headings and tables in ``language``."""
        return files.write_report(self, evaluation_id, self.export_dir, rounds, language)

    def import_votes(self, path: str | Path, name: str = "") -> EvaluationInfo:
        return files.import_votes(self, path, name)
