"""A file's notes (parser warnings, language notes) are catalogue Texts: kept in the database as
key and values, shown in the reader's language; plain notes from before are shown as they are."""

from __future__ import annotations

import json

from playground.i18n import t
from playground.rag.config import EMBED_MODEL_NAME, MULTILINGUAL_EMBED_MODEL_NAME
from playground.rag.embedder_choice import LanguageProfile, coverage_note
from playground.rag.notes import from_stored, joined, to_stored
from playground.rag.parsing import parse_bytes

MOSTLY_EN = LanguageProfile("en", 0.6, ("en", "pt"))


def test_a_parser_warning_reads_in_portuguese_and_in_english():
    rows = "name;price\nBolo de fubá;12,50\nPão de queijo;4,00\n"
    doc = parse_bytes("menu.csv", rows.encode())
    (note,) = doc.warnings
    assert (
        note.render("pt-BR")
        == "2 linha(s) lida(s); cada linha é indexada como uma linha que nomeia suas colunas (name, price)."
    )
    assert str(note) == "2 row(s) read; each row is indexed as one line naming its columns (name, price)."


def test_a_language_note_names_the_languages_in_the_readers_language():
    note = coverage_note(EMBED_MODEL_NAME, MOSTLY_EN)
    shown = note.render("pt-BR")
    assert "Este arquivo mistura idiomas (vários idiomas (principalmente inglês, também português))" in shown
    assert MULTILINGUAL_EMBED_MODEL_NAME in shown
    assert "mixes languages (mixed languages (mostly English, also Portuguese))" in str(note)  # as before


def test_a_stored_note_comes_back_as_the_same_text_and_plain_notes_stay_plain():
    note = coverage_note(EMBED_MODEL_NAME, MOSTLY_EN)
    stored = json.loads(json.dumps(to_stored(note)))  # through the JSON column
    assert from_stored(stored) == note and from_stored(stored).render("pt-BR") == note.render("pt-BR")
    assert from_stored("Not UTF-8: read as cp1252.") == "Not UTF-8: read as cp1252."
    assert from_stored({"i18n": "documents.no_such_note", "values": {"pages": "2, 3"}}) == "2, 3"


def test_numbers_in_notes_take_the_readers_separators():
    note = t("documents.note_mostly_scripts", scripts=3, characters=12345)
    assert "12,345 characters" in str(note) and "12.345 caracteres" in note.render("pt-BR")


def test_joined_notes_render_each_part_in_one_language():
    both = joined([t("documents.note_docx_pages"), "plain"], prefix=" · ")
    assert both.render("pt-BR").startswith(" · Arquivos do Word não têm páginas fixas") and both.render().endswith(
        "plain"
    )
    assert joined([], prefix=" · ").render() == ""
