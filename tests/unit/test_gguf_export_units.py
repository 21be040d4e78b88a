"""GGUF export, the parts without a model: the Modelfile (template, stops, well-formed), the
manifest that marks an export complete, the atomic publish, the type names, and the registry's
keys and listing of exports."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest

from playground.errors import InvalidInput
from playground.finetune.gguf_manifest import (
    MANIFEST,
    AnswerPair,
    ExportRecord,
    clean_leftovers,
    list_exports,
    publish,
    staging_dir,
    write_manifest,
)
from playground.finetune.gguf_quantize import check_quant, default_quant
from playground.finetune.modelfile import (
    ALPACA_PIECES,
    CHECK_CONVERSATIONS,
    alpaca_matches,
    chat_pieces,
    ollama_commands,
    ollama_name,
    parse_modelfile,
    render_modelfile,
)
from playground.finetune.tuned_models import (
    TunedModelProvider,
    gguf_key,
    job_id_of,
    parse_gguf_key,
    parse_key,
)
from playground.models.prompt_formats import ALPACA, CHAT_TEMPLATE
from playground.models.types import BackendKind
from playground.statuses import FinetuneStatus

# SmolLM2-135M-Instruct's own chat template (ChatML, with a default system message).
SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# A template no fixed pieces can rebuild: it numbers the turns.
NUMBERED_TEMPLATE = "{% for m in messages %}[{{ loop.index }}] {{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"


def jinja_render(source: str):
    template = jinja2.Environment().from_string(source)
    return lambda messages, generation: template.render(messages=messages, add_generation_prompt=generation)


def test_alpaca_pieces_rebuild_the_prompt_the_model_was_trained_on():
    assert alpaca_matches()
    text = render_modelfile("zorp-Q8_0.gguf", "SmolLM2 + zorp (GGUF Q8_0)", "zorp:q8_0", ALPACA, ALPACA_PIECES)
    parsed = parse_modelfile(text)
    assert parsed["FROM"] == ["./zorp-Q8_0.gguf"]
    (template,) = parsed["TEMPLATE"]
    assert "### Instruction:\n{{ .Content }}\n\n### Response:\n" in template
    assert "Below is an instruction that describes a task." in template and "{{ .System }}" in template
    assert "{{-" not in template  # trimming would eat the newlines the format needs
    params = [p.split(" ", 1) for p in parsed["PARAMETER"]]
    assert ["stop", '"### Instruction:"'] in params and ["stop", '"### Response:"'] in params
    assert ["temperature", "0.7"] in params


def test_a_chat_template_is_rewritten_for_ollama_piece_by_piece():
    render = jinja_render(SMOLLM2_TEMPLATE)
    pieces = chat_pieces(render)
    assert pieces is not None
    assert (pieces.user_pre, pieces.user_post, pieces.gen) == (
        "<|im_start|>user\n",
        "<|im_end|>\n",
        "<|im_start|>assistant\n",
    )
    assert pieces.head.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")
    for conversation in CHECK_CONVERSATIONS:
        assert pieces.render(conversation) == render(list(conversation), True)
    text = render_modelfile("m.gguf", "t", "m:q8_0", CHAT_TEMPLATE, pieces, eos="<|im_end|>")
    template = parse_modelfile(text)["TEMPLATE"][0]
    assert template.startswith("{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ else }}")
    assert '{{ if eq .Role "user" }}<|im_start|>user\n{{ .Content }}<|im_end|>\n' in template
    assert template.endswith("{{ end }}{{ end }}<|im_start|>assistant\n")
    assert 'PARAMETER stop "<|im_end|>"' in text and 'PARAMETER stop "<|im_start|>user"' in text


def test_a_template_that_cannot_be_rebuilt_leaves_ollama_the_ggufs_own():
    assert chat_pieces(jinja_render(NUMBERED_TEMPLATE)) is None
    assert chat_pieces(jinja_render("{{ raise_exception('no') }}")) is None
    text = render_modelfile("m.gguf", "t", "m:f16", CHAT_TEMPLATE, None, eos="</s>")
    parsed = parse_modelfile(text)
    assert "TEMPLATE" not in parsed and parsed["FROM"] == ["./m.gguf"] and 'stop "</s>"' in text


def test_a_bos_the_runtime_adds_is_not_written_twice():
    render = jinja_render("<s>" + SMOLLM2_TEMPLATE)
    assert chat_pieces(render).head.startswith("<s><|im_start|>")
    assert chat_pieces(render, bos="<s>").head.startswith("<|im_start|>system")


def test_modelfile_parser_refuses_what_ollama_would():
    with pytest.raises(ValueError, match="unterminated"):
        parse_modelfile('FROM ./x.gguf\nTEMPLATE """never closed\n')
    with pytest.raises(ValueError, match="unknown instruction"):
        parse_modelfile("FORM ./x.gguf\n")


def test_ollama_names_and_commands():
    assert ollama_name("Support replies v2", "Q4_K_M") == "support-replies-v2:q4_k_m"
    create, run = ollama_commands("zorp:q8_0", Path("/data/exports/Modelfile"))
    assert create == 'ollama create zorp:q8_0 -f "/data/exports/Modelfile"' and run == "ollama run zorp:q8_0"


def test_quant_types_are_checked_and_the_default_follows_the_size():
    assert check_quant("q8_0").name == "Q8_0" and check_quant(" Q4_K_M ").name == "Q4_K_M"
    with pytest.raises(InvalidInput, match="There is no GGUF type Q3_K_S. Choose one of: f16, Q8_0, Q5_K_M, Q4_K_M"):
        check_quant("Q3_K_S")
    assert default_quant(135_000_000) == "Q8_0" and default_quant(None) == "Q8_0"
    assert default_quant(3_000_000_000) == "Q4_K_M"


