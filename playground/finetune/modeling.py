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
from playground.finetune.config import ALL_LINEAR, ATTENTION_MODULES, TrainingConfig
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


def lora_config(config: TrainingConfig) -> Any:
    from peft import LoraConfig

    # PEFT's "all-linear" covers every linear layer but the output head, which the embedded
    # models tie to the input embeddings (a LoRA there would untie them).
    targets: Any = "all-linear" if config.target == ALL_LINEAR else list(ATTENTION_MODULES)
    return LoraConfig(
        r=config.r,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=targets,
        bias="none",
        task_type="CAUSAL_LM",
    )


def count_trainable(folder: Path, config: TrainingConfig) -> tuple[int, int]:
    """(trainable, total) parameters as PEFT reports them, built on the meta device (no weights read)."""
    from accelerate import init_empty_weights
    from peft import get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    model_config = AutoConfig.from_pretrained(str(folder))
    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(model_config)
    peft_model = get_peft_model(model, lora_config(config))
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
    return get_peft_model(model, lora_config(config)), tokenizer


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
