"""Cost estimates against the tokens actually used, on real models: a real ``llama_cpp.server``
on 127.0.0.1 serving the embedded SmolLM2 (an OpenAI-compatible endpoint, whose tokenizer the app
does not have), and the same GGUF run in-process (whose tokenizer it has)."""

from __future__ import annotations

import httpx
import pytest

from playground.compare.batch import Table
from playground.compare.columns import ColumnConfig
from playground.estimates import MAX_TOKENS, RECENT, RULE_OF_THUMB, TOKENIZER
from playground.estimates_view import comparison_markdown
from playground.models.embedded import SMOLLM2_KEY, smollm2_path
from playground.services import Services
from playground.settings import Settings
from tests.integration.servers import free_port, start_llama_cpp_server, stop_process

pytestmark = pytest.mark.slow
TEMPLATE = "In a few words, what does this review of {{product}} complain about? {{review}}"
FIRST = [
    {"product": "Kettle", "review": "It is loud and the lid broke after a week."},
    {"product": "Toaster", "review": "Burns one side of the bread, every time."},
    {"product": "Lamp", "review": "Bright, but the switch is stiff and hard to press."},
]
SECOND = [
    {"product": "Mug", "review": "The handle gets far too hot to hold."},
    {"product": "Fan", "review": "Quiet and strong, but it rattles at night."},
    {"product": "Chair", "review": "Comfortable, though one leg was shorter than the rest."},
]
MAX_ANSWER_TOKENS = 16
# llama-cpp-python's server reports no usage on a streamed answer (it ignores stream_options), so
# the app stores these answers' input tokens as unknown. The tokens actually used are asked of the
# server itself: the same messages, not streamed, whose reply carries its prompt_tokens.
#
# The app has no tokenizer for an endpoint and, with no reported prompts of this model on record,
# estimates by rule of thumb (4 characters a token, 4 tokens a message, 3 for the reply). SmolLM2's
# chat template adds a default system prompt ("You are a helpful AI assistant named SmolLM, trained
# by Hugging Face", about 20 tokens) and its <|im_start|>/<|im_end|> markers to every call, which
# the rule does not know: the estimate comes out low, by about a third here. Stated tolerance:
RULE_TOLERANCE = 0.5  # |estimate - actual| <= 50% of actual


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process, base_url = start_llama_cpp_server(
        smollm2_path(), free_port(), log_dir=tmp_path_factory.mktemp("llama-server"), model_alias="smollm2"
    )
    yield base_url
    stop_process(process)


@pytest.fixture
def services(tmp_path):
    home = tmp_path / "home"
    made = Services.create(Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}"))
    yield made
    made.close()


def run_batch(services, key, rows):
    """Estimate the batch, run it with the estimate kept, and return (estimate, actual) of its model."""
    columns = [ColumnConfig(model_key=key, temperature=0.0, max_tokens=MAX_ANSWER_TOKENS, seed=1)]
    table = Table("reviews.csv", ["product", "review"], [dict(r) for r in rows])
    before = services.estimates.for_batch(columns, TEMPLATE, table)
    *_, last = services.batch.run(columns, TEMPLATE, "", table, estimate=before.to_dict())
    assert last.status == "done" and all(c.status == "ok" for row in last.grid.cells for c in row)
    estimate, actual = services.estimates.against(last.run_id)
    assert estimate == before and actual.calls == len(rows)
    print(comparison_markdown(estimate, actual))  # the figures, for the record (pytest -s)
    return estimate.models[0], actual.models[0]


def prompt_of(row):
    return TEMPLATE.replace("{{product}}", row["product"]).replace("{{review}}", row["review"])


def server_prompt_tokens(base_url, rows):
    """The input tokens the server counts for each batch prompt (the messages the batch sent)."""
    counts = []
    for row in rows:
        body = {"messages": [{"role": "user", "content": prompt_of(row)}], "max_tokens": 1, "temperature": 0}
        reply = httpx.post(f"{base_url}/chat/completions", json=body, timeout=120).json()
        counts.append(reply["usage"]["prompt_tokens"])
    return counts


def test_a_batch_on_the_llama_cpp_server_is_estimated_within_the_stated_tolerance(services, server):
    spec = services.models.add_endpoint(  # a price typed for it (else a loopback server is local: $0)
        "llama server", server, "smollm2", price_input_per_m=0.15, price_output_per_m=0.6
    )
    cold, used = run_batch(services, spec.key, FIRST)
    actual_input = sum(server_prompt_tokens(server, FIRST))
    print(f"input tokens: estimated {cold.input_tokens}, used {actual_input}")
    assert (cold.input_method, cold.output_method) == (RULE_OF_THUMB, MAX_TOKENS)
    assert abs(cold.input_tokens - actual_input) <= RULE_TOLERANCE * actual_input
    assert used.uncounted == 3  # the server streamed no usage: the app says "not reported", never 0
    assert 0 < used.completion_tokens <= cold.output_tokens == 3 * MAX_ANSWER_TOKENS  # max tokens: a bound
    assert cold.seconds is None  # no recent speed yet: time unknown, not guessed
    assert cold.cost_usd == pytest.approx((cold.input_tokens * 0.15 + cold.output_tokens * 0.6) / 1e6)
    assert used.cost_usd is None  # its input tokens are unknown, so its cost is too: never $0
    # The same GGUF's own tokenizer and chat template count exactly what the server counted: the
    # whole difference is the template's tokens, which an endpoint's estimate cannot see.
    smollm2 = services.registry.get_spec(SMOLLM2_KEY)
    counted = [services.estimates.count(smollm2, [{"role": "user", "content": prompt_of(r)}]) for r in FIRST]
    assert sum(counted) == actual_input

    warm, used = run_batch(services, spec.key, SECOND)  # the first batch is this model's history now
    actual_input = sum(server_prompt_tokens(server, SECOND))
    print(f"input tokens: estimated {warm.input_tokens}, used {actual_input}")
    assert (warm.input_method, warm.output_method) == (RULE_OF_THUMB, RECENT)  # still no reported prompts
    assert abs(warm.input_tokens - actual_input) <= RULE_TOLERANCE * actual_input
    assert used.completion_tokens <= 3 * MAX_ANSWER_TOKENS and warm.output_tokens <= 3 * MAX_ANSWER_TOKENS
    assert warm.seconds is not None and warm.speed_samples == 3  # the first batch's speed
    # From the first batch's measured speed. (Not held against this batch's own time: on a shared
    # 2-core machine one batch took 61 s and the next 9 s, so any bound would only test the load.)
    per_call = warm.output_tokens // 3
    assert warm.seconds == pytest.approx(3 * (warm.ttft_s + (per_call - 1) / warm.tokens_per_s))


def test_a_local_gguf_is_counted_exactly_with_its_own_tokenizer(services):
    model, used = run_batch(services, SMOLLM2_KEY, FIRST)
    assert model.input_method == TOKENIZER and used.uncounted == 0
    assert model.input_tokens == used.prompt_tokens  # the very prompt llama.cpp was given, chat template included
    assert used.completion_tokens <= model.output_tokens == 3 * MAX_ANSWER_TOKENS
    assert model.cost_usd == 0 and used.cost_usd == 0  # a local model: $0 by choice
    again, _ = run_batch(services, SMOLLM2_KEY, SECOND)
    assert again.output_method == RECENT and again.seconds is not None
