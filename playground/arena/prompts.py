"""Prompt sets: typed in, uploaded as CSV or JSONL, or taken from Compare runs — checked
for blank and duplicate prompts before any answer is generated."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from playground.errors import InvalidInput
from playground.i18n import Text, t
from playground.jsonl import json_objects

PROMPT_COLUMNS = ("prompt", "question", "instruction", "text", "input")
ID_COLUMNS = ("question_id", "id", "qid")
MAX_PROMPTS = 2000
MAX_PROMPT_CHARS = 20_000
SEPARATOR = "---"


@dataclass(frozen=True)
class PromptItem:
    question_id: str
    text: str


def _listed(places: Sequence[Text], pair: str = "arena.comma_pair") -> Text:
    """ "line 2, line 5" in the reader's language: places joined by commas (or by ``pair``)."""
    joined = places[0]
    for place in places[1:]:
        joined = t(pair, a=joined, b=place)
    return joined


def _check(items: Sequence[tuple[str | None, str, Text]]) -> list[PromptItem]:
    """items: (question id or None, text, where it came from, for messages)."""
    if not items:
        raise InvalidInput(t("arena.prompt_set_empty"))
    if len(items) > MAX_PROMPTS:
        raise InvalidInput(t("arena.prompt_set_too_big", count=len(items), limit=MAX_PROMPTS))
    blank = [where for _, text, where in items if not text.strip()]
    if blank:
        raise InvalidInput(t("arena.prompt_blank", where=_listed(blank[:5])))
    too_long = [where for _, text, where in items if len(text) > MAX_PROMPT_CHARS]
    if too_long:
        raise InvalidInput(t("arena.prompt_longer_than", limit=MAX_PROMPT_CHARS, where=_listed(too_long[:5])))
    seen: dict[str, Text] = {}
    duplicates: list[Text] = []
    for _, text, where in items:
        key = " ".join(text.split()).casefold()
        if key in seen:
            duplicates.append(t("arena.where_repeats", where=where, first=seen[key]))
        else:
            seen[key] = where
    if duplicates:
        raise InvalidInput(t("arena.prompt_duplicates", duplicates=_listed(duplicates[:5], "arena.semicolon_pair")))
    result, ids = [], set()
    for index, (qid, text, where) in enumerate(items):
        qid = (qid or "").strip() or f"q{index + 1}"
        if qid in ids:
            raise InvalidInput(t("arena.question_id_twice", qid=qid, where=where))
        ids.add(qid)
        result.append(PromptItem(qid, text.strip()))
    return result


def parse_typed(text: str) -> list[PromptItem]:
    """One prompt per line; or, when a line reads '---', prompts of several lines separated by it."""
    text = (text or "").replace("\r\n", "\n")
    if not text.strip():
        raise InvalidInput(t("arena.type_a_prompt"))
    lines = text.split("\n")
    if any(line.strip() == SEPARATOR for line in lines):
        blocks = [b.strip("\n") for b in re.split(r"\n[ \t]*---[ \t]*\n", "\n" + text.strip("\n") + "\n")]
        items = [(None, block, t("arena.where_prompt", n=i + 1)) for i, block in enumerate(blocks)]
    else:
        # Blank lines are spacing, not prompts, except between --- blocks.
        items = [(None, line, t("arena.where_line", n=i + 1)) for i, line in enumerate(lines) if line.strip()]
    return _check(items)


def _column(fields: Sequence[str], wanted: Sequence[str]) -> str | None:
    lowered = {f.strip().lower(): f for f in fields if f}
    return next((lowered[w] for w in wanted if w in lowered), None)


def parse_csv(data: str) -> list[PromptItem]:
    reader = csv.DictReader(io.StringIO(data))
    prompt_col = _column(reader.fieldnames or [], PROMPT_COLUMNS)
    if prompt_col is None:
        found = ", ".join(reader.fieldnames or []) or t("arena.no_header")
        raise InvalidInput(t("arena.csv_column", names=", ".join(PROMPT_COLUMNS), found=found))
    id_col = _column(reader.fieldnames or [], ID_COLUMNS)
    items = [
        (row.get(id_col) if id_col else None, row.get(prompt_col) or "", t("arena.where_row", n=i + 2))
        for i, row in enumerate(reader)
    ]
    return _check(items)


def parse_jsonl(data: str) -> list[PromptItem]:
    items = []
    for number, obj in json_objects(
        data, t("jsonl.jsonl_file"), '{"prompt": "…"}', bare_key="prompt"
    ):  # a bare "text" line is a prompt too
        if isinstance(obj.get("turns"), list) and obj["turns"]:  # FastChat / MT-bench question files
            obj = {**obj, "prompt": str(obj["turns"][0])}
        key = _column(list(obj), PROMPT_COLUMNS)
        if key is None:
            raise InvalidInput(t("arena.jsonl_no_prompt", number=number))
        qid = _column(list(obj), ID_COLUMNS)
        where = t("arena.where_line", n=number)
        items.append((str(obj[qid]) if qid and obj[qid] is not None else None, str(obj[key] or ""), where))
    return _check(items)


def parse_file(path: str | Path) -> list[PromptItem]:
    file = Path(path)
    if not file.is_file():
        raise InvalidInput(t("arena.prompt_file_unreadable"))
    try:
        data = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidInput(t("arena.prompt_file_encoding")) from err
    suffix = file.suffix.lower()
    if suffix == ".csv":
        return parse_csv(data)
    if suffix in (".jsonl", ".json", ".ndjson"):
        return parse_jsonl(data)
    if suffix in (".txt", ".md"):
        return parse_typed(data)
    raise InvalidInput(t("arena.prompt_file_type", name=file.name))


def read_prompt_set(typed: str | None, upload: str | Path | None, live: bool = False) -> list[PromptItem]:
    """The prompts of a new evaluation, typed or uploaded (not both). A live evaluation may
    start with none: its raters ask their own."""
    if upload and (typed or "").strip():
        raise InvalidInput(t("arena.typed_and_file"))
    if live and not upload and not (typed or "").strip():
        return []
    return parse_file(upload) if upload else parse_typed(typed or "")


def from_texts(texts: Sequence[str]) -> list[PromptItem]:
    return _check([(None, text, t("arena.where_prompt", n=i + 1)) for i, text in enumerate(texts)])
