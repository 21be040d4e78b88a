"""A collection's keyword postings from the database, cut in the collection's language.

The terms of each chunk are cut once (``playground.rag.words``) and stored with the
language they were cut in. Loading a collection first cuts whatever has no terms in its
current language (chunks added since the last load, every chunk after an upgrade from the
FTS5 index, all of them when the collection's language changed) and stores those, in the
same transaction; then it reads the stored terms.
"""

from __future__ import annotations

import logging

from playground.rag.keyword_index import CollectionPostings
from playground.rag.words import analyzer, language_key, postings_of_terms
from storage import UnitOfWork

log = logging.getLogger(__name__)


def collection_language(uow: UnitOfWork, collection_id: int) -> str:
    row = uow.rag_collections.get(collection_id)
    return language_key(getattr(row, "language", "") if row is not None else "")


def load_collection_postings(uow: UnitOfWork, collection_id: int) -> CollectionPostings:
    """Postings of the collection's ready chunks (cutting and storing the terms it lacks)."""
    language = collection_language(uow, collection_id)
    missing = uow.rag_chunks.texts_without_terms(collection_id, language)
    if missing:
        cut = analyzer(language)
        uow.rag_chunks.save_keyword_terms(collection_id, language, [(c, " ".join(cut.terms(t))) for c, t in missing])
        log.info("Cut keyword terms (%s) of %d chunk(s) in collection %d", language, len(missing), collection_id)
    stored = uow.rag_chunks.keyword_terms(collection_id, language)
    return CollectionPostings(language, postings_of_terms(stored))
