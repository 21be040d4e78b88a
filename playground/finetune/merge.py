"""Merge a LoRA adapter into its base and save a standalone Hugging Face model folder.

The base is reloaded in full precision (fp32): merging into 4-bit weights would round the
adapter away. A merged model answers without PEFT's small per-token cost, but each tuned
model is then a full copy instead of a few-MB adapter on a shared base.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def merge_adapter(base_folder: Path, adapter_folder: Path, target: Path) -> Path:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(base_folder), dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, str(adapter_folder)).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(str(base_folder))
    staging = target.with_name(target.name + ".writing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    try:
        merged.save_pretrained(str(staging))
        tokenizer.save_pretrained(str(staging))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target
