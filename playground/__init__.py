"""Playground core: models, services and the logic behind every tab. Never imports gradio."""
