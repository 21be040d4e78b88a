"""Keyword terms per language: Snowball stemming, stopwords-iso stopwords, diacritics removed
after stemming; unknown languages are cut as English, as every collection was before."""

from __future__ import annotations

import snowballstemmer

from playground.rag.keyword_index import CollectionPostings, KeywordIndex
from playground.rag.retrieval import query_terms
from playground.rag.words import analyzer, language_key, strip_diacritics, words_of

PT_TEXTS = {
    1: "As avaliações de desempenho acontecem duas vezes por ano.",
    2: "O cliente pode trocar o produto em até 30 dias.",
    3: "Os clientes recebem o reembolso em dez dias úteis.",
    4: "A cafeteira funciona apenas em 220 volts.",
}


def test_portuguese_stemming_matches_inflected_forms():
    pt = analyzer("pt")
    assert pt.terms("avaliações") == pt.terms("avaliação") == pt.terms("Avaliação")
    assert pt.terms("clientes") == pt.terms("cliente")
    assert pt.terms("reembolsos") == pt.terms("reembolso")
    assert pt.terms("férias") == pt.terms("ferias")  # the accent is dropped after stemming
    index = KeywordIndex.from_texts(PT_TEXTS, "pt")
    assert [c for c, _ in index.search(0, ["avaliação"], 10)] == [1]
    assert {c for c, _ in index.search(0, ["cliente"], 10)} == {2, 3}


def test_diacritics_are_removed_after_stemming_not_before():
    # Snowball's Portuguese rules are written for accented words: stripped first, the two
    # forms would stem apart.
    stem = snowballstemmer.stemmer("portuguese").stemWord
    assert stem(strip_diacritics("avaliações")) != stem(strip_diacritics("avaliação"))
    assert strip_diacritics(stem("avaliações")) == strip_diacritics(stem("avaliação")) == "avali"
    assert analyzer("pt").terms("avaliações") == ["avali"]


def test_stopwords_of_the_language_are_dropped():
    pt = analyzer("pt")
    assert pt.terms("O que é a política de trocas da empresa?") == pt.terms("política trocas empresa")
    assert "que" not in pt.terms("que") and pt.terms("não") == [] and pt.terms("nao") == []
    assert query_terms("Qual é o prazo para pedir o reembolso?", "pt") == ["prazo", "pedir", "reembolso"]
    en = analyzer("en")
    assert en.terms("What is the refund policy for cakes?") == ["refund", "polici", "cake"]
    index = KeywordIndex.from_texts(PT_TEXTS, "pt")
    assert index.search(0, ["os", "de", "em"], 10) == []  # only stopwords: nothing to match


def test_words_are_split_like_unicode61():
    assert words_of("Co-op: 1.80€ por_dia, AÇÃO!") == ["co", "op", "1", "80", "por", "dia", "ação"]
    assert words_of("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # combining vowel signs stay in the word
    assert all(" " not in t and t == t.lower() for t in analyzer("pt").terms("İstanbul ÇA Ñandú"))


def test_unknown_language_is_english_as_before():
    assert language_key("") == language_key(None) == language_key("xx") == "en"
    assert language_key("pt-BR") == language_key("PT_br") == "pt"
    en_texts = {1: "Running the oven early saves energy.", 2: "Wages are paid every Friday."}
    unknown, english = KeywordIndex.from_texts(en_texts, ""), KeywordIndex.from_texts(en_texts, "en")
    for words in (["running"], ["ovens", "wages"], ["paid", "friday"]):
        assert unknown.search(0, words, 5) == english.search(0, words, 5) != []
    bare = KeywordIndex(lambda _c: analyzer("en").postings(en_texts.items()))  # a loader with no language
    assert bare.language(5) == "en" and bare.search(5, ["runs"], 5) == english.search(0, ["runs"], 5)


def test_a_collection_is_cut_again_when_its_language_changes():
    loads = []

    def loader(collection_id):
        language = "pt" if len(loads) else ""
        loads.append(language)
        return CollectionPostings(language, analyzer(language).postings(PT_TEXTS.items()))

    index = KeywordIndex(loader)
    assert index.search(1, ["avaliação"], 5, language="") == []  # English rules: "avaliação" != "avaliações"
    assert [c for c, _ in index.search(1, ["avaliação"], 5, language="pt")] == [1]
    assert loads == ["", "pt"] and index.language(1) == "pt"
    index.search(1, ["cliente"], 5, language="pt")
    assert loads == ["", "pt"]  # same language: no reload
