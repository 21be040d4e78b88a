"""Compare: one prompt, 1-4 columns side by side, streaming together."""
