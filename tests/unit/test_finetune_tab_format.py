"""The Fine-tune tab's pure formatting: which preset a job used, the accessible progress bar,
and the advanced settings a preset fills in."""

from dataclasses import replace

from components.finetune_jobs import preset_of, progress_html
from components.finetune_training import KNOBS, config_from, knob_values
from playground.finetune.config import DEFAULT_PRESET, PRESETS


def test_each_preset_is_recognised_and_a_change_makes_it_custom():
    for name, config in PRESETS.items():
        assert preset_of(config.to_dict()) == name
        assert preset_of({**config.to_dict(), "load_in_4bit": False}) == name  # 4-bit follows the device, not the preset
    assert preset_of(replace(PRESETS["Quick test"], r=16).to_dict()) == "Custom"


def test_knob_values_round_trip_into_the_same_config(monkeypatch):
    monkeypatch.setattr("components.finetune_training.has_gpu", lambda: False)
    values = knob_values("Teach facts")
    assert len(values) == len(KNOBS) + 1 and values[-1] is False  # no GPU: full-precision base by default
    config = config_from("Teach facts", values)
    assert config == replace(PRESETS["Teach facts"], load_in_4bit=False)
    forced = config_from(DEFAULT_PRESET, values[:-1] + [True])
    assert forced.load_in_4bit and forced.force_4bit_on_cpu  # ticking 4-bit on a CPU is honoured


class _View:
    name, step, total_steps, progress = "job <1>", 3, 12, 0.25


def test_progress_bar_is_accessible_and_escaped():
    html = progress_html(_View())
    assert "role='progressbar'" in html and "aria-valuenow='25'" in html and "width:25%" in html
    assert "job &lt;1&gt;: step 3 of 12 (25%)" in html and "<1>" not in html
    assert progress_html(None) == ""
