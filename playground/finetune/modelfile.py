"""The Ollama ``Modelfile`` written next to an exported GGUF, in the prompt format the job trained in.

Ollama's TEMPLATE is a Go template, not the Jinja of a Hugging Face chat template, so it is
built from *pieces*: the text around each system, user and assistant turn, and the text that
opens the answer. For Alpaca the pieces are ``prompt_formats``' own constants. For a chat
template they are read off the template itself, rendered with marker words in place of the
turns; the pieces are then checked to rebuild the template's own rendering of three
conversations exactly. A template they cannot rebuild (one that writes dates, counts turns,
...) gets no TEMPLATE line: Ollama then takes the chat template stored in the GGUF.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from playground.finetune.gguf_manifest import MODELFILE, slug
from playground.models.prompt_formats import ALPACA, ALPACA_HEADER, ALPACA_STOPS, example_from_messages, render_prompt

TEMPLATE_ALPACA = "alpaca"
TEMPLATE_CHAT = "chat_template"
TEMPLATE_FROM_GGUF = "from_gguf"  # no TEMPLATE: Ollama uses the GGUF's own chat template
DEFAULT_TEMPERATURE = 0.7  # what the app's generation settings start at
Render = Callable[[list[dict[str, str]], bool], str]  # (messages, add_generation_prompt) -> text
_S, _U1, _A1, _U2 = "XSYSTEMMARKX", "XUSERONEMARKX", "XASSISTANTONEMARKX", "XUSERTWOMARKX"


@dataclass(frozen=True)
class Pieces:
    head: str  # before the first turn when there is no system message (a default system block)
    sys_pre: str
    sys_post: str
    user_pre: str
    user_post: str
    asst_pre: str
    asst_post: str
    gen: str  # opens the answer

    def render(self, messages: Sequence[dict[str, str]]) -> str:
        """What the Go template below renders for ``messages`` (checked against the real format)."""
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        out = [self.sys_pre + system + self.sys_post if system else self.head]
        for m in messages:
            if m["role"] == "user":
                out.append(self.user_pre + m["content"] + self.user_post)
            elif m["role"] == "assistant":
                out.append(self.asst_pre + m["content"] + self.asst_post)
        return "".join(out) + self.gen

    def go_template(self) -> str:
        # One line of actions and no "{{-": trimming would eat the newlines the pieces end with.
        return (
            f"{{{{ if .System }}}}{self.sys_pre}{{{{ .System }}}}{self.sys_post}{{{{ else }}}}{self.head}{{{{ end }}}}"
            f'{{{{ range .Messages }}}}{{{{ if eq .Role "user" }}}}{self.user_pre}{{{{ .Content }}}}{self.user_post}'
            f'{{{{ else if eq .Role "assistant" }}}}{self.asst_pre}{{{{ .Content }}}}{self.asst_post}'
            f"{{{{ end }}}}{{{{ end }}}}{self.gen}"
        )

    def writable(self) -> bool:
        text = "".join(vars(self).values())
        return '"""' not in text and "{{" not in text and "}}" not in text


ALPACA_PIECES = Pieces(
    head=ALPACA_HEADER,
    sys_pre="",
    sys_post="\n\n" + ALPACA_HEADER,
    user_pre="### Instruction:\n",
    user_post="\n\n### Response:\n",
    asst_pre="",
    asst_post="\n\n",
    gen="",
)

CHECK_CONVERSATIONS: tuple[tuple[dict[str, str], ...], ...] = (
    ({"role": "user", "content": "What is the sun?"},),
    (
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "What is snow?"},
    ),
    (
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "And rain?"},
    ),
)


