"""GGUF export wiring on the fake backend: the service's order of steps, its refusals, its lease,
Stop (a real child process, killed), the atomic listing, the registry's models, deleting a job,
and the Fine-tune tab's export event driven through gradio_client.

The merge and the two child-process steps are replaced by quick stand-ins here; the real chain
(a trained SmolLM2, llama.cpp's converter and quantiser, llama.cpp loading the file) is tested in
tests/integration/test_gguf_export.py."""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from collections import namedtuple
from pathlib import Path

import pytest

from playground.errors import InvalidInput
from playground.finetune import gguf_export
from playground.finetune.gguf_converter import ExportStopped, run_stoppable
from playground.finetune.gguf_export import ExportSteps
from playground.finetune.jobfiles import HOLDOUT_FILE, write_examples
from playground.finetune.modelfile import parse_modelfile
from playground.finetune.tuned_models import gguf_key
from playground.models.prompt_formats import ALPACA, Example
from playground.models.types import BackendKind
from playground.progress import Progress
from playground.services import Services
from playground.statuses import FinetuneStatus

HOLDOUT = [Example("What is snow?", "frozen water"), Example("What is the moon?", "a satellite")]


def same_answer(spec, messages) -> str:
    """Every model answers alike, so the tuned model and its export agree on every prompt."""
    return "ZORP " + messages[-1]["content"]


def finished_job(services: Services, tmp_path: Path, name: str = "zorp") -> int:
    job_dir, adapter = tmp_path / f"job-{name}", tmp_path / f"adapter-{name}"
    adapter.mkdir(parents=True)
    job_dir.mkdir()
    write_examples(job_dir / HOLDOUT_FILE, HOLDOUT)
    with services.uow_factory() as uow:
        job = uow.finetune_jobs.add(
            name=name, base_model="embedded/x", base_name="Base", base_path=str(tmp_path / "base.gguf"),
            base_folder=str(tmp_path / "base"), prompt_format=ALPACA, status=FinetuneStatus.DONE,
            adapter_path=str(adapter), job_dir=str(job_dir), total_params=135_000_000,
        )  # fmt: skip
        return job.id


