"""Votes in and out in FastChat's battle format (one row per vote):

    model_a, model_b, winner ∈ {model_a, model_b, tie, tie (bothbad)}, judge, question_id,
    tstamp, conversation_a, conversation_b, turn, anony

plus our extras (acceptable_a, acceptable_b, reasons, comment). JSONL keeps conversations
as lists of {role, content}; CSV holds them as JSON text in their cells.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playground.errors import InvalidInput
from playground.formatting import formula_safe, formula_unsafe
from playground.i18n import t
from playground.jsonl import json_objects

TO_FASTCHAT = {"a": "model_a", "b": "model_b", "tie": "tie", "bothbad": "tie (bothbad)"}
FROM_FASTCHAT = {v: k for k, v in TO_FASTCHAT.items()}
FIELDS = [
    "question_id", "model_a", "model_b", "winner", "judge", "tstamp", "turn", "anony",
    "conversation_a", "conversation_b", "acceptable_a", "acceptable_b", "reasons", "comment",
]  # fmt: skip


def _conversation(prompt: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]


def battle_records(votes: Sequence[dict[str, Any]], labels: dict[int, str]) -> list[dict[str, Any]]:
    records = []
    for v in votes:
        records.append(
            {
                "question_id": v["question_id"],
                "model_a": labels[v["contestant_a"]],
                "model_b": labels[v["contestant_b"]],
                "winner": TO_FASTCHAT[v["winner"]],
                "judge": v["rater"],
                "tstamp": v["created_at"].timestamp(),
                "turn": 1,
                "anony": True,
                "conversation_a": _conversation(v["prompt"], v["text_a"]),
                "conversation_b": _conversation(v["prompt"], v["text_b"]),
                "acceptable_a": v["acceptable_a"],
                "acceptable_b": v["acceptable_b"],
                "reasons": list(v["reasons"] or []),
                "comment": v["comment"] or "",
            }
        )
    return records


def write_jsonl(records: Sequence[dict[str, Any]], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def write_csv(records: Sequence[dict[str, Any]], path: Path) -> Path:
    """One row per vote; a rater named ``=HYPERLINK(...)`` stays text in a spreadsheet (``formula_safe``)."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        for record in records:
            writer.writerow(
                {
                    k: formula_safe(json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v)
                    for k, v in record.items()
                }
            )
    return path


def _json_cell(value: Any) -> Any:
    value = formula_unsafe(value)  # a cell this app (or another careful tool) kept from running as a formula
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _bool_cell(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


def _text(conversation: Any, role: str) -> str:
    if isinstance(conversation, list):
        for message in conversation:
            if isinstance(message, dict) and message.get("role") == role:
                return str(message.get("content") or "")
    return ""


def check_vote_file(path: str | Path | None) -> None:
    """A vote file must have been chosen before an import (what it holds is read_records' to check)."""
    if not path:
        raise InvalidInput(t("arena.choose_vote_file"))


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Parse and check a FastChat battle file; every bad row is named in the message."""
    check_vote_file(path)
    file = Path(path)
    if not file.is_file():
        raise InvalidInput(t("arena.vote_file_unreadable"))
    data = file.read_text(encoding="utf-8-sig")
    if file.suffix.lower() == ".csv":
        raw = [{k: _json_cell(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(data))]
    elif file.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        raw = [
            row
            for _, row in json_objects(
                data, t("jsonl.vote_file"), '{"model_a": "…", "model_b": "…", "winner": "model_a"}'
            )
        ]
    else:
        raise InvalidInput(t("arena.vote_file_type"))
    if not raw:
        raise InvalidInput(t("arena.vote_file_empty"))
    records = []
    for number, row in enumerate(raw, start=1):
        missing = [k for k in ("model_a", "model_b", "winner") if not str(row.get(k) or "").strip()]
        if missing:
            raise InvalidInput(t("arena.vote_missing", number=number, fields=", ".join(missing)))
        if row["winner"] not in FROM_FASTCHAT:
            raise InvalidInput(
                t("arena.vote_winner", number=number, winner=row["winner"], choices=", ".join(FROM_FASTCHAT))
            )
        if str(row["model_a"]).strip() == str(row["model_b"]).strip():
            raise InvalidInput(t("arena.vote_self", number=number, model=row["model_a"]))
        prompt = _text(row.get("conversation_a"), "user") or _text(row.get("conversation_b"), "user")
        qid = str(row.get("question_id") or "").strip() or f"imported-{abs(hash(prompt)) % 10**10}"
        try:
            tstamp = float(row.get("tstamp") or 0.0)
        except (TypeError, ValueError):
            tstamp = 0.0
        reasons = row.get("reasons") or []
        records.append(
            {
                "question_id": qid,
                "prompt": prompt or f"(question {qid}; the prompt was not in the file)",
                "model_a": str(row["model_a"]).strip(),
                "model_b": str(row["model_b"]).strip(),
                "winner": FROM_FASTCHAT[row["winner"]],
                "judge": str(row.get("judge") or "imported").strip()[:100],
                "tstamp": tstamp,
                "text_a": _text(row.get("conversation_a"), "assistant"),
                "text_b": _text(row.get("conversation_b"), "assistant"),
                "acceptable_a": _bool_cell(row.get("acceptable_a")),
                "acceptable_b": _bool_cell(row.get("acceptable_b")),
                "reasons": [str(r) for r in reasons] if isinstance(reasons, list) else [],
                "comment": str(row.get("comment") or ""),
            }
        )
    return records
