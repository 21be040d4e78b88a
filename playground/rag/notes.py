"""Notes a file carries (parser warnings, language notes) in the reader's language.

A note is a catalogue ``Text``, or a plain string in rows written before notes had keys. The
database keeps a note as its key and values (``playground.stored_text``), so the Files table
shows it in the language of whoever reads it; a plain string is shown as it is.
"""

from __future__ import annotations

from playground.i18n import Joined, Text, catalogue, joined, t
from playground.stored_text import from_stored, to_stored

Note = Text | str

__all__ = ["Joined", "Note", "from_stored", "joined", "language_text", "to_stored"]


def language_text(code: str) -> Note:
    """A language's name as the catalogue has it ("Portuguese" / "Português"), else its code."""
    if not code:
        return t("documents.language_unknown")
    key = f"language.name_{code}"
    return Text(key) if catalogue().has(key) else code
