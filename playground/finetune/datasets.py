"""Reading a fine-tuning dataset (CSV, TSV, XLSX, JSONL) and turning its rows into Examples.

Three shapes are recognised by their column names: instruction/input/output (Alpaca),
prompt/completion, and chat messages (a list of {role, content} or ShareGPT {from, value}).
When the names differ the user maps the columns by hand (``ColumnMapping``).

CSV, TSV and XLSX are read by the batch reader of the Compare tab (same plain messages);
JSONL is read here because a chat row holds a list, and a number or list where text
belongs has to be seen as such, not as its JSON spelling. Every format is read row by row
and refused as soon as it passes the row limit (``PLAYGROUND_FINETUNE_ROW_LIMIT``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from playground import text_decoding, text_stream
from playground.compare.batch_read import (
    RowCounter,
    TooManyRows,
    load_table,
)
from playground.errors import InvalidInput
from playground.i18n import Text, t
from playground.jsonl import json_objects, json_type_name
from playground.models.prompt_formats import Example, example_from_messages
from playground.zip_safety import ArchiveLimits

SUPPORTED = (".csv", ".tsv", ".xlsx", ".jsonl")
MAX_FILE_BYTES = 100 * 1024 * 1024
ROW_LIMIT_ENV = "PLAYGROUND_FINETUNE_ROW_LIMIT"
DEFAULT_ROW_LIMIT = 20000
ALPACA_KIND = "alpaca"
PROMPT_COMPLETION_KIND = "prompt_completion"
CHAT_KIND = "chat"
KINDS: dict[str, str] = {
    ALPACA_KIND: "Instruction / input / output (Alpaca)",
    PROMPT_COMPLETION_KIND: "Prompt / completion",
    CHAT_KIND: "Chat messages",
}
KIND_KEYS = {
    ALPACA_KIND: "finetune.kind_alpaca",
    PROMPT_COMPLETION_KIND: "finetune.kind_prompt_completion",
    CHAT_KIND: "finetune.kind_chat",
}
# Column names per role, best first; compared ignoring case, spaces and dashes.
INSTRUCTION_NAMES = (
    "instruction",
    "instructions",
    "prompt",
    "question",
    "query",
    "request",
    "task",
    "user",
    "human",
    "input",
)
INPUT_NAMES = ("input", "context", "input_text", "additional_input")
OUTPUT_NAMES = ("output", "response", "completion", "answer", "target", "reply", "assistant", "gpt", "chosen")
MESSAGES_NAMES = ("messages", "conversations", "conversation", "chat", "dialog", "dialogue", "turns")
SYSTEM_NAMES = ("system", "system_prompt", "system_message")
_ROLES = {
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "system": "system",
}


@dataclass(frozen=True)
class DataTable:
    """An uploaded dataset file: columns, non-blank rows with the number the user sees."""

    filename: str
    columns: list[str]
    rows: list[dict[str, Any]]
    numbers: list[int]  # for each row: 1-based data row (CSV/TSV/XLSX) or file line (JSONL)
    unit: str = "row"  # "row" or "line", for messages
    notes: list[Text | str] = field(default_factory=list)


@dataclass(frozen=True)
class ColumnMapping:
    """Which column plays which role. ``instruction``/``output`` hold the prompt/completion
    columns for that kind; ``messages`` is used only by chat."""

    kind: str
    instruction: str = ""
    output: str = ""
    input: str = ""
    system: str = ""
    messages: str = ""

    def columns(self) -> list[str]:
        names = [self.messages] if self.kind == CHAT_KIND else [self.instruction, self.input, self.output]
        return [c for c in names + [self.system] if c]

    def describe(self) -> Text:
        """ "Instruction / input / output (Alpaca): instruction “q”, output “a”", in the reader's language."""
        if self.kind == CHAT_KIND:
            said = t("finetune.describe_chat", kind=Text(KIND_KEYS[CHAT_KIND]), column=self.messages)
        elif self.kind == PROMPT_COMPLETION_KIND:
            said = t(
                "finetune.describe_prompt_completion",
                kind=Text(KIND_KEYS[self.kind]),
                prompt=self.instruction,
                completion=self.output,
            )
        else:
            extra = t("finetune.describe_input", column=self.input) if self.input else ""
            said = t(
                "finetune.describe_alpaca",
                kind=Text(KIND_KEYS[ALPACA_KIND]),
                instruction=self.instruction,
                input=extra,
                output=self.output,
            )
        return t("finetune.describe_with_system", mapping=said, system=self.system) if self.system else said

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnMapping:
        known = {k: str(data[k] or "") for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass
class ConvertedRow:
    """One row as an Example (None when it cannot be one), with what is wrong with it."""

    number: int
    example: Example | None
    problems: list[tuple[str, Text]] = field(default_factory=list)  # (kind, a sentence saying what is wrong)


# ---- reading ---------------------------------------------------------------------------
def read_dataset_table(
    path: str | Path,
    filename: str | None = None,
    *,
    row_limit: int = DEFAULT_ROW_LIMIT,
    archive: ArchiveLimits | None = None,
) -> DataTable:
    path = Path(path)
    name = filename or path.name
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise InvalidInput(t("finetune.not_a_dataset", name=name))
    if not path.is_file():
        raise InvalidInput(t("finetune.file_missing", name=name))
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InvalidInput(t("finetune.file_too_big", name=name, mb=MAX_FILE_BYTES // (1024 * 1024)))
    try:
        if suffix == ".jsonl":
            return _read_jsonl(path, name, row_limit)
        # CSV/TSV that is not UTF-8 is read by its detected encoding (charset-normalizer), not
        # assumed to be Windows-1252 as a batch table is.
        table = load_table(path, name, row_limit=row_limit, archive=archive, text_fallback=_detected_encoding)
    except TooManyRows as err:
        raise InvalidInput(_too_many(err.count, row_limit, err.exact)) from err
    return DataTable(name, table.columns, list(table.rows), list(range(1, table.row_count + 1)), "row", table.notes)


def _too_many(count: int, limit: int, exact: bool) -> Text:
    """The batch reader's refusal (``row_limit_message``), worded for a fine-tuning dataset."""
    key = "finetune.too_many_rows" if exact else "finetune.too_many_rows_at_least"
    return t(key, count=count, limit=limit, env=ROW_LIMIT_ENV)


def _not_utf8_note(encoding: str) -> Text:
    return t("finetune.read_as_encoding", encoding=encoding)


def _detected_encoding(path: Path) -> text_stream.Encoding | None:
    return text_stream.detected(path, _not_utf8_note)


def _read_jsonl(path: Path, name: str, row_limit: int) -> DataTable:
    if text_stream.is_blank(path):
        raise InvalidInput(t("finetune.file_empty", name=name))
    start = text_stream.head(path)
    encodings = text_stream.candidates(start, lambda: _detected_encoding(path), _not_utf8_note("UTF-16"))
    try:
        return text_stream.read_with(path, encodings, lambda lines, enc: _jsonl_table(lines, enc, name, row_limit))
    except (text_decoding.BinaryData, text_decoding.ControlCharacters) as err:
        raise InvalidInput(t("finetune.file_binary", name=name)) from err
    except text_stream.WrongEncoding as err:
        raise InvalidInput(t("finetune.file_encoding", name=name)) from err


def _jsonl_table(lines: Iterator[str], encoding: text_stream.Encoding, name: str, row_limit: int) -> DataTable:
    columns: list[str] = []
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    counter = RowCounter(row_limit)
    for number, value in json_objects(
        lines, name, '{"instruction": "…", "output": "…"}', t("finetune.nothing_saved_after")
    ):
        if counter.full(len(rows)):
            counter.count(True)
            continue
        columns.extend(k for k in value if k and k not in columns)
        rows.append(value)
        numbers.append(number)
    counter.finish()
    if not rows:
        raise InvalidInput(t("finetune.file_empty", name=name))
    return DataTable(name, columns, rows, numbers, "line", [encoding.note] if encoding.note else [])


# ---- column mapping ----------------------------------------------------------------------
def _loose(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _find(columns: Sequence[str], names: Sequence[str], taken: Sequence[str] = ()) -> str:
    by_loose = {_loose(c): c for c in reversed(columns) if c not in taken}
    return next((by_loose[n] for n in names if n in by_loose), "")


def detect_mapping(columns: Sequence[str]) -> ColumnMapping | None:
    """The shape of a dataset from its column names, or None when nothing is recognisable."""
    system = _find(columns, SYSTEM_NAMES)
    messages = _find(columns, MESSAGES_NAMES)
    if messages:
        return ColumnMapping(CHAT_KIND, messages=messages, system=system)
    output = _find(columns, OUTPUT_NAMES, [system])
    instruction = _find(columns, INSTRUCTION_NAMES, [system, output])
    if not (output and instruction):
        return None
    loose_instruction, loose_output = _loose(instruction), _loose(output)
    if loose_instruction == "prompt" or loose_output == "completion":
        return ColumnMapping(PROMPT_COMPLETION_KIND, instruction=instruction, output=output, system=system)
    extra = "" if loose_instruction == "input" else _find(columns, INPUT_NAMES, [system, output, instruction])
    return ColumnMapping(ALPACA_KIND, instruction=instruction, output=output, input=extra, system=system)


def check_mapping(mapping: ColumnMapping, columns: Sequence[str]) -> ColumnMapping:
    """The mapping itself, or a plain refusal when a role is unset or names no column."""
    if mapping.kind not in KINDS:
        raise InvalidInput(t("finetune.unknown_kind", kind=mapping.kind, kinds=", ".join(KINDS.values())))
    needed = (
        {"messages": mapping.messages}
        if mapping.kind == CHAT_KIND
        else {"instruction": mapping.instruction, "output": mapping.output}
    )
    for role, column in needed.items():
        if not column:
            raise InvalidInput(t(_role_key(mapping.kind, role)))
    missing = [c for c in mapping.columns() if c not in columns]
    if missing:
        raise InvalidInput(
            t("finetune.no_such_column", missing=", ".join(repr(c) for c in missing), columns=", ".join(columns))
        )
    used = mapping.columns()
    if len(set(used)) != len(used):
        raise InvalidInput(t("finetune.same_column_twice"))
    return mapping


def _role_key(kind: str, role: str) -> str:
    """The refusal "Choose which column holds the …" for a role left unset."""
    if kind == PROMPT_COMPLETION_KIND:
        return {"instruction": "finetune.choose_prompt", "output": "finetune.choose_completion"}[role]
    return {
        "messages": "finetune.choose_messages",
        "instruction": "finetune.choose_instruction",
        "output": "finetune.choose_output",
    }[role]


def no_mapping_message(columns: Sequence[str]) -> Text:
    if not columns:
        return t("finetune.no_mapping_unnamed")
    return t("finetune.no_mapping", columns=", ".join(repr(c) for c in columns))


# ---- rows to examples ------------------------------------------------------------------------


# A JSON value's kind in a problem's sentence ("is a number, not text"), per language.
_JSON_KIND_KEYS = {
    "true/false value": "finetune.json_bool",
    "number": "finetune.json_number",
    "text": "finetune.json_text",
    "null": "finetune.json_null",
    "object": "finetune.json_object",
    "list": "finetune.json_list",
}


def _kind_of(value: Any) -> Text:
    return Text(_JSON_KIND_KEYS[json_type_name(value)])


def _text(row: Mapping[str, Any], column: str, problems: list[tuple[str, Text]], required: bool, label: Text) -> str:
    value = row.get(column) if column else None
    if value is not None and not isinstance(value, str):
        shown = json.dumps(value, ensure_ascii=False)[:60]
        problems.append(
            ("not_text", t("finetune.problem_not_text", field=label, column=column, kind=_kind_of(value), value=shown))
        )
        return ""
    text = (value or "").strip()
    if required and not text:
        problems.append(("empty", t("finetune.problem_empty", field=label, column=column)))
    return text


def _chat_turns(value: Any, column: str) -> list[dict[str, str]] | Text:
    """The turns of a chat cell, or a sentence saying why it is not a chat."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError:
            return t("finetune.chat_plain_text", column=column)
    if not isinstance(value, list):
        return t("finetune.chat_not_list", column=column, kind=_kind_of(value))
    turns: list[dict[str, str]] = []
    for position, message in enumerate(value, start=1):
        if not isinstance(message, dict):
            return t("finetune.chat_bad_message", column=column, position=position, kind=_kind_of(message))
        role = _ROLES.get(str(message.get("role", message.get("from", ""))).strip().lower())
        content = message.get("content", message.get("value"))
        if role is None:
            return t("finetune.chat_no_role", column=column, position=position)
        if not isinstance(content, str):
            return t("finetune.chat_no_content", column=column, position=position)
        turns.append({"role": role, "content": content.strip()})
    return turns


def _chat_example(value: Any, system_text: str, problems: list[tuple[str, Text]], column: str) -> Example | None:
    turns = _chat_turns(value, column)
    if isinstance(turns, Text):
        empty = value is None or value == "" or value == []
        problems.append(("empty", t("finetune.chat_empty", column=column)) if empty else ("not_text", turns))
        return None
    dialogue = [t for t in turns if t["role"] != "system"]
    if not dialogue or dialogue[-1]["role"] != "assistant":
        problems.append(("empty", t("finetune.chat_no_answer", column=column)))
        return None
    if (
        len(dialogue) < 2
        or dialogue[-2]["role"] != "user"
        or not dialogue[-1]["content"]
        or not dialogue[-2]["content"]
    ):
        problems.append(("empty", t("finetune.chat_last_missing", column=column)))
        return None
    systems = [{"role": "system", "content": system_text}] if system_text else []
    systems += [t for t in turns if t["role"] == "system" and t["content"]]
    # The same reading of a chat as the tuned model gets when it is asked later.
    prompt = example_from_messages(systems + [t for t in turns if t["role"] != "system"][:-1])
    return replace(prompt, output=dialogue[-1]["content"])


def convert_row(row: Mapping[str, Any], number: int, mapping: ColumnMapping) -> ConvertedRow:
    problems: list[tuple[str, Text]] = []
    system = _text(row, mapping.system, problems, False, t("finetune.field_system"))
    if mapping.kind == CHAT_KIND:
        example = _chat_example(row.get(mapping.messages), system, problems, mapping.messages)
        return ConvertedRow(number, None if problems else example, problems)
    first, last = (
        (t("finetune.field_prompt"), t("finetune.field_completion"))
        if mapping.kind == PROMPT_COMPLETION_KIND
        else (t("finetune.field_instruction"), t("finetune.field_output"))
    )
    instruction = _text(row, mapping.instruction, problems, True, first)
    extra = _text(row, mapping.input, problems, False, t("finetune.field_input"))
    output = _text(row, mapping.output, problems, True, last)
    if problems:
        return ConvertedRow(number, None, problems)
    return ConvertedRow(number, Example(instruction=instruction, output=output, input=extra, system=system))


def convert_table(table: DataTable, mapping: ColumnMapping) -> list[ConvertedRow]:
    check_mapping(mapping, table.columns)
    return [convert_row(row, number, mapping) for row, number in zip(table.rows, table.numbers)]


def to_examples(rows: Sequence[Mapping[str, Any]], mapping: ColumnMapping) -> list[Example]:
    """The rows that make a whole Example (rows with a problem are left out; see convert_row)."""
    converted = (convert_row(row, number, mapping) for number, row in enumerate(rows, start=1))
    return [c.example for c in converted if c.example is not None]
