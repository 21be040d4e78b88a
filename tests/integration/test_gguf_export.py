"""GGUF export for real: the embedded SmolLM2 fine-tuned for a few steps (the ZORP style of
test_finetune_jobs), merged, converted by llama.cpp's converter, quantised by llama.cpp's
quantiser, loaded by the app's llama.cpp backend, listed as a model and answering in Compare.

The trained ZORP job is the one test_finetune_jobs trains (shared through conftest.py); its exports are made in the
order the tests run: Q8_0 first, then the refusals and Stop on top of it, then Q4_K_M.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from components.finetune_compare import comparison_note
from playground.compare.columns import ColumnConfig
from playground.errors import InvalidInput
from playground.finetune import gguf_export
from playground.finetune.gguf_converter import CONVERTER_ENV, ExportStopped, UnsupportedArchitecture
from playground.finetune.gguf_quantize import QUANT_TYPES, QuantType
from playground.finetune.modelfile import parse_modelfile
from playground.finetune.tuned_models import gguf_key
from playground.models.prompt_formats import ALPACA, Example, render_prompt
from playground.models.types import GenerationParams, Message
from playground.progress import Progress
from tests.integration.zorp_job import HOLDOUT

pytestmark = pytest.mark.slow
# The first tokens of a greedy answer that the Q8_0 file must reproduce exactly (see the test).
SAME_FIRST_TOKENS = 8


@pytest.fixture(scope="module")
def services(finetune_services):
    return finetune_services


@pytest.fixture(scope="module")
def job_id(zorp_trained):
    """The ZORP job test_finetune_jobs trains (one shared training run: tests/integration/conftest.py)."""
    job_id, _, view = zorp_trained
    assert view.status == "done", view.message
    return job_id


@pytest.fixture(scope="module")
def q8(services, job_id):
    seen: list[Progress] = []
    began = time.perf_counter()
    record = services.gguf_exports.export(job_id, "Q8_0", seen.append)
    print(f"\nQ8_0 export: {time.perf_counter() - began:.1f} s, steps {record.seconds}, {record.size_bytes} bytes")
    return record, seen


def merged_greedy_ids(merged: Path, prompt_text: str, max_new_tokens: int) -> list[int]:
    """The merged folder's greedy continuation with plain transformers: the reference."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(merged))
    model = AutoModelForCausalLM.from_pretrained(str(merged), dtype=torch.float32)
    ids = tokenizer(prompt_text, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                             do_sample=False, pad_token_id=tokenizer.eos_token_id)  # fmt: skip
    return out[0, ids.shape[1] :].tolist()


def test_q8_0_loads_in_llama_cpp_and_matches_the_merged_model_greedily(services, job_id, q8):
    """The Q8_0 file, run by the app's llama.cpp backend, gives the merged transformers model's
    greedy answer to a holdout prompt, token for token over the first SAME_FIRST_TOKENS (8) tokens.

    Tolerance, and why: Q8_0 rounds each weight to 8 bits (an error near 0.4 % of a block's
    largest weight) and llama.cpp sums in another order than PyTorch, so the logits differ a
    little; greedy decoding only changes course where the two best tokens are that close. After
    ten steps the tuned model's answer opens with its trained "ZORP ZORP! The answer is", where
    the best token leads by a wide margin, so the first 8 tokens must be identical. Further on,
    the paths may part at a near tie; across all holdout prompts the test asks only that most
    whole answers agree (exactly, after stripping), which is what the manifest reports."""
    record, seen = q8
    merged = Path(services.finetune.job_view(job_id).export_path)
    example = HOLDOUT[0]
    prompt_text = render_prompt(Example(example.instruction, ""), ALPACA)
    reference = merged_greedy_ids(merged, prompt_text, SAME_FIRST_TOKENS)
    spec = services.registry.get_spec(gguf_key(job_id, "Q8_0"))
    with services.registry.use(spec.key) as backend:
        assert type(backend).__name__ == "LlamaCppBackend"
        prompt = backend._llm.tokenize(prompt_text.encode(), add_bos=True, special=True)
        tokens = backend._llm.generate(prompt, temp=0.0, top_k=1)
        llama_ids = [next(tokens) for _ in range(SAME_FIRST_TOKENS)]
        tokens.close()
        params = GenerationParams(temperature=0.0, max_tokens=24, seed=0)
        answer = "".join(
            p for p in backend.stream([Message("user", example.instruction)], params) if isinstance(p, str)
        )
    assert llama_ids == reference, (llama_ids, reference)
    assert "ZORP" in answer and "### Instruction" not in answer  # the tuned weights, stopped at the Alpaca markers
    assert record.answers[0].gguf.startswith(answer.strip()[:20]) or answer.startswith(record.answers[0].gguf[:20])
    assert record.agree >= len(record.answers) - 1, record.answers
    assert 120_000_000 < record.size_bytes < 170_000_000  # 8.5 bits a weight for 135 M weights
    assert [p.done for p in seen] == sorted(p.done for p in seen) and seen[-1].done == seen[-1].total
    print(f"Q8_0 greedy answers agreeing with the tuned model: {record.agree} of {len(record.answers)}")