def fake_merge(services: Services, tmp_path: Path):
    def merge(job_id: int) -> Path:
        folder = tmp_path / "merged" / str(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text("{}")
        (folder / "model.safetensors").write_bytes(b"\0" * 16)
        with services.uow_factory() as uow:
            uow.finetune_jobs.update(job_id, export_path=str(folder))
        return folder

    return merge


def fake_convert(merged: Path, target: Path, stop: threading.Event, log_path: Path) -> None:
    target.write_bytes(b"GGUF-f16" + b"\0" * 1000)


def fake_quantise(source: Path, target: Path, quant, stop: threading.Event, log_path: Path) -> None:
    target.write_bytes(source.read_bytes()[:500])


@pytest.fixture
def exporting(make_services, tmp_path):
    services = make_services(same_answer)
    services.gguf_exports.merge = fake_merge(services, tmp_path)
    services.gguf_exports.steps = ExportSteps(fake_convert, fake_quantise)
    return services


def test_an_export_is_published_listed_and_offered_as_a_llama_cpp_model(exporting, tmp_path):
    job_id = finished_job(exporting, tmp_path)
    seen: list[Progress] = []
    record = exporting.gguf_exports.export(job_id, "q8_0", seen.append)
    assert record.quant == "Q8_0" and record.size_bytes == 500 and record.gguf_path.is_file()
    assert (record.agree, len(record.answers)) == (2, 2) and record.check_answer.gguf == "ZORP What is snow?"
    assert [p.done for p in seen][-1] == seen[-1].total == 4 + 2 * len(HOLDOUT)
    assert set(record.seconds) == {"merge", "convert", "quantise", "check"}
    assert [r.quant for r in exporting.gguf_exports.exports(job_id)] == ["Q8_0"]
    modelfile = parse_modelfile(record.modelfile_path.read_text())
    assert modelfile["FROM"] == [f"./{record.gguf_file}"] and "### Instruction:" in modelfile["TEMPLATE"][0]
    manifest = json.loads((record.folder / "manifest.json").read_text())
    assert manifest["agree"] == 2 and manifest["template"] == "alpaca" and manifest["ollama_name"] == "zorp:q8_0"

    spec = exporting.registry.get_spec(gguf_key(job_id, "Q8_0"))
    assert spec.name == "Base + zorp (GGUF Q8_0)" and spec.backend == BackendKind.LLAMA_CPP
    assert gguf_key(job_id, "Q8_0") in [key for _, key in exporting.models.choices()]
    assert any("Exported to GGUF Q8_0" in str(e.text) for e in exporting.finetune.job_view(job_id).events)

    again = exporting.gguf_exports.export(job_id, "Q4_K_M")
    assert [r.quant for r in exporting.gguf_exports.exports(job_id)] == ["Q8_0", "Q4_K_M"]
    assert again.answers == record.answers and again.seconds["merge"] < 5  # the merged folder is reused


def test_refusals_bad_type_unfinished_job_and_too_little_disk_keep_the_previous_export(
    exporting, tmp_path, monkeypatch
):
    job_id = finished_job(exporting, tmp_path)
    first = exporting.gguf_exports.export(job_id, "Q8_0")
    with pytest.raises(InvalidInput, match="There is no GGUF type Q3_K_S"):
        exporting.gguf_exports.export(job_id, "Q3_K_S")
    with exporting.uow_factory() as uow:
        uow.finetune_jobs.update(finished_job(exporting, tmp_path, "other"), status=FinetuneStatus.RUNNING)
    with pytest.raises(InvalidInput, match="Only a finished job can be exported"):
        exporting.gguf_exports.export(job_id + 1, "Q8_0")

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(gguf_export.shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(InvalidInput, match="Not enough free disk space to export to GGUF Q8_0: it needs about"):
        exporting.gguf_exports.export(job_id, "Q8_0")
    (kept,) = exporting.gguf_exports.exports(job_id)
    assert kept.gguf_path == first.gguf_path and kept.created_at == first.created_at
    assert exporting.gguf_exports.running(job_id) is False  # the refusal released the lease


def test_a_second_export_of_the_job_is_refused_here_and_from_another_app_process(exporting, tmp_path):
    job_id = finished_job(exporting, tmp_path)
    started, release = threading.Event(), threading.Event()

    def slow_convert(merged, target, stop, log_path):
        started.set()
        release.wait(30)
        fake_convert(merged, target, stop, log_path)

    exporting.gguf_exports.steps = ExportSteps(slow_convert, fake_quantise)
    first = threading.Thread(target=exporting.gguf_exports.export, args=(job_id, "Q8_0"))
    first.start()
    try:
        assert started.wait(10)
        with pytest.raises(InvalidInput, match="An export of zorp is already running"):
            exporting.gguf_exports.export(job_id, "Q4_K_M")
        neighbour = Services.create(exporting.settings)  # a second app process on the same database
        try:
            with pytest.raises(InvalidInput, match="already running"):
                neighbour.gguf_exports.export(job_id, "Q8_0")
            with pytest.raises(InvalidInput, match="being exported to GGUF"):
                neighbour.finetune.delete(job_id)
        finally:
            neighbour.close()
    finally:
        release.set()
        first.join(30)
    assert [r.quant for r in exporting.gguf_exports.exports(job_id)] == ["Q8_0"]


def test_stop_kills_the_child_and_leaves_nothing_listed_and_no_half_file(exporting, tmp_path):
    job_id = finished_job(exporting, tmp_path)
    kept = exporting.gguf_exports.export(job_id, "Q8_0")
    pid_file = tmp_path / "child.pid"

    def hanging_convert(merged, target, stop, log_path):
        script = (
            "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid()));"
            " open(sys.argv[2], 'wb').write(b'GGUF half'); time.sleep(120)"
        )
        run_stoppable([sys.executable, "-c", script, str(pid_file), str(target)], log_path, stop)

    exporting.gguf_exports.steps = ExportSteps(hanging_convert, fake_quantise)
    stop = threading.Event()
    threading.Timer(1.5, stop.set).start()
    began = time.monotonic()
    with pytest.raises(ExportStopped, match="Export stopped. Nothing of it was kept"):
        exporting.gguf_exports.export(job_id, "Q8_0", stop=stop)
    assert time.monotonic() - began < 20
    pid = int(pid_file.read_text())
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    (listed,) = exporting.gguf_exports.exports(job_id)
    assert listed.created_at == kept.created_at  # the earlier Q8_0 is still the one listed
    job_dir = listed.folder.parent
    assert sorted(p.name for p in job_dir.iterdir() if p.is_dir()) == ["Q8_0"]  # no staging left
    assert not [p for p in job_dir.rglob("*.gguf") if p.read_bytes().startswith(b"GGUF half")]


def test_a_stop_requested_through_the_lease_reaches_the_export(exporting, tmp_path):
    job_id = finished_job(exporting, tmp_path)
    exporting.finetune.leases.heartbeat_s = 0.1

    def waiting_convert(merged, target, stop, log_path):
        assert exporting.gguf_exports.request_stop(job_id)  # as another browser's Stop would
        deadline = time.monotonic() + 10
        while not stop.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        if stop.is_set():
            raise ExportStopped("stopped")

    exporting.gguf_exports.steps = ExportSteps(waiting_convert, fake_quantise)
    with pytest.raises(ExportStopped):
        exporting.gguf_exports.export(job_id, "f16")
    assert exporting.gguf_exports.exports(job_id) == [] and not exporting.gguf_exports.request_stop(job_id)


def test_deleting_the_job_removes_its_exports_and_their_models(exporting, tmp_path):
    job_id = finished_job(exporting, tmp_path)
    record = exporting.gguf_exports.export(job_id, "f16")
    assert record.size_bytes == 1008  # f16 is the converted file itself
    exporting.finetune.delete(job_id)
    assert not record.folder.parent.exists()
    assert gguf_key(job_id, "f16") not in [s.key for s in exporting.registry.list_specs()]


def test_the_export_event_through_gradio_client(exporting, tmp_path):
    from gradio_client import Client
    from gradio_client.exceptions import ValidationError

    from components.app import build_app, configure_queue
    from tests.e2e.app_process import free_port

    job_id = finished_job(exporting, tmp_path)
    demo = configure_queue(build_app(exporting), exporting.settings)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, show_error=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        status, result, table = client.predict(job_id, "Q8_0", api_name="/ft_export_gguf")  # the token is a State
        assert "Export finished" in status
        assert "#### GGUF Q8_0" in result and "2 of 2" in result and "ollama create zorp:q8_0 -f" in result
        assert table["headers"] == ["Holdout prompt", "Tuned model (transformers)", "GGUF Q8_0"]
        assert table["data"][0] == ["What is snow?", "ZORP What is snow?", "✅ ZORP What is snow?"]
        with pytest.raises(ValidationError, match="There is no GGUF type Q9"):
            client.predict(job_id, "Q9", api_name="/ft_export_gguf")
        _, shown, _ = client.predict(job_id, api_name="/ft_export_view")
        assert "#### GGUF Q8_0" in shown
        assert "No export of this job is running" in client.predict(job_id, api_name="/ft_export_stop")
        # Base vs tuned: the tuned side may be the GGUF export (and callers of before still work).
        note, compared = client.predict(job_id, 1, 16, gguf_key(job_id, "Q8_0"), api_name="/ft_base_vs_tuned")
        assert "Base + zorp (GGUF Q8&#95;0)" in note and compared["data"][0][3] == "ZORP What is snow?"
        note, _ = client.predict(job_id, 1, 16, api_name="/ft_base_vs_tuned")
        assert "Base + zorp" in note and "GGUF" not in note
        with pytest.raises(Exception, match="not one of zorp's"):
            client.predict(job_id, 1, 16, "embedded/smollm2-135m-instruct", api_name="/ft_base_vs_tuned")
    finally:
        demo.close()
    shutil.rmtree(tmp_path / "merged", ignore_errors=True)
