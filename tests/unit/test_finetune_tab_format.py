"""The Fine-tune tab's pure formatting: which preset a job used, the accessible progress bar,
and the advanced settings a preset fills in."""

from dataclasses import replace

from components.finetune_jobs import preset_of, progress_html
from components.finetune_training import KNOBS, config_from, knob_values
from playground.finetune.config import DEFAULT_PRESET, PRESETS


def test_each_preset_is_recognised_and_a_change_makes_it_custom():
    for name, config in PRESETS.items():
        assert preset_of(config.to_dict()) == name
        assert (
            preset_of({**config.to_dict(), "load_in_4bit": False}) == name
        )  # 4-bit follows the device, not the preset
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


def test_base_vs_tuned_snapshots_move_one_progress_bar():
    from components.widgets import with_progress
    from playground.compare.fanout import ColumnState
    from playground.finetune.side_by_side import Comparison, Row
    from playground.statuses import GenerationStatus

    answered, waiting = ColumnState(0, "hi", GenerationStatus.OK), ColumnState(1)
    rows = [Row("p1", "e1", answered, answered), Row("p2", "e2", waiting, waiting)]
    half = Comparison(1, 2, "base", "tuned", "alpaca", rows)
    done = Comparison(1, 2, "base", "tuned", "alpaca", [rows[0], Row("p2", "e2", answered, answered)])
    assert (half.progress.done, half.progress.total, str(half.progress.message)) == (1, 2, "1 of 2 prompts answered")
    assert not half.finished and done.finished and done.progress.fraction == 1.0
    calls = []
    assert list(
        with_progress(
            [half, done], lambda value, desc=None, unit=None: calls.append((value, desc, unit)), unit="prompts"
        )
    ) == [half, done]
    assert calls == [
        ((1, 2), "1 of 2 prompts answered", "prompts")
    ]  # the finished snapshot ends the bar by ending the run
