"""The Arena's leak filter on answers real models give when asked who they are."""

import logging

import pytest

from playground.arena.leaks import (
    DEFAULT_WORDS,
    FALLBACK_WORDS,
    default_words,
    find_leaks,
    read_words_file,
    redact,
    unique_words,
    words_for_model,
)
from playground.arena.live import shown_while_streaming

VENDOR_ANSWERS = [
    "Hi there! I'm TinyLlama, a compact chat model. How can I help you today?",
    "As an AI developed by Microsoft (Phi-3), I don't have personal experiences, but here is a summary.",
    "I'm Command R+, a large language model built by Cohere to help with business tasks.",
    "I am Grok, an AI built by xAI. Ask me anything — I'll try to be maximally helpful.",
    "I'm Llama-3.1-Nemotron-70B-Instruct, customised by NVIDIA to improve helpfulness.",
    "I am Granite, a language model developed by IBM Research.",
    "I am DeepSeek-V3, an intelligent assistant developed by DeepSeek.",
    "Sure! (I'm DeepSeekCoder, so code questions are my favourite.)",
    "I am Qwen, created by Alibaba Cloud. I am a helpful assistant.",
    "I'm Yi, a large language model trained by 01.AI.",
    "I'm Falcon, trained by the Technology Innovation Institute in Abu Dhabi.",
    "Hello! I'm OLMo, an open language model from AI2.",
    "I'm Jamba, a hybrid SSM-Transformer model made by AI21 Labs.",
    "I'm Reka Flash, a multimodal assistant.",
    "I am Amazon Nova Micro, a text model on Amazon Bedrock.",
    "I'm MyGemma, a Gemma fine-tune that a student made this morning.",
    "I'm ChatGPT, a model trained by OpenAI.",
    "I am Claude, made by Anthropic.",
    "Je suis Mistral, un modèle de Mistral AI.",
]
HARMLESS = [
    "A coherent argument needs premises; philosophy students in Delphi debated it.",
    "Llamas and alpacas graze on granites and basalts in the Andes.",
    "Titanium is light. Meta-analysis shows grokking takes time. Bernie yields.",
    "The Amazon rainforest is vast; a nova is a star that brightens suddenly.",
]


@pytest.mark.parametrize("answer", VENDOR_ANSWERS)
def test_answers_that_name_their_model_are_caught_and_blacked_out(answer):
    words = list(DEFAULT_WORDS)
    found = find_leaks(answer, words)
    assert found, answer
    shown = redact(answer, words)
    for word in found:
        assert word.lower() not in shown.lower(), (word, shown)
    assert "[model]" in shown


def test_glued_and_run_on_names_are_blacked_out_whole():
    words = list(DEFAULT_WORDS)
    assert redact("I'm TinyLlama, hi.", words) == "I'm [model], hi."
    assert redact("MyGemma and CodeQwen-7B and Qwen2.5-7B-Instruct", words) == "[model] and CodeQwen-7B and [model]"
    assert redact("Made by MistralAI; I am GPT-4o.", words) == "Made by [model]; I am [model]."


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_words_that_contain_a_name_are_left_alone(text):
    assert find_leaks(text, list(DEFAULT_WORDS)) == [] and redact(text, list(DEFAULT_WORDS)) == text


def test_a_contestants_remote_model_name_and_file_stem_are_leak_words():
    ollama = words_for_model("Laptop box", "entry/4", "llama3.2:1b")
    assert "llama3.2" in ollama and "llama3.2:1b" in ollama
    assert redact("llama3.2 here, happy to help!", ollama) == "[model] here, happy to help!"
    hub = words_for_model("Lab", "entry/5", "meta-llama/Llama-3.2-1B-Instruct")
    assert {"Llama-3.2-1B-Instruct", "meta-llama", "Llama"} <= set(hub)
    orca = words_for_model("Room server", "entry/6", "orca-mini:3b", None, "/srv/models/orca-mini-3b.Q4_0.gguf")
    assert "orca-mini" in orca and "orca-mini-3b.Q4_0" in orca
    assert redact("Hello, I'm Orca-Mini! And also MyOrca-Mini.", orca) == "Hello, I'm [model]! And also [model]."
    # A folder or file name that says nothing about the model is no leak word.
    assert words_for_model("My tune", "finetune/3", None, "/home/alice/jobs/3/adapter") == ["My tune"]


def test_the_vendor_list_is_current_and_read_from_the_editable_file(tmp_path, caplog):
    listed = {w.lower() for w in DEFAULT_WORDS}
    for word in ("Phi", "Cohere", "Command R", "Grok", "xAI", "Nvidia", "Nemotron", "Granite", "IBM", "DeepSeek",
                 "Qwen", "Yi", "Falcon", "OLMo", "AI2", "Jamba", "AI21", "Reka", "Amazon Nova", "Amazon Titan"):  # fmt: skip
        assert word.lower() in listed, word
    mine = tmp_path / "words.txt"
    mine.write_text("# our own list\nAcme LM  # the lab's model\n\nacme lm\nWidget\n", encoding="utf-8")
    assert read_words_file(mine) == default_words(mine) == ["Acme LM", "Widget"]
    caplog.set_level(logging.WARNING)
    assert default_words(tmp_path / "missing.txt") == list(FALLBACK_WORDS) and "could not be read" in caplog.text
    assert unique_words(FALLBACK_WORDS) == list(FALLBACK_WORDS)


def test_a_streamed_name_glued_to_another_word_is_held_back_until_it_is_whole():
    words = ["Gemma", "Hugging Face"]
    assert shown_while_streaming("I am MyGem", words) == "I am "
    assert shown_while_streaming("I am MyGemma ", words) == "I am [model] "
    assert shown_while_streaming("Made by xHugging ", words) == "Made by "
    assert shown_while_streaming("Made by xHugging Face. ", words) == "Made by [model]. "
    assert shown_while_streaming("An alpha ", ["Phi"]) == "An alpha "  # short words only stand alone
