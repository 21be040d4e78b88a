"""One writer for a long run's status line: the run's own stream.

A Stop button that wrote "Stopping…" into the status line raced the run it stopped: the run could
end, and show "cancelled", before the Stop reply reached the page, which then kept "Stopping…"
for good. Gradio keeps the order of one event's messages, not of two events'. So the Stop button
only sets the run's cancel event, and the run's stream says "Stopping…" itself: it is drained on a
thread of its own, which lets the relay speak up at once even while the run is inside one long
answer, and its last message, which says how the run ended, is always the last one shown.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

POLL_S = 0.1  # how soon a Stop shows, at most, while the run is quiet

_ITEM, _END, _ERROR = "item", "end", "error"


def _drain(stream: Iterator[Any], items: queue.Queue) -> None:
    try:
        for item in stream:
            items.put((_ITEM, item))
        items.put((_END, None))
    except BaseException as err:  # noqa: BLE001 - handed to the reader, which raises it in Gradio's thread
        items.put((_ERROR, err))


def relay_with_stop_notice(
    stream: Iterator[Any], cancel: threading.Event, notice: Callable[[Any], Any], poll_s: float = POLL_S
) -> Iterator[Any]:
    """Relay ``stream``'s items; once ``cancel`` is set, each carries ``notice(item)`` instead, until
    the stream ends, when its last item is relayed as it is. ``notice(None)`` is asked for when the
    stream has yielded nothing yet. Context variables (the request, its language) go to the drain."""
    items: queue.Queue = queue.Queue()
    drain = threading.Thread(
        target=contextvars.copy_context().run, args=(_drain, stream, items), name="stream-relay", daemon=True
    )
    drain.start()
    last, noticed = None, False
    try:
        while True:
            try:
                kind, value = items.get(timeout=poll_s)
            except queue.Empty:
                if cancel.is_set() and not noticed:
                    noticed = True
                    yield notice(last)
                continue
            if kind == _ERROR:
                raise value
            if kind == _END:
                break
            last = value
            if cancel.is_set():
                noticed = True
                yield notice(value)
            else:
                yield value
        if noticed and last is not None:
            yield last  # how the run ended, after any notice
    finally:
        # The page went away (Gradio closed this relay): the run stops as a Stop would stop it.
        if drain.is_alive():
            cancel.set()


def with_status(item: Any, status_index: int, width: int, status: str) -> tuple:
    """``item`` (a handler's outputs) with the status output replaced; nothing else changes when
    there is no item yet."""
    values = list(item) if isinstance(item, (tuple, list)) and width > 1 else [item]
    if item is None:
        values = [gr.skip() for _ in range(width)]
    values[status_index] = status
    return tuple(values) if width > 1 else values[0]


def relayed(
    fn: Callable[..., Iterator[Any]],
    token_index: int,
    event_for: Callable[[str], threading.Event],
    new_token: Callable[[], str],
    notice: Callable[[Any], Any],
    release: Callable[[str], None] = lambda _token: None,
) -> Callable[..., Iterator[Any]]:
    """``fn`` (a handler taking its cancel token at ``token_index``, a generator or not) relayed as above.
    A caller with no token (an API client skipping the click's first step) is given one here, so the
    relay and the handler watch the same cancel event; ``release`` lets it go once the run ends."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Iterator[Any]:
        args_list = list(args)
        if not args_list[token_index]:
            args_list[token_index] = new_token()
        token = args_list[token_index]
        cancel = event_for(token)
        if inspect.isgeneratorfunction(fn):
            stream = fn(*args_list, **kwargs)
        else:  # one answer at the end: it too is worked out on the drain thread
            stream = (fn(*args_list, **kwargs) for _ in range(1))
        try:
            yield from relay_with_stop_notice(stream, cancel, notice)
        finally:  # also when the handler refused before it took the token (it would keep it)
            release(token)

    return run
