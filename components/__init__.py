"""Gradio UI: one module per tab plus shared widgets. Talks only to playground.services."""
