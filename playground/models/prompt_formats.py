"""Prompt formats a fine-tuned model is trained in and answers in.

A tuned model only answers well in the format it was trained on, so the fine-tune worker
renders training text with ``render_training_pair`` and the transformers backend renders a
chat for a tuned model with ``render_prompt`` on ``example_from_messages`` — the same code.
It lives with the models (not in ``playground.finetune``) because inference needs it and
models must not depend on fine-tuning.

Every dataset row, whatever its source shape (Alpaca, prompt/completion, chat messages),
becomes one ``Example``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from playground.errors import InvalidInput

ALPACA = "alpaca"
CHAT_TEMPLATE = "chat_template"
PROMPT_FORMATS: dict[str, str] = {
    ALPACA: "Alpaca (### Instruction / ### Response), as in the LoRA study",
    CHAT_TEMPLATE: "The base model's own chat template",
}

ALPACA_HEADER_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
)
ALPACA_HEADER = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
)
# A tuned model that keeps going after its answer starts a new block with one of these.
ALPACA_STOPS: tuple[str, ...] = ("### Instruction:", "\n### Input:", "\n### Response:")


@dataclass(frozen=True)
class Example:
    """One training example. ``history`` holds earlier (user, assistant) turns of a chat row."""

    instruction: str
    output: str
    input: str = ""
    system: str = ""
    history: tuple[tuple[str, str], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"instruction": self.instruction, "input": self.input, "output": self.output}
        if self.system:
            data["system"] = self.system
        if self.history:
            data["history"] = [list(turn) for turn in self.history]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Example:
        return cls(
            instruction=str(data.get("instruction", "")),
            output=str(data.get("output", "")),
            input=str(data.get("input", "") or ""),
            system=str(data.get("system", "") or ""),
            history=tuple((str(u), str(a)) for u, a in data.get("history", []) or []),
        )


def user_text(example: Example) -> str:
    """The last user turn as one text: the instruction, then the input if there is one."""
    return example.instruction + (f"\n\n{example.input}" if example.input else "")


def prompt_messages(example: Example) -> list[dict[str, str]]:
    """The conversation up to (not including) the answer, as chat messages."""
    messages: list[dict[str, str]] = []
    if example.system:
        messages.append({"role": "system", "content": example.system})
    for user, assistant in example.history:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": assistant})
    messages.append({"role": "user", "content": user_text(example)})
    return messages


def example_from_messages(messages: Sequence[Mapping[str, str]]) -> Example:
    """A chat (ending with a user turn) as an Example without an answer: how a tuned model is prompted."""
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    turns = [m for m in messages if m["role"] != "system"]
    if not turns or turns[-1]["role"] != "user":
        raise InvalidInput("The conversation must end with a user message.")
    history: list[tuple[str, str]] = []
    pending_user: str | None = None
    for turn in turns[:-1]:
        if turn["role"] == "user":
            if pending_user is not None:
                history.append((pending_user, ""))
            pending_user = turn["content"]
        else:
            history.append((pending_user or "", turn["content"]))
            pending_user = None
    if pending_user is not None:
        history.append((pending_user, ""))
    return Example(instruction=turns[-1]["content"], output="", system=system, history=tuple(history))


def _alpaca_block(instruction: str, input_text: str) -> str:
    block = f"### Instruction:\n{instruction}\n\n"
    if input_text:
        block += f"### Input:\n{input_text}\n\n"
    return block + "### Response:\n"


def _alpaca_prompt(example: Example) -> str:
    header = ALPACA_HEADER_WITH_INPUT if example.input else ALPACA_HEADER
    if example.system:
        header = example.system.strip() + "\n\n" + header
    earlier = "".join(_alpaca_block(user, "") + assistant + "\n\n" for user, assistant in example.history)
    return header + earlier + _alpaca_block(example.instruction, example.input)


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def check_format(prompt_format: str, tokenizer: Any = None) -> str:
    """The format itself, or a plain-language refusal (an unknown name, or a base model without a template)."""
    if prompt_format not in PROMPT_FORMATS:
        raise InvalidInput(f"Unknown prompt format {prompt_format!r}. Choose one of: {', '.join(PROMPT_FORMATS)}.")
    if prompt_format == CHAT_TEMPLATE and tokenizer is not None and not has_chat_template(tokenizer):
        raise InvalidInput(
            "This base model has no chat template (it is a pretrained base model). Use the Alpaca format instead."
        )
    return prompt_format


def render_prompt(example: Example, prompt_format: str, tokenizer: Any = None) -> str:
    """The text the model sees before its answer begins."""
    check_format(prompt_format, tokenizer)
    if prompt_format == ALPACA:
        return _alpaca_prompt(example)
    if tokenizer is None:
        raise ValueError("The chat-template format needs the base model's tokenizer.")
    return tokenizer.apply_chat_template(prompt_messages(example), add_generation_prompt=True, tokenize=False)


def render_training_pair(example: Example, prompt_format: str, tokenizer: Any) -> tuple[str, str]:
    """(prompt, completion) text; the loss is taken on the completion only, which ends the turn.

    For the chat template the completion is whatever the template adds after the prompt
    (the answer plus its end-of-turn marker), so training matches what inference renders.
    """
    prompt = render_prompt(example, prompt_format, tokenizer)
    eos = getattr(tokenizer, "eos_token", None) or ""
    if prompt_format == ALPACA:
        return prompt, example.output + eos
    full = tokenizer.apply_chat_template(
        prompt_messages(example) + [{"role": "assistant", "content": example.output}], tokenize=False
    )
    if full.startswith(prompt):
        return prompt, full[len(prompt) :]
    return prompt, example.output + eos


def encode_text(tokenizer: Any, text: str) -> list[int]:
    """Token ids of a rendered prompt, with the tokenizer's BOS unless the text already has it
    (chat templates write their own); used for training and answering alike."""
    bos = getattr(tokenizer, "bos_token", None)
    add_special = not (bos and text.startswith(bos))
    return list(tokenizer(text, add_special_tokens=add_special)["input_ids"])


def format_stops(prompt_format: str) -> tuple[str, ...]:
    """Stop sequences a tuned model needs in this format (the chat template ends turns itself)."""
    return ALPACA_STOPS if prompt_format == ALPACA else ()
