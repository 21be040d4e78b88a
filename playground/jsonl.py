"""JSON Lines read line by line, with a plain message naming the line that is wrong.

Batch tables, fine-tune datasets, Arena prompt sets and Arena vote files all read it here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from playground.errors import InvalidInput


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


def json_objects(
    text: str | Iterable[str], name: str, example: str, after: str = "", bare_key: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object with trimmed keys) for each non-blank line of a JSON Lines text
    (or of its lines, read as they come); a plain message naming the line for one that is not
    a JSON object. ``example`` shows what a line should look like; ``after`` ends every
    message. With ``bare_key``, a line that is just a JSON string stands for ``{bare_key: that string}``."""
    lines = text.splitlines() if isinstance(text, str) else text
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise InvalidInput(
                f"Line {number} of {name} is not valid JSON ({err.msg} at character {err.colno}). Each line must be one object like {example}.{after}"
            ) from err
        if bare_key is not None and isinstance(value, str):
            value = {bare_key: value}
        if not isinstance(value, dict):
            raise InvalidInput(
                f"Line {number} of {name} is a {json_type_name(value)}, not an object like {example}.{after}"
            )
        yield number, {str(k).strip(): v for k, v in value.items()}