def test_fine_tune_keys_parse_robustly():
    assert gguf_key(7, "Q8_0") == "finetune/7/gguf/Q8_0"
    assert parse_gguf_key("finetune/7/gguf/Q8_0") == (7, "Q8_0")
    assert parse_key("finetune/7/gguf/Q8_0") is None and job_id_of("finetune/7/gguf/Q8_0") is None
    assert parse_key("finetune/7") == (7, False) and parse_key("finetune/7/base") == (7, True)
    for bad in ("finetune/7/gguf/Q9", "finetune/x/gguf/Q8_0", "finetune/7/gguf", "finetune/7/base/x", "finetune/٣"):
        assert parse_gguf_key(bad) is None and parse_key(bad) is None


def record(folder: Path, quant: str = "Q8_0", job_id: int = 1, job_name: str = "zorp") -> ExportRecord:
    folder.mkdir(parents=True, exist_ok=True)
    gguf = folder / f"zorp-{quant}.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    answers = (AnswerPair("What is snow?", "ZORP snow", " ZORP snow "), AnswerPair("Sky?", "blue", "red"))
    return ExportRecord(job_id, job_name, "Base", ALPACA, quant, gguf.name, gguf.stat().st_size, "zorp:q8_0",
                        "alpaca", 32, answers, {"merge": 1.0}, 0.0, folder)  # fmt: skip


def test_only_a_published_export_with_its_manifest_is_listed(tmp_path):
    job_dir = tmp_path / "Base-zorp-job1"
    staging = staging_dir(job_dir, "Q8_0", "t1")
    first = record(staging)
    assert list_exports(job_dir, 1, "zorp") == []  # still staging
    write_manifest(first)
    assert list_exports(job_dir, 1, "zorp") == []  # complete, but not yet under its type's name
    publish(staging, job_dir, "Q8_0", "t1")
    (listed,) = list_exports(job_dir, 1, "zorp")
    assert listed.folder == job_dir / "Q8_0" and listed.agree == 1 and listed.check_answer.prompt == "What is snow?"
    data = json.loads((job_dir / "Q8_0" / MANIFEST).read_text())
    assert (data["agree"], data["total"], data["version"]) == (1, 2, 1)
    assert list_exports(job_dir, 2, "zorp") == [] and list_exports(job_dir, 1, "other") == []  # another job's

    half = job_dir / "Q4_K_M"
    record(half, "Q4_K_M")  # a file but no manifest: a crash midway
    (job_dir / "Q8_0" / "zorp-Q8_0.gguf").write_bytes(b"GGUF")  # a file cut short
    assert list_exports(job_dir, 1, "zorp") == []


def test_publish_replaces_the_previous_export_only_once_the_new_one_is_whole(tmp_path):
    job_dir = tmp_path / "job"
    for token, tag in (("a", "first"), ("b", "second")):
        staging = staging_dir(job_dir, "Q8_0", token)
        write_manifest(record(staging))
        (staging / "tag").write_text(tag)
        publish(staging, job_dir, "Q8_0", token)
    assert (job_dir / "Q8_0" / "tag").read_text() == "second"
    assert sorted(p.name for p in job_dir.iterdir()) == ["Q8_0"]


def test_leftovers_are_cleaned_and_an_export_cut_between_renames_is_restored(tmp_path):
    job_dir = tmp_path / "job"
    write_manifest(record(job_dir / ".old-Q8_0-a"))  # moved aside, then the process died
    record(staging_dir(job_dir, "Q4_K_M", "b"))  # an export that never finished
    (job_dir / ".old-f16-c").mkdir()  # moved aside with its replacement in place: just removed
    (job_dir / "f16").mkdir()
    clean_leftovers(job_dir)
    assert sorted(p.name for p in job_dir.iterdir()) == ["Q8_0", "f16"]
    assert [r.quant for r in list_exports(job_dir, 1, "zorp")] == ["Q8_0"]


def test_the_registry_lists_each_export_as_a_llama_cpp_model_in_the_jobs_format(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    job = SimpleNamespace(id=1, status=FinetuneStatus.DONE, adapter_path=str(adapter), base_path=str(tmp_path / "b.gguf"),
                          base_name="Base", name="zorp", dataset_name="", prompt_format=ALPACA)  # fmt: skip
    root = tmp_path / "gguf"
    staging = staging_dir(root / "Base-zorp-job1", "Q8_0", "t")
    write_manifest(record(staging))
    publish(staging, root / "Base-zorp-job1", "Q8_0", "t")

    class UoW:
        finetune_jobs = SimpleNamespace(list=lambda statuses: [job], get=lambda job_id: job if job_id == 1 else None)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    provider = TunedModelProvider(UoW, root)
    assert [s.key for s in provider.list_specs()] == ["finetune/1", "finetune/1/gguf/Q8_0"]
    spec = provider.get_spec("finetune/1/gguf/Q8_0")
    assert spec.name == "Base + zorp (GGUF Q8_0)" and spec.backend == BackendKind.LLAMA_CPP
    assert spec.extra["prompt_format"] == ALPACA and spec.path.endswith("Q8_0/zorp-Q8_0.gguf")
    assert provider.get_spec("finetune/1/gguf/Q4_K_M") is None and provider.get_spec("finetune/2/gguf/Q8_0") is None
    job.status = FinetuneStatus.FAILED
    assert provider.get_spec("finetune/1/gguf/Q8_0") is None  # only a finished job's exports are models
