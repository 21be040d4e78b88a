"""Turning failures into plain messages in the UI, for plain and streaming handlers alike.

Two ways a refusal reaches the user:

- ``refusals(check)`` makes a Gradio ``validator=`` for an event. Gradio runs it before the
  handler: a refusal (empty prompt, no file chosen) is shown next to the input at fault and the
  event's outputs keep what they showed. Raising ``gr.Error`` from the handler instead marks every
  output of the event with a red "Error" badge, as if each had failed. API callers get
  gradio_client's ``ValidationError`` carrying the same sentence.
- ``user_errors(handler)`` for what can only be found while the work runs (a file's content, an
  endpoint's reply): a toast with the sentence, and a log line.
"""

from __future__ import annotations

import contextlib
import functools
import html
import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from components.i18n import say, text
from playground.errors import UserFacingError

log = logging.getLogger("playground.ui")


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
        log.info("%s refused: %s", action, err)  # the log reads English
        return _ShownError(toast_text(say(err)), print_exception=False)
    log.exception("%s failed unexpectedly", action)
    return gr.Error(text("errors.unexpected", kind=type(err).__name__), print_exception=False)


class RefusedAt(UserFacingError):
    """A check's refusal that belongs next to one particular input (by position in the event's inputs)."""

    def __init__(self, index: int, message: object):
        super().__init__(message)
        self.index = index


@contextlib.contextmanager
def refused_at(index: int) -> Iterator[None]:
    """In a check: a refusal raised inside belongs next to input ``index``."""
    try:
        yield
    except RefusedAt:
        raise
    except UserFacingError as err:
        raise RefusedAt(index, err.message) from err


def refusals(check: Callable[..., Any], *, at: int = 0) -> Callable[..., Any]:
    """A Gradio ``validator=`` from ``check``, which takes the event's inputs and raises a
    UserFacingError when they cannot be used. The sentence is shown next to input ``at`` (the
    first, unless the check raises ``RefusedAt``): point it at a visible input, since a message
    on a ``gr.State`` shows nowhere. Anything else the check raises is left to the handler, which
    meets the same inputs and reports it as usual."""
    action = getattr(check, "__name__", "check")

    @functools.wraps(check)
    def validator(*args: Any) -> Any:
        try:
            check(*args)
        except UserFacingError as err:
            log.info("%s refused: %s", action, err)
            index = err.index if isinstance(err, RefusedAt) else at
            message = say(err)  # shown as text by Gradio, so no HTML escaping here
            return _one_per_input([gr.validate(i != index, message if i == index else "") for i in range(len(args))])
        except Exception:
            log.debug("%s: the check failed; the handler will report it", action, exc_info=True)
        return _one_per_input([gr.validate(True, "")] * len(args))  # one result per input, even when all pass

    return validator


def _one_per_input(results: list[Any]) -> Any:
    """Gradio reads a validator's return like a handler's: with one input it wraps the value in a
    list itself, so a one-item list would be taken as that input's result and ignored."""
    return results[0] if len(results) == 1 else results


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
