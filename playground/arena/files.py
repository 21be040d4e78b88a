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
from playground.i18n import t
from storage import ArenaAnswer, ArenaBattle, ArenaContestant, ArenaPrompt, ArenaRater, ArenaVote

if TYPE_CHECKING:
    from playground.arena.service import ArenaService, EvaluationInfo

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
    service: ArenaService, evaluation_id: int | None, out_dir: Path, rounds: int = 100
) -> tuple[Path, Path]:
    info = service.evaluation(evaluation_id)
    board = service.leaderboard(info.id, rounds=rounds)
    agreement = service.agreement(info.id)
    raters = len(agreement.raters)
    folder = _folder(out_dir)
    md = folder / f"{_slug(info.name)}-report.md"
    md.write_text(report.markdown(info.name, board, agreement, info.prompts, raters), encoding="utf-8")
    page = folder / f"{_slug(info.name)}-report.html"
    page.write_text(report.html_page(info.name, board, agreement, info.prompts, raters), encoding="utf-8")
    return md, page


def import_votes(service: ArenaService, path: str | Path, name: str = "") -> EvaluationInfo:
    """A new evaluation holding the imported votes; rows with the same question and models
    share a battle, so agreement between judges can be measured."""
    records = exchange.read_records(path)
    name = " ".join((name or "").split()) or f"Imported {Path(path).stem}"
    models = list(dict.fromkeys(m for r in records for m in (r["model_a"], r["model_b"])))
    duplicates = 0
    with service.uow_factory() as uow:
        if uow.arena.evaluation_by_name(name) is not None:
            raise InvalidInput(f"An evaluation named {name!r} already exists. Type another name for the import.")
        evaluation = uow.arena.add_evaluation(
            name=name,
            mode="imported",
            join_code=new_join_code(uow),
            params={},
            leak_words=unique_words(
                [*service.default_leak_words(), *(w for m in models for w in [m, *words_for_model(m, m)])]
            ),
            leak_action="redact",
            seed=0,
        )
        contestants = {
            m: ArenaContestant(
                evaluation_id=evaluation.id, position=i, model_key=f"imported/{m}", label=m, params={}, status="ok"
            )
            for i, m in enumerate(models)
        }
        uow.arena.add_all(list(contestants.values()))
        prompts: dict[str, ArenaPrompt] = {}
        for r in records:
            if r["question_id"] not in prompts:
                prompts[r["question_id"]] = ArenaPrompt(
                    evaluation_id=evaluation.id,
                    position=len(prompts),
                    question_id=r["question_id"],
                    text=r["prompt"],
                    source="import",
                )
        uow.arena.add_all(list(prompts.values()))
        answers: dict[tuple[str, str], ArenaAnswer] = {}
        battles: dict[tuple[str, str, str], ArenaBattle] = {}
        raters: dict[str, ArenaRater] = {}
        for r in records:
            for model, text in ((r["model_a"], r["text_a"]), (r["model_b"], r["text_b"])):
                if (r["question_id"], model) not in answers:
                    answer = ArenaAnswer(
                        prompt_id=prompts[r["question_id"]].id,
                        contestant_id=contestants[model].id,
                        text=text,
                        status="ok",
                        leaks=find_leaks(text, evaluation.leak_words),
                    )
                    answers[(r["question_id"], model)] = uow.arena.add(answer)
            key = (r["question_id"], r["model_a"], r["model_b"])
            if key not in battles:
                battles[key] = uow.arena.add(
                    ArenaBattle(
                        evaluation_id=evaluation.id,
                        token=uuid.uuid4().hex,
                        position=len(battles),
                        prompt_id=prompts[r["question_id"]].id,
                        answer_a_id=answers[(r["question_id"], r["model_a"])].id,
                        answer_b_id=answers[(r["question_id"], r["model_b"])].id,
                    )
                )
            judge = name_key(r["judge"]) or "imported"  # judges compare as raters' names do
            if judge not in raters:
                raters[judge] = uow.arena.add(
                    ArenaRater(
                        evaluation_id=evaluation.id,
                        name=clean_name(r["judge"]) or "imported",
                        name_key=judge,
                        source="import",
                    )
                )
            stamp = datetime.fromtimestamp(r["tstamp"], tz=UTC) if r["tstamp"] else datetime.now(UTC)
            vote = ArenaVote(
                battle_id=battles[key].id,
                rater_id=raters[judge].id,
                winner=r["winner"],
                acceptable_a=r["acceptable_a"],
                acceptable_b=r["acceptable_b"],
                reasons=r["reasons"],
                comment=r["comment"],
                created_at=stamp,
            )
            if not uow.arena.add_if_new(vote):  # a judge voting twice on one battle: keep the first
                duplicates += 1
        evaluation_id = evaluation.id
    log.info(
        "Imported %d votes (%d duplicates skipped) into arena evaluation %s",
        len(records) - duplicates,
        duplicates,
        evaluation_id,
    )
    return service.evaluation(evaluation_id)
