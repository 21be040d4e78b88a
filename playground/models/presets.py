"""Connection presets: the URL pattern, key variable and listing style of well-known servers.

Data only. Each preset's ``help`` is a catalogue key explaining where the key comes from; the
UI shows it when the preset is picked. ``key_env`` is a suggestion the user may change (the
vendors' own names are bound to their APIs in ``secrets.VENDOR_ORIGINS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

KIND_OPENAI = "openai"
KIND_OLLAMA = "ollama"
KIND_AZURE = "azure"
CUSTOM = "custom"


@dataclass(frozen=True)
class Preset:
    id: str
    label: str  # a product name: the same in every language
    base_url: str
    kind: str = KIND_OPENAI
    key_env: str = ""
    hosted: bool = True
    api_version: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def help(self) -> str:
        return f"connections.preset_help_{self.id}"


PRESETS: tuple[Preset, ...] = (
    Preset("openai", "OpenAI", "https://api.openai.com/v1", key_env="OPENAI_API_KEY"),
    Preset(
        "azure",
        "Azure OpenAI",
        "https://RESOURCE.openai.azure.com",
        kind=KIND_AZURE,
        key_env="AZURE_OPENAI_API_KEY",
        api_version="2024-10-21",
    ),
    Preset(
        "gemini",
        "Google Gemini (OpenAI-compatible)",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        key_env="GEMINI_API_KEY",
    ),
    Preset(
        "anthropic",
        "Anthropic (OpenAI-compatible)",
        "https://api.anthropic.com/v1",
        key_env="ANTHROPIC_API_KEY",
        # Anthropic's own model list reads these; its chat endpoint takes the Bearer key.
        headers={"x-api-key": "${ANTHROPIC_API_KEY}", "anthropic-version": "2023-06-01"},
    ),
    Preset("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", key_env="OPENROUTER_API_KEY"),
    Preset("groq", "Groq", "https://api.groq.com/openai/v1", key_env="GROQ_API_KEY"),
    Preset("together", "Together AI", "https://api.together.xyz/v1", key_env="TOGETHER_API_KEY"),
    Preset("mistral", "Mistral AI", "https://api.mistral.ai/v1", key_env="MISTRAL_API_KEY"),
    Preset("ollama", "Ollama", "http://localhost:11434/v1", kind=KIND_OLLAMA, hosted=False),
    Preset("lmstudio", "LM Studio", "http://localhost:1234/v1", hosted=False),
    Preset("vllm", "vLLM", "http://localhost:8000/v1", hosted=False),
    Preset("llamacpp", "llama.cpp server", "http://localhost:8080/v1", hosted=False),
    Preset("tgi", "Text Generation Inference (TGI)", "http://localhost:8080/v1", hosted=False),
    Preset(CUSTOM, "Other OpenAI-compatible server", "", hosted=False),
)
BY_ID = {preset.id: preset for preset in PRESETS}


def preset(preset_id: str | None) -> Preset:
    """The preset ``preset_id``; the custom one for an unknown or empty id."""
    return BY_ID.get(preset_id or CUSTOM, BY_ID[CUSTOM])
