"""What the database keeps for a sentence (a fine-tuning job's message, a file's notes), and what reading it back gives."""

import json

from playground.i18n import t
from playground.stored_text import dump, load


def test_a_text_goes_in_as_its_key_and_values_and_comes_back_whole():
    said = t("finetune.msg_then_resumes", first=t("finetune.msg_loading"), step=4)
    stored = dump(said)
    assert json.loads(stored) == {
        "i18n": "finetune.msg_then_resumes",
        "values": {"first": {"i18n": "finetune.msg_loading", "values": {}}, "step": 4},
    }
    assert load(stored) == said
    assert (
        load(stored).render("pt-BR") == "Preparando: carregando o modelo base… Depois, o treino é retomado do passo 4."
    )
    assert str(load(stored)) == "Preparing: loading the base model… Then training resumes from step 4."


def test_anything_that_is_not_an_envelope_of_a_known_key_reads_as_it_was_stored():
    assert load("Training: step 3 of 5.") == "Training: step 3 of 5."  # a row written before there were keys
    assert dump("Training: step 3 of 5.") == "Training: step 3 of 5."
    unknown = '{"i18n": "finetune.no_such_key", "values": {}}'
    assert load(unknown) == unknown
    assert load('{"i18n": broken') == '{"i18n": broken'
    assert load(None) == "" and load("") == ""
