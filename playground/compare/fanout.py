"""Fan out: run several generations at the same time and merge their streams into snapshots.

Each request streams in its own thread through the GenerationRecorder (so every answer is
saved); the caller gets a list of column states, throttled so a UI is not flooded.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass

from playground.generation import GenerationRecorder, GenerationUpdate
from playground.i18n import Text
from playground.models.load_times import WAITING_FOR_MODEL
from playground.models.types import GenerationParams, Message, Usage
from playground.statuses import GenerationStatus

SNAPSHOT_EVERY_S = 0.08
FINISHED = (GenerationStatus.OK, GenerationStatus.ERROR, GenerationStatus.CANCELLED)


@dataclass(frozen=True)
class StreamRequest:
    position: int
    model_key: str
    messages: tuple[Message, ...]
    params: GenerationParams
    turn: int = 0
    attempt: int = 0
    row_index: int | None = None


@dataclass(frozen=True)
class ColumnState:
    position: int
    text: str = ""
    status: str = GenerationStatus.WAITING  # a GenerationStatus
    usage: Usage | None = None
    error: str | Text | None = None  # a Text is shown in the reader's language
    generation_id: int | None = None
    # What the column waits on before its first token, e.g. "Loading SmolLM2 135M Instruct (first use,
    # ~2 s)…" (ModelRegistry.waiting_line). It names the model: a blind view must not show it.
    waiting: str = ""
    waiting_note: Text | None = None  # the same line, to show in the reader's language

    @property
    def done(self) -> bool:
        return self.status in FINISHED

    @property
    def waiting_text(self) -> str:
        """The status to show until tokens flow."""
        return self.waiting or WAITING_FOR_MODEL

    @property
    def waiting_message(self) -> Text | str:
        """``waiting_text`` to show: a Text where the line came from the catalogue."""
        if self.waiting_note is not None:
            return self.waiting_note
        return self.waiting or Text("models.waiting_for_model")


def _state_from(update: GenerationUpdate, position: int) -> ColumnState:
    status = update.status if update.done else GenerationStatus.RUNNING
    return ColumnState(position, update.text, status, update.usage, update.error, update.generation_id)


def _waiting_state(recorder: GenerationRecorder, request: StreamRequest) -> ColumnState:
    note = recorder.registry.waiting_text(request.model_key)
    return ColumnState(request.position, waiting=str(note), waiting_note=note)


def stream_requests(
    recorder: GenerationRecorder,
    run_id: int,
    requests: Sequence[StreamRequest],
    cancel: threading.Event | None = None,
) -> Generator[list[ColumnState], None, None]:
    """Yield snapshots (one state per request, in order); the last one has every request done."""
    updates: queue.Queue = queue.Queue()
    cancel = cancel or threading.Event()
    order = [request.position for request in requests]
    states = {request.position: _waiting_state(recorder, request) for request in requests}

    def work(request: StreamRequest) -> None:
        try:
            for update in recorder.stream(
                run_id,
                request.model_key,
                request.messages,
                request.params,
                position=request.position,
                cancel=cancel,
                turn=request.turn,
                attempt=request.attempt,
                row_index=request.row_index,
            ):
                updates.put((request.position, _state_from(update, request.position)))
        except Exception as err:  # noqa: BLE001 - e.g. the model vanished: that column shows it, others go on
            updates.put(
                (request.position, ColumnState(request.position, status=GenerationStatus.ERROR, error=_said(err)))
            )

    threads = [
        threading.Thread(target=work, args=(request,), name=f"column-{request.position}", daemon=True)
        for request in requests
    ]
    for thread in threads:
        thread.start()
    last_emit = 0.0
    try:
        while not all(states[p].done for p in order):
            try:
                position, state = updates.get(timeout=SNAPSHOT_EVERY_S)
                states[position] = state
                while True:  # drain what else arrived, keep only the newest per column
                    position, state = updates.get_nowait()
                    states[position] = state
            except queue.Empty:
                pass
            now = time.monotonic()
            if now - last_emit >= SNAPSHOT_EVERY_S or all(states[p].done for p in order):
                last_emit = now
                yield [states[p] for p in order]
    finally:
        if not all(states[p].done for p in order):
            cancel.set()  # the consumer went away: stop the columns rather than run on unseen
        for thread in threads:
            thread.join(timeout=30)


def _said(err: Exception) -> str | Text:
    """A refusal's sentence as a Text where it has one (shown in the reader's language), else English."""
    message = getattr(err, "message", None)
    return message if isinstance(message, Text) else str(err)
