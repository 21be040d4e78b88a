"""Files out of (and into) an evaluation: the report, vote exports and vote imports.

(Not "results" in the sense of ``playground.judge.results``: an evaluation's results are its
leaderboard and agreement; this module writes them, and its votes, to files.)
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from playground.arena import exchange, report
from playground.arena.join_codes import new_join_code
from playground.arena.leaks import find_leaks, unique_words, words_for_model
from playground.arena.rater_identity import clean_name, name_key
from playground.errors import InvalidInput
from playground.i18n import DEFAULT_LANGUAGE, t
from storage import ArenaAnswer, ArenaBattle, ArenaContestant, ArenaPrompt, ArenaRater, ArenaVote

if TYPE_CHECKING:
    from playground.arena.service import ArenaService, EvaluationInfo
    from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:60] or "evaluation"


def _folder(out_dir: Path) -> Path:
    folder = out_dir / (datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def export_votes(service: ArenaService, evaluation_id: int | None, fmt: str, out_dir: Path) -> Path:
    if fmt not in ("jsonl", "csv"):
        raise InvalidInput(t("arena.export_format_unknown"))
    info, votes, labels = service.vote_rows(evaluation_id)
    if not votes:
        raise InvalidInput(t("arena.no_votes_to_export", name=info.name))
    records = exchange.battle_records(votes, labels)
    path = _folder(out_dir) / f"{_slug(info.name)}-votes.{fmt}"
    (exchange.write_jsonl if fmt == "jsonl" else exchange.write_csv)(records, path)
    log.info("Exported %d votes of arena evaluation %s to %s", len(records), info.id, path)
    return path


def write_report(
    service: ArenaService,
    evaluation_id: int | None,
    out_dir: Path,
    rounds: int = 100,
    language: str = DEFAULT_LANGUAGE,
) -> tuple[Path, Path]:
    """The report's Markdown and HTML files, headings and tables in ``language`` (the facilitator's)."""
    info = service.evaluation(evaluation_id)
    board = service.leaderboard(info.id, rounds=rounds)
    agreement = service.agreement(info.id)
    raters = len(agreement.raters)
    folder = _folder(out_dir)
    md = folder / f"{_slug(info.name)}-report.md"
    md.write_text(report.markdown(info.name, board, agreement, info.prompts, raters, language), encoding="utf-8")
    page = folder / f"{_slug(info.name)}-report.html"
    page.write_text(report.html_page(info.name, board, agreement, info.prompts, raters, language), encoding="utf-8")
    return md, page


def import_votes(service: ArenaService, path: str | Path, name: str = "") -> EvaluationInfo:
    """A new evaluation holding the imported votes; rows with the same question and models
    share a battle, so agreement between judges can be measured."""
    records = exchange.read_records(path)
    name = " ".join((name or "").split()) or f"Imported {Path(path).stem}"
    models = list(dict.fromkeys(m for r in records for m in (r["model_a"], r["model_b"])))
    with service.uow_factory() as uow:
        if uow.arena.evaluation_by_name(name) is not None:
            raise InvalidInput(t("arena.import_name_exists", name=name))
        leak_words = unique_words(
            [*service.default_leak_words(), *(w for m in models for w in [m, *words_for_model(m, m)])]
        )
        evaluation = uow.arena.add_evaluation(
            name=name,
            mode="imported",
            join_code=new_join_code(uow),
            params={},
            leak_words=leak_words,
            leak_action="redact",
            seed=0,
        )
        importer = _VoteImporter(uow, evaluation.id, leak_words, models, records)
        duplicates = sum(not importer.add_vote(r) for r in records)
        evaluation_id = evaluation.id
    log.info(
        "Imported %d votes (%d duplicates skipped) into arena evaluation %s",
        len(records) - duplicates,
        duplicates,
        evaluation_id,
    )
    return service.evaluation(evaluation_id)


class _VoteImporter:
    """The rows of one imported evaluation, each contestant, prompt, answer, battle and judge
    made once and shared by every vote that names it."""

    def __init__(self, uow: UnitOfWork, evaluation_id: int, leak_words: list[str], models: list[str], records):
        self.uow, self.evaluation_id, self.leak_words = uow, evaluation_id, leak_words
        self.contestants = {
            m: ArenaContestant(
                evaluation_id=evaluation_id, position=i, model_key=f"imported/{m}", label=m, params={}, status="ok"
            )
            for i, m in enumerate(models)
        }
        uow.arena.add_all(list(self.contestants.values()))
        self.prompts: dict[str, ArenaPrompt] = {}
        for r in records:
            if r["question_id"] not in self.prompts:
                self.prompts[r["question_id"]] = ArenaPrompt(
                    evaluation_id=evaluation_id,
                    position=len(self.prompts),
                    question_id=r["question_id"],
                    text=r["prompt"],
                    source="import",
                )
        uow.arena.add_all(list(self.prompts.values()))
        self.answers: dict[tuple[str, str], ArenaAnswer] = {}
        self.battles: dict[tuple[str, str, str], ArenaBattle] = {}
        self.raters: dict[str, ArenaRater] = {}

    def _answer(self, question_id: str, model: str, text: str) -> ArenaAnswer:
        if (question_id, model) not in self.answers:
            answer = ArenaAnswer(
                prompt_id=self.prompts[question_id].id,
                contestant_id=self.contestants[model].id,
                text=text,
                status="ok",
                leaks=find_leaks(text, self.leak_words),
            )
            self.answers[(question_id, model)] = self.uow.arena.add(answer)
        return self.answers[(question_id, model)]

    def _battle(self, r: dict) -> ArenaBattle:
        key = (r["question_id"], r["model_a"], r["model_b"])
        if key not in self.battles:
            a = self._answer(r["question_id"], r["model_a"], r["text_a"])
            b = self._answer(r["question_id"], r["model_b"], r["text_b"])
            self.battles[key] = self.uow.arena.add(
                ArenaBattle(
                    evaluation_id=self.evaluation_id,
                    token=uuid.uuid4().hex,
                    position=len(self.battles),
                    prompt_id=self.prompts[r["question_id"]].id,
                    answer_a_id=a.id,
                    answer_b_id=b.id,
                )
            )
        return self.battles[key]

    def _rater(self, judge_name: str) -> ArenaRater:
        judge = name_key(judge_name) or "imported"  # judges compare as raters' names do
        if judge not in self.raters:
            self.raters[judge] = self.uow.arena.add(
                ArenaRater(
                    evaluation_id=self.evaluation_id,
                    name=clean_name(judge_name) or "imported",
                    name_key=judge,
                    source="import",
                )
            )
        return self.raters[judge]

    def add_vote(self, r: dict) -> bool:
        """Whether the vote was new (a judge voting twice on one battle: the first is kept)."""
        stamp = datetime.fromtimestamp(r["tstamp"], tz=UTC) if r["tstamp"] else datetime.now(UTC)
        vote = ArenaVote(
            battle_id=self._battle(r).id,
            rater_id=self._rater(r["judge"]).id,
            winner=r["winner"],
            acceptable_a=r["acceptable_a"],
            acceptable_b=r["acceptable_b"],
            reasons=r["reasons"],
            comment=r["comment"],
            created_at=stamp,
        )
        return bool(self.uow.arena.add_if_new(vote))
