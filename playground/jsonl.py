"""JSON Lines read line by line, with a plain message naming the line that is wrong.

Batch tables, fine-tune datasets, Arena prompt sets and Arena vote files all read it here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from playground.errors import InvalidInput
from playground.i18n import Text, t

# A JSON value's kind, as json_type_name names it, in the reader's language (with its article
# where the language needs one there: "a number" in English is the sentence's, "um número" the word's).
_KIND_KEYS = {
    "true/false value": "jsonl.kind_bool",
    "number": "jsonl.kind_number",
    "text": "jsonl.kind_text",
    "null": "jsonl.kind_null",
    "object": "jsonl.kind_object",
    "list": "jsonl.kind_list",
}


def json_type_name(value: Any) -> str:
    """What a JSON value is, in words for a message."""
    if isinstance(value, bool):
        return "true/false value"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    return "object" if isinstance(value, dict) else "list"


def json_kind_text(value: Any) -> Text:
    """``json_type_name`` in the reader's language."""
    return t(_KIND_KEYS[json_type_name(value)])


def json_objects(
    text: str | Iterable[str],
    name: str | Text,
    example: str,
    after: str | Text = "",
    bare_key: str | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object with trimmed keys) for each non-blank line of a JSON Lines text
    (or of its lines, read as they come); a plain message naming the line for one that is not
    a JSON object. ``name`` says what the text is (a file name, or a Text such as
    ``t("jsonl.vote_file")``); ``example`` shows what a line should look like; ``after`` ends every
    message. With ``bare_key``, a line that is just a JSON string stands for ``{bare_key: that string}``."""
    lines = text.splitlines() if isinstance(text, str) else text
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise InvalidInput(
                t(
                    "jsonl.not_json",
                    number=number,
                    name=name,
                    error=err.msg,
                    column=err.colno,
                    example=example,
                    after=after,
                )
            ) from err
        if bare_key is not None and isinstance(value, str):
            value = {bare_key: value}
        if not isinstance(value, dict):
            raise InvalidInput(
                t(
                    "jsonl.not_object",
                    number=number,
                    name=name,
                    kind=json_kind_text(value),
                    example=example,
                    after=after,
                )
            )
        yield number, {str(k).strip(): v for k, v in value.items()}