def test_the_modelfile_is_well_formed_and_names_the_alpaca_template(q8):
    record, _ = q8
    parsed = parse_modelfile(record.modelfile_path.read_text())
    (source,) = parsed["FROM"]
    assert (record.modelfile_path.parent / source).resolve() == record.gguf_path.resolve()
    (template,) = parsed["TEMPLATE"]
    assert template.count("### Instruction:\n{{ .Content }}\n\n### Response:\n") == 1 and record.template == "alpaca"
    assert 'stop "### Instruction:"' in " ".join(parsed["PARAMETER"])
    assert record.ollama_name == "zorp:q8_0"


def test_the_export_is_a_model_in_every_picker_and_answers_in_compare(services, job_id, q8):
    key = gguf_key(job_id, "Q8_0")
    assert ("SmolLM2 135M Instruct + zorp (GGUF Q8_0)", key) in services.models.choices()
    columns = [ColumnConfig(model_key=key, temperature=0.0, max_tokens=16, seed=1)]
    run_id, text = services.compare.start_run(columns, "What colour is the sky?")
    final = list(services.compare.stream_turn(run_id, columns, [[]], text))[-1]
    assert final[0].status == "ok" and "ZORP" in final[0].text
    result = list(services.side_by_side.compare(job_id, 1, 16, tuned_key=key))[-1]
    assert result.tuned_name.endswith("(GGUF Q8_0)") and "ZORP" in result.rows[0].tuned.text
    assert result.exported  # the note then puts the difference down to the fine-tune and quantisation
    assert "the fine-tune's and the GGUF quantisation's" in comparison_note(result)


def test_refusals_keep_the_previous_export(services, job_id, q8, monkeypatch, tmp_path):
    record, _ = q8
    with pytest.raises(InvalidInput, match="There is no GGUF type Q2_K"):
        services.gguf_exports.export(job_id, "Q2_K")
    monkeypatch.setitem(QUANT_TYPES, "Q9_9", QuantType("Q9_9", "9999", 1.0, "export.quant_q8_0"))
    with pytest.raises(
        InvalidInput, match="llama.cpp could not quantise this model to Q9_9: .*invalid output file type"
    ):
        services.gguf_exports.export(job_id, "Q9_9")
    monkeypatch.delitem(QUANT_TYPES, "Q9_9")

    full = shutil.disk_usage(services.settings.home)._replace(free=10**6)
    monkeypatch.setattr(gguf_export.shutil, "disk_usage", lambda path: full)
    with pytest.raises(InvalidInput, match="Not enough free disk space"):
        services.gguf_exports.export(job_id, "Q8_0")
    monkeypatch.undo()

    monkeypatch.setenv(CONVERTER_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(InvalidInput, match="The GGUF converter is not installed"):
        services.gguf_exports.export(job_id, "Q8_0")
    monkeypatch.undo()
    (kept,) = services.gguf_exports.exports(job_id)
    assert kept.created_at == record.created_at and kept.gguf_path.stat().st_size == record.size_bytes


def test_an_architecture_the_converter_does_not_know_is_named_and_the_folder_offered(
    services, job_id, q8, tmp_path, monkeypatch
):
    folder = tmp_path / "foo"
    folder.mkdir()
    (folder / "config.json").write_text('{"architectures": ["FooForCausalLM"], "model_type": "foo"}')
    monkeypatch.setattr(services.gguf_exports, "_merged", lambda job: folder)
    with pytest.raises(UnsupportedArchitecture, match=f"does not support the architecture FooForCausalLM.*{folder}"):
        services.gguf_exports.export(job_id, "f16")
    assert [r.quant for r in services.gguf_exports.exports(job_id)] == ["Q8_0"]


def test_stop_during_the_conversion_leaves_nothing_listed_and_no_half_file(services, job_id, q8):
    stop = threading.Event()

    def on_progress(p: Progress) -> None:
        if "Converting" in str(p.message):
            threading.Timer(2.0, stop.set).start()  # the converter is writing by then

    began = time.monotonic()
    with pytest.raises(ExportStopped):
        services.gguf_exports.export(job_id, "f16", on_progress, stop)
    assert time.monotonic() - began < 60
    assert [r.quant for r in services.gguf_exports.exports(job_id)] == ["Q8_0"]
    job_dir = q8[0].folder.parent
    assert sorted(p.name for p in job_dir.iterdir() if p.is_dir()) == ["Q8_0"]  # the staging folder went too
    assert [p.relative_to(job_dir).as_posix() for p in job_dir.rglob("*.gguf")] == [f"Q8_0/{q8[0].gguf_file}"]
    assert gguf_key(job_id, "f16") not in [s.key for s in services.registry.list_specs()]


def test_a_second_export_while_one_runs_is_refused_then_q4_k_m_is_listed_too(services, job_id, q8):
    results: dict[str, object] = {}
    began = time.perf_counter()
    worker = threading.Thread(target=lambda: results.update(q4=services.gguf_exports.export(job_id, "Q4_K_M")))
    worker.start()
    deadline = time.monotonic() + 30
    while not services.gguf_exports.running(job_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(InvalidInput, match="An export of zorp is already running"):
        services.gguf_exports.export(job_id, "Q8_0")
    worker.join(600)
    q4 = results["q4"]
    print(f"\nQ4_K_M export: {time.perf_counter() - began:.1f} s, steps {q4.seconds}, {q4.size_bytes} bytes, "
          f"agreeing with the tuned model: {q4.agree} of {len(q4.answers)}")  # fmt: skip
    assert [r.quant for r in services.gguf_exports.exports(job_id)] == ["Q8_0", "Q4_K_M"]
    assert q4.size_bytes < q8[0].size_bytes and q4.answers[0].tuned == q8[0].answers[0].tuned
