"""Loading a base model for LoRA/QLoRA, counting what PEFT trains, and spotting out-of-memory errors.

Heavy libraries (torch, transformers, peft, bitsandbytes) are imported inside functions:
the app imports this module without paying for them.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.errors import InvalidInput
from playground.finetune.config import ALL_LINEAR_HEAD, ATTENTION, ATTENTION_MODULES, TrainingConfig
from playground.i18n import Text, t
from playground.models.validation import validate_hf_folder

CPU_NOTE = t("finetune.device_cpu")  # "No GPU found: training LoRA on a full-precision base on the CPU"


@dataclass(frozen=True)
class Placement:
    device: str  # "cuda" | "cpu"
    four_bit: bool
    note: Text  # one line for the job's device field (stored as its key and values)


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def placement(config: TrainingConfig) -> Placement:
    cuda = has_cuda()
    four_bit = config.effective_4bit(cuda)
    if cuda:
        import torch

        name = torch.cuda.get_device_name(0)
        if four_bit:
            return Placement("cuda", True, t("finetune.device_gpu_4bit", gpu=name))
        return Placement("cuda", False, t("finetune.device_gpu", gpu=name))
    if four_bit:
        return Placement("cpu", True, t("finetune.device_cpu_4bit"))
    return Placement("cpu", False, CPU_NOTE)


def check_causal_lm_folder(raw: str | Path) -> Path:
    """A Hugging Face folder whose config names a model AutoModelForCausalLM can load."""
    folder = validate_hf_folder(str(raw))
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as err:
        raise InvalidInput(t("finetune.config_unreadable", folder=str(folder), error=str(err))) from err
    known = set(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values())
    architectures = config.get("architectures") or []
    fits = (
        any(a in known for a in architectures)
        if architectures
        else config.get("model_type") in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
    )
    if not fits:
        kind = ", ".join(architectures) or config.get("model_type") or "unknown"
        raise InvalidInput(t("finetune.not_causal_lm", name=folder.name, kind=kind))
    return folder


def head_is_tied(model: Any) -> bool:
    """Whether the output head shares its weight with the input embeddings (SmolLM2, Gemma)."""
    head, embeddings = model.get_output_embeddings(), model.get_input_embeddings()
    if head is None or embeddings is None:
        return False
    if getattr(head, "weight", None) is getattr(embeddings, "weight", None):
        return True
    text_config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    return bool(getattr(text_config, "tie_word_embeddings", False))


def adapts_output_head(model: Any, config: TrainingConfig) -> bool:
    """Whether ``config`` puts a LoRA on ``model``'s output head: asked for, and the head is its own
    linear layer. A tied head is the input embedding table: a LoRA there would change the
    embeddings too when merged (or untie them, adding a vocabulary-sized matrix to every export)."""
    import torch

    head = model.get_output_embeddings()
    return config.target == ALL_LINEAR_HEAD and isinstance(head, torch.nn.Linear) and not head_is_tied(model)


def _linear_layer_names(model: Any) -> list[str]:
    """The last name part of every linear layer but the output head: what PEFT's "all-linear" takes."""
    import torch
    from transformers.pytorch_utils import Conv1D

    head = model.get_output_embeddings()
    names = {
        name.rsplit(".", 1)[-1]
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear | Conv1D) and module is not head and name
    }
    return sorted(names)


def lora_config(config: TrainingConfig, model: Any = None) -> Any:
    """PEFT's LoraConfig for ``config``; ``model`` (the base) decides whether the output head is adapted."""
    from peft import LoraConfig

    # PEFT's "all-linear" covers every linear layer but the output head. The study also adapted
    # the head (ALL_LINEAR_HEAD); that is done where the head is not tied to the embeddings.
    targets: Any = list(ATTENTION_MODULES) if config.target == ATTENTION else "all-linear"
    if model is not None and adapts_output_head(model, config):
        head_name = next(name for name, module in model.named_modules() if module is model.get_output_embeddings())
        targets = [*_linear_layer_names(model), head_name.rsplit(".", 1)[-1]]
    return LoraConfig(
        r=config.r,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=targets,
        bias="none",
        task_type="CAUSAL_LM",
    )


def output_head_note(folder: Path, config: TrainingConfig) -> Text | str:
    """One sentence on what "all linear + output head" does with this base's head ("" otherwise)."""
    if config.target != ALL_LINEAR_HEAD:
        return ""
    from transformers import AutoConfig

    try:
        model_config = AutoConfig.from_pretrained(str(folder))
    except (OSError, ValueError):  # a GGUF base not converted yet: the count says what it can
        return ""
    text_config = model_config.get_text_config() if hasattr(model_config, "get_text_config") else model_config
    if getattr(text_config, "tie_word_embeddings", False):
        return t("finetune.head_tied_left_out")
    return t("finetune.head_adapted")


def count_trainable(folder: Path, config: TrainingConfig) -> tuple[int, int]:
    """(trainable, total) parameters as PEFT reports them, built on the meta device (no weights read)."""
    from accelerate import init_empty_weights
    from peft import get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    model_config = AutoConfig.from_pretrained(str(folder))
    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(model_config)
    peft_model = get_peft_model(model, lora_config(config, model))
    trainable, total = peft_model.get_nb_trainable_parameters()
    return int(trainable), int(total)


def load_for_training(folder: Path, config: TrainingConfig, where: Placement) -> tuple[Any, Any]:
    """(PEFT model ready to train, tokenizer)."""
    import torch
    from peft import get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    kwargs: dict[str, Any] = {}
    if where.four_bit:
        from transformers import BitsAndBytesConfig

        compute = torch.bfloat16 if where.device == "cuda" else torch.float32
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
        )
        kwargs["device_map"] = {"": 0} if where.device == "cuda" else {"": "cpu"}
    else:
        kwargs["dtype"] = torch.bfloat16 if where.device == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(str(folder), **kwargs)
    if where.four_bit:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=where.device == "cuda")
    elif where.device == "cuda":
        model = model.to("cuda")  # type: ignore[arg-type]  # transformers: @wraps(Module.to) hides the bound self
    model.config.use_cache = False
    return get_peft_model(model, lora_config(config, model)), tokenizer


def is_out_of_memory(err: BaseException) -> bool:
    if isinstance(err, MemoryError):
        return True
    if isinstance(err, RuntimeError) and "out of memory" in str(err).lower():
        return True
    torch = sys.modules.get("torch")  # an error from torch means torch is already imported
    return torch is not None and isinstance(err, torch.cuda.OutOfMemoryError)


def free_accelerator_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def reset_peak_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def peak_memory_bytes(device: str) -> int:
    """GPU: the most memory PyTorch allocated. CPU: the process's peak resident memory."""
    if device == "cuda":
        import torch

        return int(torch.cuda.max_memory_allocated())
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux reports KiB


def set_threads(n_threads: int) -> None:
    import torch

    if n_threads:
        torch.set_num_threads(n_threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
