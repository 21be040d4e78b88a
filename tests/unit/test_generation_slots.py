"""One cap on answers generating at once, for the whole process (both doors, every tab)."""

import threading
import time

import pytest

from playground.generation_slots import GenerationSlots, StoppedWhileWaiting


def test_no_more_than_the_limit_hold_a_slot_at_once():
    slots = GenerationSlots(2)
    inside, most, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def generate():
        with slots.hold():
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            release.wait(5)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=generate) for _ in range(5)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while slots.waiting < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert slots.busy == 2 and slots.waiting == 3  # three wait while two generate
    release.set()
    for thread in threads:
        thread.join(5)
    assert most[0] == 2 and slots.busy == 0 and slots.waiting == 0


def test_stop_while_waiting_gives_up_the_wait_and_takes_no_slot():
    slots = GenerationSlots(1)
    cancel = threading.Event()
    with slots.hold():
        threading.Timer(0.3, cancel.set).start()
        with pytest.raises(StoppedWhileWaiting), slots.hold(cancel):
            pytest.fail("a stopped generation must not run")
    assert slots.busy == 0
    with slots.hold():  # the slot came back
        assert slots.busy == 1


def test_a_failing_generation_gives_its_slot_back():
    slots = GenerationSlots(1)
    with pytest.raises(RuntimeError), slots.hold():
        raise RuntimeError("backend died")
    with slots.hold():
        assert slots.busy == 1
