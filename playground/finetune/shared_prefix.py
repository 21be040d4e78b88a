"""Rows of a micro-batch that begin with the same tokens go through those tokens once.

Training rows rendered from one template start alike: every Alpaca row opens with the same
header ("Below is an instruction that describes a task…", 30-odd tokens), and a chat template
opens every row with the same system prompt. With causal attention, a position's hidden states
depend only on the tokens up to it, so over a prefix all rows share are the same in each row. The
decoder runs that prefix once (a batch of one), keeps its keys and values in a cache with their
autograd history, repeats them for each row, and runs the rest of every row attending to them.
The loss and the gradients are the plain batch's: the prefix's gradient is the sum of what each
row sends back through the cache, as in the plain batch, where each row's copy gets its own share.

What differs is LoRA dropout over the prefix: the plain batch draws one mask per row there, this
draws one mask for the rows together. Each element is still dropped with probability p; only the
masks of the rows' copies of the prefix are now the same instead of independent.

The prefix stops before the position that predicts the first answer token of any row, so every
scored position lies in the rows' own part and the loss needs nothing from the prefix pass but
its cache. On the demo support-replies set, micro-batches of 4 share about a quarter of their
positions this way (benchmarks/finetune_throughput.py).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

MIN_SHARED = 8  # shorter common prefixes are not worth a second decoder call

_PREFIX_PASS: contextvars.ContextVar[bool] = contextvars.ContextVar("shared_prefix_pass", default=False)


class _TokenRow(Protocol):  # batching.Row, read-only
    @property
    def input_ids(self) -> tuple[int, ...]: ...

    @property
    def prompt_len(self) -> int: ...


def shared_prefix_length(rows: Sequence[_TokenRow]) -> int:
    """How many leading tokens every row has in common, up to (not including) the position
    that predicts the earliest answer token; 0 for one row or a prefix under ``MIN_SHARED``."""
    if len(rows) < 2:
        return 0
    first = rows[0].input_ids
    limit = min(r.prompt_len for r in rows) - 1
    shared = 0
    while shared < limit and all(r.input_ids[shared] == first[shared] for r in rows[1:]):
        shared += 1
    return shared if shared >= MIN_SHARED else 0


def in_prefix_pass() -> bool:
    """True while the decoder runs a shared prefix. Its tokens belong to the rows that follow,
    whose attention masks cover them: a token counter on the decoder skips this pass."""
    return _PREFIX_PASS.get()


@contextlib.contextmanager
def _prefix_pass() -> Iterator[None]:
    token = _PREFIX_PASS.set(True)
    try:
        yield
    finally:
        _PREFIX_PASS.reset(token)


def can_share(decoder: Any, width: int) -> bool:
    """Whether this decoder can run a batch ``width`` positions wide from a shared cache.

    Not under gradient checkpointing (which turns the cache off in training), and not past a
    sliding attention window (whose cache layers keep only the window)."""
    if getattr(decoder, "gradient_checkpointing", False):
        return False
    window = getattr(decoder.config, "sliding_window", None)
    return not window or width <= window


def last_hidden_states(decoder: Any, ids: Any, mask: Any, shared: int) -> Any:
    """The decoder's last hidden states for positions ``shared`` onwards of every row, the
    first ``shared`` positions (the same in every row) having run once for all of them."""
    if shared == 0 or not can_share(decoder, ids.shape[1]):
        return decoder(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state[:, shared:]
    from transformers import DynamicCache

    cache = DynamicCache(config=decoder.config)
    with _prefix_pass():
        decoder(input_ids=ids[:1, :shared], use_cache=True, past_key_values=cache)
    cache.batch_repeat_interleave(ids.shape[0])
    rest = decoder(input_ids=ids[:, shared:], attention_mask=mask, past_key_values=cache, use_cache=True)
    return rest.last_hidden_state
