"""The language of a text: py3langid's shipped model, with "unknown" where it is unsure."""

from playground import languages


def test_portuguese_and_english_sentences_are_told_apart():
    assert languages.detect("As avaliações dos clientes mostram que o produto chegou atrasado.").code == "pt"
    assert languages.detect("The customer reviews show that the product arrived late.").code == "en"
    assert languages.detect("Qual é o prazo de devolução?").code == "pt"


def test_too_little_text_is_unknown_not_a_guess():
    for text in ("ok", "", "12345 !!", "   "):
        found = languages.detect(text)
        assert not found.known and found.name == "unknown"


def test_a_language_the_app_does_not_speak_is_still_named():
    found = languages.detect("製品は遅れて届きました。品質は良いです。")
    assert found.code == "ja"
    assert languages.supported_or_english(found.code) == "en"
    assert languages.supported_or_english("pt-BR") == "pt"


def test_the_dominant_language_is_weighted_by_length():
    texts = [
        "Hello, I need to change my order.",
        "A política de devolução permite trocas em até trinta dias corridos, com a nota fiscal.",
        "O reembolso é feito no mesmo meio de pagamento usado na compra original do cliente.",
    ]
    found = languages.dominant(texts)
    assert found.code == "pt" and 0.5 < found.confidence < 1.0
    assert not languages.dominant(["ok", "?"]).known