def _msg(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def _around(text: str, marker: str) -> tuple[str, str] | None:
    parts = text.split(marker)
    return (parts[0], parts[1]) if len(parts) == 2 else None


def _derive(render: Render) -> Pieces | None:
    u1, a1, u2 = _msg("user", _U1), _msg("assistant", _A1), _msg("user", _U2)
    one, one_gen = render([u1], False), render([u1], True)
    two, three = render([u1, a1], False), render([u1, a1, u2], False)
    with_system = render([_msg("system", _S), u1], False)
    split_one, split_sys = _around(one, _U1), _around(with_system, _S)
    if not (split_one and split_sys and one_gen.startswith(one) and two.startswith(one) and three.startswith(two)):
        return None
    before_u1, user_post = split_one
    split_asst, split_u2 = _around(two[len(one) :], _A1), _around(three[len(two) :], _U2)
    if not (split_asst and split_u2 and split_u2[1] == user_post and before_u1.endswith(split_u2[0])):
        return None
    user_pre = split_u2[0]
    sys_pre, after_sys = split_sys
    if not after_sys.endswith(user_pre + _U1 + user_post):
        return None
    sys_post = after_sys[: -len(user_pre + _U1 + user_post)]
    head = before_u1[: len(before_u1) - len(user_pre)]
    return Pieces(head, sys_pre, sys_post, user_pre, user_post, *split_asst, gen=one_gen[len(one) :])


def chat_pieces(render: Render, bos: str = "") -> Pieces | None:
    """The pieces of a chat template (``render`` is the tokenizer's apply_chat_template), or None
    when no pieces rebuild it. ``bos``: the BOS text to leave out where the template writes it,
    for a file whose runtime adds BOS itself (else Ollama would send it twice)."""
    try:
        pieces = _derive(render)
        if pieces is None:
            return None
        for conversation in CHECK_CONVERSATIONS:
            if pieces.render(conversation) != render(list(conversation), True):
                return None
    except Exception:  # noqa: BLE001 - a template that fails on marker words cannot be rebuilt either
        return None
    if bos:
        pieces = replace(pieces, head=pieces.head.removeprefix(bos), sys_pre=pieces.sys_pre.removeprefix(bos))
    return pieces if pieces.writable() else None


def alpaca_matches() -> bool:
    """The Alpaca pieces rebuild prompt_formats' own Alpaca prompts (a unit test holds this)."""
    return all(
        ALPACA_PIECES.render(c) == render_prompt(example_from_messages(list(c)), ALPACA) for c in CHECK_CONVERSATIONS
    )


def ollama_name(job_name: str, quant: str) -> str:
    """e.g. "support-replies:q8_0": Ollama names are lowercase; the tag says the type."""
    return f"{slug(job_name).lower()}:{quant.lower()}"


def ollama_commands(name: str, modelfile: Path) -> tuple[str, str]:
    return (f'ollama create {name} -f "{modelfile}"', f"ollama run {name}")


def _quoted(value: str) -> str | None:
    return f'"{value}"' if value and '"' not in value and "\n" not in value and "\\" not in value else None


def stop_strings(prompt_format: str, pieces: Pieces | None, eos: str) -> list[str]:
    """What the tuned model stops at: the Alpaca markers, or the chat's end-of-turn and next-turn text."""
    found = [s.strip() for s in ALPACA_STOPS] if prompt_format == ALPACA else [eos]
    if prompt_format != ALPACA and pieces is not None:
        found.append(pieces.user_pre.strip().splitlines()[0] if pieces.user_pre.strip() else "")
    return [s for i, s in enumerate(found) if s and s not in found[:i]]


def render_modelfile(
    gguf_file: str, title: str, name: str, prompt_format: str, pieces: Pieces | None, eos: str = ""
) -> str:
    """The Modelfile's text: FROM the GGUF beside it, its TEMPLATE, stop strings and temperature."""
    title = " ".join(title.split())  # the job's own words, kept to one comment line
    create, run = ollama_commands(name, Path(MODELFILE))
    lines = [
        f"# Ollama Modelfile for {title}, exported by Playground.",
        f"# Import it from this folder: {create}",
        f"# Then chat with it: {run}",
        f"FROM ./{gguf_file}",
    ]
    if pieces is not None:
        lines.append(f'TEMPLATE """{pieces.go_template()}"""')
    else:
        lines.append("# No TEMPLATE: Ollama uses the chat template stored in the GGUF.")
    for stop in stop_strings(prompt_format, pieces, eos):
        quoted = _quoted(stop)
        if quoted:
            lines.append(f"PARAMETER stop {quoted}")
    lines.append(f"PARAMETER temperature {DEFAULT_TEMPERATURE}")
    return "\n".join(lines) + "\n"


def gguf_adds_bos(gguf: Path) -> bool:
    """Whether llama.cpp (and so Ollama) puts a BOS token before the prompt for this file."""
    from gguf import GGUFReader

    field = GGUFReader(str(gguf)).fields.get("tokenizer.ggml.add_bos_token")
    return bool(field is not None and field.contents())


def modelfile_for(job: Any, merged: Path, gguf: Path, name: str, quant: str) -> tuple[str, str]:
    """(the Modelfile's text, which TEMPLATE it has) for a job's export; a chat template is read
    from the merged folder's tokenizer (the base's, saved with the merge)."""
    title = f"{job.base_name} + {job.name} (GGUF {quant})"
    if job.prompt_format == ALPACA:
        return render_modelfile(gguf.name, title, name, ALPACA, ALPACA_PIECES), TEMPLATE_ALPACA
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(merged))

    def render(messages: list[dict[str, str]], generation: bool) -> str:
        return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation))

    pieces = chat_pieces(render, (tokenizer.bos_token or "") if gguf_adds_bos(gguf) else "")
    text = render_modelfile(gguf.name, title, name, job.prompt_format, pieces, tokenizer.eos_token or "")
    return text, TEMPLATE_CHAT if pieces is not None else TEMPLATE_FROM_GGUF


def parse_modelfile(text: str) -> dict[str, list[str]]:
    """Instruction -> its arguments, in order; triple-quoted values may span lines. Raises
    ValueError on an unterminated value or an unknown instruction (Ollama's own rules)."""
    known = {"FROM", "TEMPLATE", "PARAMETER", "SYSTEM", "ADAPTER", "LICENSE", "MESSAGE"}
    found: dict[str, list[str]] = {}
    lines = iter(text.splitlines())
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        word, _, rest = stripped.partition(" ")
        if word.upper() not in known:
            raise ValueError(f"unknown instruction {word!r}")
        if rest.startswith('"""'):
            value = rest[3:]
            while not value.endswith('"""') or value == "":
                try:
                    value += "\n" + next(lines)
                except StopIteration:
                    raise ValueError(f"unterminated {word} value") from None
            rest = value[:-3]
        found.setdefault(word.upper(), []).append(rest)
    return found
