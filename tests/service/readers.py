"""Handlers run as for a browser that sends a given Accept-Language (the request Gradio sets)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import SimpleNamespace

from gradio.context import LocalContext


@contextlib.contextmanager
def reader(accept_language: str) -> Iterator[None]:
    """Handlers run as for a browser sending ``accept_language``."""
    token = LocalContext.request.set(SimpleNamespace(headers={"accept-language": accept_language}, cookies={}))
    try:
        yield
    finally:
        LocalContext.request.reset(token)
