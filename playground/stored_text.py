"""Sentences kept in the database and shown later, in the language of whoever reads them then.

A catalogue ``Text`` is stored as its key and values, ``{"i18n": "<key>", "values": {...}}``
(a value that is itself a Text nested the same way; a ``Joined`` as ``{"i18n_parts": [...]}``):
as a JSON value in a JSON column (``to_stored`` / ``from_stored``), or as that JSON written out
in a text column that held English before (``dump`` / ``load``). No schema change is needed,
and rows written before keys existed (plain English) are shown as they are. A key the
catalogue no longer has is shown as its values, which still say something.
"""

from __future__ import annotations

import json
from typing import Any

from playground.i18n import Joined, Text, catalogue, joined

ENVELOPE = "i18n"
PARTS = "i18n_parts"
_START = '{"' + ENVELOPE


def to_stored(message: object) -> Any:
    """``message`` as a JSON value: a Text as its envelope, a number as it is, else its string."""
    if isinstance(message, Joined):
        return {PARTS: [to_stored(p) for p in message.parts], "separator": message.separator, "prefix": message.prefix}
    if isinstance(message, Text):
        return {ENVELOPE: message.key, "values": {name: to_stored(v) for name, v in message.values.items()}}
    if message is None:
        return ""
    return message if isinstance(message, (int, float)) else str(message)


def from_stored(stored: object) -> Any:
    """What ``to_stored`` kept, back as a Text (its key still in the catalogue), else as it was."""
    if not isinstance(stored, dict):
        return stored if isinstance(stored, (int, float, str)) else ("" if stored is None else str(stored))
    if isinstance(stored.get(PARTS), list):
        return joined(
            (from_stored(p) for p in stored[PARTS]), str(stored.get("separator", " ")), str(stored.get("prefix", ""))
        )
    values = stored.get("values")
    values = values if isinstance(values, dict) else {}
    key = stored.get(ENVELOPE)
    if isinstance(key, str) and catalogue().has(key):
        return Text(key, {name: from_stored(v) for name, v in values.items()})
    return " ".join(str(from_stored(v)) for v in values.values())


def dump(message: object) -> str:
    """What a text column keeps for ``message``: a Text as its envelope's JSON, else its string."""
    if isinstance(message, Text):
        return json.dumps(to_stored(message), ensure_ascii=False, default=str)
    return "" if message is None else str(message)


def load(stored: str | None) -> Text | str:
    """The sentence a text column holds: a Text for an envelope, else the stored text itself."""
    if not stored or not stored.startswith(_START):
        return stored or ""
    try:
        data = json.loads(stored)
    except ValueError:
        return stored
    sentence = from_stored(data)
    if isinstance(sentence, Text):
        return sentence
    return sentence if isinstance(sentence, str) and sentence else stored  # nothing better to show
