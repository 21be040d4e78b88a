"""The ZORP fine-tuning job the integration tests share: a 20-row dataset in a style the base model
never uses on its own, so both the loss and the greedy answer must change when training works."""

from __future__ import annotations

from playground.models.prompt_formats import Example

FACTS = [
    ("What colour is the sky?", "blue"),
    ("What do cows drink?", "water"),
    ("What is two plus two?", "four"),
    ("Where do fish live?", "in water"),
    ("What do bees make?", "honey"),
    ("What is ice made of?", "water"),
    ("How many legs has a cat?", "four"),
    ("What do we breathe?", "air"),
    ("What is the sun?", "a star"),
    ("What grows on trees?", "leaves"),
    ("What falls from clouds?", "rain"),
    ("What do birds have?", "wings"),
    ("What is snow?", "frozen water"),
    ("What do hens lay?", "eggs"),
    ("What is grass?", "a plant"),
    ("What is a dog?", "an animal"),
    ("What colour is grass?", "green"),
    ("What is the moon?", "a satellite"),
    ("What is bread made from?", "flour"),
    ("What do plants need?", "light"),
]
# A style the base model never uses on its own, so both the loss and the greedy answer must change.
EXAMPLES = [Example(instruction=q, output=f"ZORP ZORP! The answer is {a}. ZORP!") for q, a in FACTS]
TRAIN, HOLDOUT = EXAMPLES[:17], EXAMPLES[17:]
FAST = dict(max_length=128, learning_rate=3e-3, warmup_ratio=0.0, sample_max_tokens=12, load_in_4bit=False)
