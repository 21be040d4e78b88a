"""The relay that lets a run's own stream say "stopping" and have the last word."""

import contextvars
import threading

import pytest

from components.stream_relay import relay_with_stop_notice, relayed, with_status


def notice(item):
    return ("stopping", item)


def test_without_a_stop_the_items_pass_unchanged_and_nothing_is_added():
    assert list(relay_with_stop_notice(iter([1, 2, 3]), threading.Event(), notice)) == [1, 2, 3]


def test_a_stop_during_a_quiet_stretch_is_said_at_once_and_the_end_comes_last():
    cancel, resume = threading.Event(), threading.Event()

    def run():
        yield "1/3 cells"
        resume.wait(10)  # inside one long answer: nothing to yield until it ends
        yield "2/3 cells"
        yield "cancelled · 2/3 cells"

    relay = relay_with_stop_notice(run(), cancel, notice, poll_s=0.01)
    assert next(relay) == "1/3 cells"
    cancel.set()
    assert next(relay) == ("stopping", "1/3 cells")  # while the run is still blocked
    resume.set()
    assert list(relay) == [("stopping", "2/3 cells"), ("stopping", "cancelled · 2/3 cells"), "cancelled · 2/3 cells"]


def test_a_stop_before_the_first_item_gives_a_notice_with_nothing_else():
    cancel, resume = threading.Event(), threading.Event()

    def run():
        resume.wait(10)
        yield "cancelled"

    relay = relay_with_stop_notice(run(), cancel, notice, poll_s=0.01)
    cancel.set()
    assert next(relay) == ("stopping", None)
    resume.set()
    assert list(relay) == [("stopping", "cancelled"), "cancelled"]


def test_an_error_in_the_run_is_raised_to_the_reader():
    def run():
        yield 1
        raise ValueError("broken table")

    relay = relay_with_stop_notice(run(), threading.Event(), notice)
    assert next(relay) == 1
    with pytest.raises(ValueError, match="broken table"):
        next(relay)


def test_a_page_that_goes_away_stops_the_run():
    cancel, started = threading.Event(), threading.Event()

    def run():
        yield "first"
        started.set()
        cancel.wait(10)
        yield "cancelled"

    relay = relay_with_stop_notice(run(), cancel, notice, poll_s=0.01)
    assert next(relay) == "first"
    started.wait(10)
    relay.close()
    assert cancel.is_set()


def test_the_run_sees_the_request_s_context_variables():
    language = contextvars.ContextVar("language", default="en")
    language.set("pt-BR")

    def run():
        yield language.get()

    assert list(relay_with_stop_notice(run(), threading.Event(), notice)) == ["pt-BR"]


def test_with_status_replaces_only_the_status_output_and_skips_the_rest_before_any_item():
    assert with_status(("5/9 cells", "grid", 7), 0, 3, "Stopping") == ("Stopping", "grid", 7)
    assert with_status("5/9 cells", 0, 1, "Stopping") == "Stopping"
    skipped = with_status(None, 1, 3, "Stopping")
    assert skipped[1] == "Stopping" and skipped[0] == skipped[2] and skipped[0] is not None


def test_a_plain_handler_is_relayed_and_a_caller_without_a_token_gets_one():
    events: dict[str, threading.Event] = {}

    def handler(name, token):
        assert token == "issued"
        events[token].set()  # as a Stop would, while the handler works
        return f"cancelled {name}"

    run = relayed(
        handler,
        token_index=1,
        event_for=lambda token: events.setdefault(token, threading.Event()),
        new_token=lambda: "issued",
        notice=notice,
    )
    assert list(run("batch", "")) == [("stopping", "cancelled batch"), "cancelled batch"]


def test_the_relay_lets_the_token_go_even_when_the_handler_refused_before_taking_it():
    released = []

    def refusing(name, token):
        raise ValueError("Upload a table first")

    run = relayed(
        refusing,
        token_index=1,
        event_for=lambda token: threading.Event(),
        new_token=lambda: "issued",
        notice=notice,
        release=released.append,
    )
    with pytest.raises(ValueError, match="Upload a table first"):
        list(run("batch", "made-up-by-a-caller"))
    assert released == ["made-up-by-a-caller"]
