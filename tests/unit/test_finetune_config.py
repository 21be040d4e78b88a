"""Training settings, presets, batching order and the out-of-memory fallback (no model, no I/O)."""

from __future__ import annotations

import random

import pytest

from playground.errors import InvalidInput
from playground.finetune.batching import (
    OPENING_TOKENS,
    Row,
    epoch_order,
    micro_batches,
    openings,
    padding_share,
    step_examples,
)
from playground.finetune.charts_training import loss_chart
from playground.finetune.config import (
    ALL_LINEAR_HEAD,
    ATTENTION,
    DEFAULT_PRESET,
    PRESETS,
    TrainingConfig,
    config_from_form,
    eval_interval,
    halve_batch,
    total_steps,
    validate,
)
from playground.finetune.job_view import progress_of
from playground.finetune.trainer import cut_at_stops
from playground.finetune.tuned_models import finetune_key, job_id_of, parse_key, tuned_model_name


def test_the_default_is_the_lora_studys_winner():
    default = PRESETS[DEFAULT_PRESET]
    # all linear layers + the output head (left out where it is tied: tests/integration/test_lora_study_counts.py)
    assert (default.r, default.alpha, default.dropout, default.target) == (8, 8, 0.05, ALL_LINEAR_HEAD)
    assert default.max_length == 256 and default.epochs == 3 and default.load_in_4bit
    assert {"Quick test", "Teach a style", "Teach facts"} <= set(PRESETS)
    assert all(p.r == 8 and p.target == ALL_LINEAR_HEAD for p in PRESETS.values())  # past r=8 adds nothing
    assert PRESETS["Teach facts"].epochs > PRESETS["Teach a style"].epochs > PRESETS["Quick test"].epochs


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"learning_rate": 0.5}, "The learning rate must be between 1e-06 and 0.01"),
        ({"learning_rate": 1e-7}, "The learning rate must be between"),
        ({"r": 0}, "The LoRA rank r must be between 1 and 256"),
        ({"r": 512}, "The LoRA rank r must be between 1 and 256"),
        ({"r": 4.5}, "must be a whole number"),
        ({"dropout": 0.9}, "LoRA dropout must be between 0 and 0.5"),
        ({"epochs": 0}, "The number of epochs must be between"),
        ({"batch_size": 0}, "The batch size must be between 1 and 256"),
        ({"max_length": "long"}, "The maximum length must be a number"),
        ({"learning_rate": float("nan")}, "must be a finite number"),
        ({"target": "everything"}, "Unknown target modules"),
    ],
)
def test_out_of_range_settings_are_refused_in_plain_words(changes, message):
    with pytest.raises(InvalidInput, match=message):
        validate(TrainingConfig(**changes))


def test_form_values_are_normalised_and_unknown_fields_refused():
    config = config_from_form("Quick test", {"r": "16", "learning_rate": "0.0005", "target": ATTENTION})
    assert (config.r, config.learning_rate, config.target, config.epochs) == (16, 0.0005, ATTENTION, 1.0)
    assert config.effective_batch == config.batch_size * config.grad_accum
    assert TrainingConfig.from_dict(config.to_dict() | {"ignored": 1}) == config
    with pytest.raises(InvalidInput, match="Unknown training settings: rank"):
        config_from_form(DEFAULT_PRESET, {"rank": 8})
    with pytest.raises(InvalidInput, match="Unknown preset"):
        config_from_form("Teach poetry")


def test_four_bit_needs_a_gpu_unless_forced():
    assert TrainingConfig().effective_4bit(has_cuda=True)
    assert not TrainingConfig().effective_4bit(has_cuda=False)
    assert TrainingConfig(force_4bit_on_cpu=True).effective_4bit(has_cuda=False)
    assert not TrainingConfig(load_in_4bit=False).effective_4bit(has_cuda=True)


def test_step_counts_and_evaluation_interval():
    assert total_steps(20, TrainingConfig(batch_size=4, epochs=3)) == 15
    assert total_steps(21, TrainingConfig(batch_size=2, grad_accum=2, epochs=1)) == 6
    assert total_steps(10, TrainingConfig(batch_size=4, epochs=0.5)) == 2
    assert eval_interval(TrainingConfig(), 200) == 20 and eval_interval(TrainingConfig(eval_every=7), 200) == 7
    assert eval_interval(TrainingConfig(), 3) == 1


def test_out_of_memory_halves_the_micro_batch_and_keeps_the_effective_batch():
    assert halve_batch(8, 8) == (4, 2)
    assert halve_batch(4, 8) == (2, 4)
    assert halve_batch(3, 6) == (1, 6)
    assert halve_batch(1, 4) is None


def test_epoch_order_is_a_deterministic_permutation_grouped_by_length():
    rng = random.Random(1)
    lengths = [rng.randint(10, 250) for _ in range(200)]
    order = epoch_order(lengths, 8, seed=0, epoch=0)
    assert sorted(order) == list(range(200))
    assert order == epoch_order(lengths, 8, seed=0, epoch=0)
    assert order != epoch_order(lengths, 8, seed=0, epoch=1)
    rows = [Row(tuple(range(n)), 1) for n in lengths]
    grouped = [micro_batches(step_examples(order, s, 8), lengths, 4) for s in range(25)]
    shuffled = list(range(200))
    random.Random(2).shuffle(shuffled)
    plain = [[shuffled[i : i + 4]] for i in range(0, 200, 4)]
    grouped_share = padding_share(rows, [b for step in grouped for b in step])
    plain_share = padding_share(rows, [b for step in plain for b in step])
    assert grouped_share < plain_share / 3  # length grouping cuts most of the padding


