"""Turning failures into plain messages in the UI, for plain and streaming handlers alike."""

from __future__ import annotations

import functools
import html
import inspect
import logging
from collections.abc import Callable
from typing import Any

import gradio as gr

from playground.errors import UserFacingError

log = logging.getLogger("playground.ui")
UNEXPECTED = "Something went wrong on our side ({kind}). It has been logged; please try again or check the log file."


def toast_text(text: str) -> str:
    """A message for a Gradio toast (gr.Error, gr.Warning, gr.Info), which shows its message as
    HTML (sanitised, but ``<img src=...>`` survives): a name, a file name or an endpoint's reply
    quoted in it is shown as text."""
    return html.escape(text, quote=False)


class _ShownError(gr.Error):
    """A gr.Error whose message is already toast text."""


def _as_gr_error(err: Exception, action: str) -> gr.Error:
    if isinstance(err, _ShownError):
        return err
    if isinstance(err, gr.Error):  # raised by a handler, perhaps quoting what was typed
        return _ShownError(toast_text(err.message), err.duration, err.visible, err.title, err.print_exception)
    if isinstance(err, UserFacingError):
        log.info("%s refused: %s", action, err)
        return _ShownError(toast_text(str(err)), print_exception=False)
    log.exception("%s failed unexpectedly", action)
    return gr.Error(UNEXPECTED.format(kind=type(err).__name__), print_exception=False)


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a handler so a UserFacingError shows its sentence and anything else is logged."""
    action = fn.__name__

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any):
            try:
                yield from fn(*args, **kwargs)
            except Exception as err:
                raise _as_gr_error(err, action) from err

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):
        try:
            return fn(*args, **kwargs)
        except Exception as err:
            raise _as_gr_error(err, action) from err

    return wrapper
