"""The Fine-tune tab in the real app, driven through gradio_client: save a 20-row dataset,
count trainable parameters, refuse bad input in plain words, train a tiny job in the worker,
watch it finish with loss values, find the tuned model in the models list, compare base vs
tuned, and re-attach to the job from a fresh page in headless Chromium."""

from __future__ import annotations

import json
import time

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from tests.e2e.app_process import start_app
from tests.integration.models_fixtures import TEST_CACHE, model_cache

pytestmark = pytest.mark.slow
SMOL = "embedded/smollm2-135m-instruct"
QUICK = "Quick test"
# name, preset, r, alpha, dropout, target, epochs, learning rate, batch, accumulation, max length, eval every, 4-bit
FORM = ["zorp quick", QUICK, 8, 8, 0.05, "all_linear", 1.0, 3e-3, 4, 1, 128, 5, False]
LR = 7  # index of the learning rate in FORM


@pytest.fixture(scope="module")
def app(tmp_path_factory, model_cache):
    home = tmp_path_factory.mktemp("ft-app") / "home"
    (home / "cache").mkdir(parents=True)
    TEST_CACHE.joinpath("converted").mkdir(exist_ok=True)
    (home / "cache" / "converted").symlink_to(TEST_CACHE / "converted")  # reuse the converted SmolLM2
    running = start_app(home)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(app):
    return Client(app.url, verbose=False)


@pytest.fixture(scope="module")
def dataset_id(client, tmp_path_factory):
    path = tmp_path_factory.mktemp("ft-data") / "zorp.csv"
    facts = [f"fact number {i}" for i in range(20)]
    path.write_text("instruction,output\n" + "".join(f"Tell me {f}.,ZORP ZORP! {f}. ZORP!\n" for f in facts))
    *_, saved = client.predict(
        handle_file(str(path)), "zorp", "alpaca", "", "", "", "", "", SMOL, "alpaca", 128, api_name="/ft_data_check"
    )
    assert saved["value"]
    return saved["value"]


@pytest.fixture(scope="module")
def trained(client, dataset_id):
    started = time.monotonic()
    outputs = client.predict(dataset_id, SMOL, "alpaca", *FORM, api_name="/ft_start")
    job_id = outputs[0]["value"]  # the job picker, updated to the new job
    assert job_id, outputs
    deadline = time.monotonic() + 600  # about 2 minutes alone on 2 cores; shared machines are slower
    while time.monotonic() < deadline:
        view = client.predict(job_id, api_name="/ft_job_view")
        status = view[1]
        if "— done" in status or "— failed" in status:
            break
        time.sleep(2)
    return job_id, view, time.monotonic() - started


def test_device_note_and_trainable_parameters(client, dataset_id):
    note, four_bit = client.predict(api_name="/ft_device")
    assert "No GPU found" in note and "4-bit" in note and four_bit is False
    report = client.predict(dataset_id, SMOL, "alpaca", *FORM, api_name="/ft_train_check")
    assert "trainable parameters of" in report and "as PEFT reports it" in report
    assert "ties its output head to its input embeddings" not in report  # the form asks for all linear only
    head_form = [*FORM[:5], "all_linear_head", *FORM[6:]]
    head_report = client.predict(dataset_id, SMOL, "alpaca", *head_form, api_name="/ft_train_check")
    assert "ties its output head to its input embeddings, so the head is left out" in head_report
    assert "steps over 1 epoch" in report


def test_preset_fills_the_advanced_settings(client, dataset_id):
    name, r, alpha, dropout, target, epochs, lr, batch, accum, max_length, eval_every, four_bit, note = client.predict(
        dataset_id, "Teach facts", api_name="/ft_train_preset"
    )
    assert name == "zorp – Teach facts"
    assert (r, alpha, target, epochs, lr, max_length, four_bit) == (8, 8, "all_linear_head", 5, 3e-4, 256, False)
    assert "fits in max length 256" in note  # the dataset's rows are short: the preset's length keeps them whole


def test_bad_inputs_get_plain_messages(client, dataset_id):
    bad = list(FORM)
    bad[LR] = 0.5
    with pytest.raises(AppError, match="The learning rate must be between"):
        client.predict(dataset_id, SMOL, "alpaca", *bad, api_name="/ft_start")
    with pytest.raises(AppError, match="Pick a saved dataset"):
        client.predict(None, SMOL, "alpaca", *FORM, api_name="/ft_start")
    with pytest.raises(AppError, match="Pick a finished job first"):
        client.predict(None, 1, 16, api_name="/ft_base_vs_tuned")


def test_training_finishes_with_losses_and_registers_the_tuned_model(client, trained):
    job_id, view, seconds = trained
    progress, status, chart, samples, events = view[:5]
    assert "— done" in status, (status, events)
    print(f"\ntiny job trained in {seconds:.0f} s")
    assert "aria-valuenow='100'" in progress and "is now in every model picker" in status
    traces = json.loads(chart["plot"])["data"]
    assert traces[0]["name"] == "training loss" and len(traces[0]["y"]) >= 4 and all(y > 0 for y in traces[0]["y"])
    assert traces[1]["name"] == "holdout loss" and traces[1]["y"]
    assert len(samples["data"]) >= 1 and samples["data"][0][2]
    table, _picker = client.predict(None, api_name="/models_list")
    assert any(row[0] == "SmolLM2 135M Instruct + zorp quick" for row in table["data"])
    picker, *_, jobs_table = client.predict(api_name="/ft_attach")
    assert picker["value"] == job_id  # a fresh page attaches to the newest job
    row = jobs_table["data"][0]
    assert row[1] == "zorp quick" and row[4] == "Custom" and row[5] == "r=8, alpha=8, all linear" and row[11] == "done"
    assert "lr 0.003" in row[6] and float(row[8]) > 0 and float(row[9]) > 0  # final train and holdout losses


def test_base_vs_tuned_side_by_side(client, trained):
    job_id, _, _ = trained
    note, table = client.predict(job_id, 1, 16, api_name="/ft_base_vs_tuned")
    assert "same alpaca prompt" in note and "done" in note
    prompt, expected, base, tuned = table["data"][0]
    assert prompt.startswith("Tell me fact number") and expected.startswith("ZORP")
    assert base and tuned and not base.startswith("⚠️") and not tuned.startswith("⚠️")


@pytest.mark.browser
def test_a_reloaded_page_reattaches_to_the_job(app, trained):
    from tests.e2e.test_browser import SCREENSHOTS, open_page

    with open_page(app.url) as page:
        page.get_by_role("tab", name="Fine-tune").click()
        page.reload(wait_until="load")
        page.get_by_role("tab", name="Fine-tune").click()
        page.wait_for_function(
            "() => (document.querySelector('#ft-job-status') || {}).innerText?.includes('zorp quick')", timeout=30_000
        )
        assert "— done" in page.locator("#ft-job-status").inner_text()
        assert page.locator("#ft-job-progress [role=progressbar]").get_attribute("aria-valuenow") == "100"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "finetune-tab.png"), full_page=True)