def _opening_rows():
    """40 rows of two headers (ten tokens each, differing from the fifth), and 8 rows that
    open with no header, each differently, in a shuffled order."""
    rng = random.Random(4)
    with_input, without = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10), (1, 2, 3, 4, 55, 66, 77, 88, 99, 100)
    rows = [
        Row(h + tuple(rng.randint(200, 900) for _ in range(rng.randint(5, 60))), 13) for h in [with_input, without] * 20
    ]
    rows += [Row(tuple(rng.randint(200, 900) for _ in range(30)), 12) for _ in range(8)]
    rng.shuffle(rows)
    return rows, with_input, without


def test_a_row_s_opening_is_the_longest_start_enough_rows_share():
    rows, with_input, without = _opening_rows()
    found = openings(rows, at_least=4)
    for row, opening in zip(rows, found):
        if row.input_ids[:10] in (with_input, without):
            # the header and what follows it while 4 rows or more still agree (random tokens: rarely)
            assert opening[:10] == row.input_ids[:10] and len(opening) >= 10
        else:
            assert opening == ()  # no 8-token start that 4 rows share: grouped by length alone
    assert all(len(o) <= OPENING_TOKENS for o in found)
    assert openings([Row((1,) * 40, 5)] * 6, at_least=4) == [()] * 6  # the answer starts too soon to share 8


def test_steps_group_rows_that_open_alike_and_keep_every_example():
    rows, with_input, without = _opening_rows()
    lengths = [r.length for r in rows]
    found = openings(rows, at_least=4)
    order = epoch_order(lengths, 4, seed=0, epoch=0, opening=found)
    assert sorted(order) == list(range(len(rows))) and order == epoch_order(lengths, 4, 0, 0, found)

    def mixed_steps(order):
        steps = [step_examples(order, s, 4) for s in range(len(rows) // 4)]
        return sum(len({rows[i].input_ids[:10] for i in step} & {with_input, without}) > 1 for step in steps)

    assert mixed_steps(order) <= 2  # at most where a group of 32 rows changes header
    assert mixed_steps(epoch_order(lengths, 4, seed=0, epoch=0)) > 2  # by length alone they mix
    assert epoch_order(lengths, 4, 0, 0, [()] * len(rows)) == epoch_order(lengths, 4, 0, 0)


def test_a_steps_examples_are_the_same_whatever_the_micro_batch():
    lengths = [5, 50, 7, 40, 9, 30, 11, 20]
    order = epoch_order(lengths, 4, seed=3, epoch=0)
    step = step_examples(order, 1, 4)
    assert sorted(i for b in micro_batches(step, lengths, 4) for i in b) == sorted(step)
    halves = micro_batches(step, lengths, 2)
    assert sorted(i for b in halves for i in b) == sorted(step) and len(halves) == 2
    assert lengths[halves[0][0]] >= lengths[halves[1][0]]  # longest first


def test_samples_stop_at_the_next_alpaca_block():
    assert cut_at_stops("Paris.\n\n### Instruction:\nMore", "alpaca") == "Paris."
    assert cut_at_stops(" Paris. ", "chat_template") == "Paris."


def test_tuned_model_keys_and_names():
    assert finetune_key(7) == "finetune/7" and job_id_of("finetune/7") == 7
    assert job_id_of("finetune/x") is None and job_id_of("entry/7") is None
    assert parse_key("finetune/7/base") == (7, True) and parse_key("finetune/7") == (7, False)
    assert job_id_of("finetune/7/base") is None and parse_key("finetune/x/base") is None
    assert tuned_model_name("SmolLM2 135M Instruct", "support") == "SmolLM2 135M Instruct + support"


def test_progress_fraction():
    assert (
        progress_of(5, 20, "running") == 0.25
        and progress_of(3, 20, "done") == 1.0
        and progress_of(0, 0, "created") == 0.0
    )


def test_loss_chart_draws_both_curves_on_one_axis():
    fig = loss_chart([1, 2, 3], [2.0, 1.5, 1.2], [2, 3], [1.9, 1.6], total_steps=10).to_dict()
    assert [t["name"] for t in fig["data"]] == ["training loss", "holdout loss"]
    assert list(fig["data"][1]["x"]) == [2, 3] and fig["layout"]["xaxis"]["range"] == [0, 10]
    assert loss_chart([], []).to_dict()["layout"]["title"]["text"] == "Loss (no steps yet)"


def test_out_of_memory_at_micro_batch_one_gives_up_with_advice():
    from playground.finetune.worker import OutOfMemoryAtBatchOne, _oom_advice, _step_with_recovery

    class Session:
        effective_batch = 4
        tried: list[int] = []

        def train_step(self, step, micro_batch):
            self.tried.append(micro_batch)
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    class Reporter:
        def __init__(self):
            self.events, self.fields = [], {}

        def event(self, text, level="info"):
            self.events.append((level, text))

        def set(self, **fields):
            self.fields.update(fields)

    reporter, batch = Reporter(), [4, 1]
    with pytest.raises(OutOfMemoryAtBatchOne):
        _step_with_recovery(Session(), reporter, 3, batch)
    assert Session.tried == [4, 2, 1] and batch == [1, 4] and reporter.fields == {"micro_batch": 1, "grad_accum": 4}
    assert [level for level, _ in reporter.events] == ["warning", "warning"]
    assert "same 4 examples per step" in reporter.events[0][1]
    assert "even with one example per pass" in _oom_advice(3, 2) and "Resume continues from step 2" in _oom_advice(3, 2)
