"""Models: specs, backends (llama.cpp, transformers, OpenAI-compatible HTTP, a scripted fake) and the registry."""
