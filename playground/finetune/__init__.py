"""Fine-tuning: datasets, LoRA/QLoRA jobs run by an out-of-process worker, tuned models."""
