"""Pure helpers behind issue 12's caps and start-up checks: the max-tokens cap, the per-rater
live-ask limiter, where logins come from, and when the "no login on the network" warning shows."""

from __future__ import annotations

import pytest

from playground.arena.live_limits import LiveAskLimiter
from playground.errors import InvalidInput
from playground.generation import capped_params
from playground.models.types import GenerationParams
from playground.settings import Settings
from playground.startup import AuthError, exposure_warning, is_loopback, read_users, users_from_file

SECRET = "hunter2-Zq9"


def test_max_tokens_above_the_cap_is_lowered_with_a_note_and_below_it_untouched():
    params = GenerationParams(max_tokens=5000, temperature=0.3, stop=("x",))
    capped, note = capped_params(params, 2048)
    assert capped.max_tokens == 2048 and capped.temperature == 0.3 and capped.stop == ("x",)
    assert note is not None and "5000" in note and "2048" in note
    same, none = capped_params(GenerationParams(max_tokens=2048), 2048)
    assert same.max_tokens == 2048 and none is None


def test_cap_settings_come_from_the_environment_with_floors(monkeypatch, tmp_path):
    assert Settings.from_env(tmp_path).max_tokens == 2048
    monkeypatch.setenv("PLAYGROUND_MAX_TOKENS", "3")
    monkeypatch.setenv("PLAYGROUND_QUEUE_MAX_SIZE", "0")
    monkeypatch.setenv("PLAYGROUND_GENERATION_CONCURRENCY", "2")
    monkeypatch.setenv("PLAYGROUND_LIVE_ASKS_PER_MINUTE", "4")
    settings = Settings.from_env(tmp_path)
    assert (settings.max_tokens, settings.queue_max_size, settings.generation_concurrency) == (32, 1, 2)
    assert (settings.live_asks_in_flight, settings.live_asks_per_minute) == (1, 4)
    monkeypatch.setenv("PLAYGROUND_MAX_TOKENS", "lots")
    with pytest.raises(ValueError, match="PLAYGROUND_MAX_TOKENS must be a whole number"):
        Settings.from_env(tmp_path)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_live_limiter_holds_one_ask_in_flight_per_rater_and_others_go_on():
    limiter = LiveAskLimiter(in_flight=1, per_minute=10, clock=Clock())
    limiter.acquire("rater:1")
    with pytest.raises(InvalidInput, match="still being answered"):
        limiter.acquire("rater:1")
    limiter.acquire("rater:2")  # another rater is not held up
    limiter.release("rater:1")
    limiter.acquire("rater:1")  # finished: may ask again


def test_live_limiter_counts_asks_per_minute_and_says_how_long_to_wait():
    clock = Clock()
    limiter = LiveAskLimiter(in_flight=5, per_minute=3, clock=clock)
    for _ in range(3):
        with limiter.slot("rater:1"):
            clock.now += 1
    with pytest.raises(InvalidInput, match=r"3 live prompts in the last minute.*wait 57 s"):
        limiter.acquire("rater:1")
    clock.now += 57.5  # the first ask is now over a minute old
    with limiter.slot("rater:1"):
        pass
    assert limiter._running == {}  # released on the way out, refused asks took nothing


def test_live_limiter_releases_when_the_ask_fails():
    limiter = LiveAskLimiter(in_flight=1, per_minute=10, clock=Clock())
    with pytest.raises(RuntimeError):
        with limiter.slot("rater:1"):
            raise RuntimeError("the model broke")
    limiter.acquire("rater:1")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_hosts(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "myhost.local", ""])
def test_hosts_beyond_loopback(host):
    assert not is_loopback(host)


def test_logins_come_from_flags_a_file_and_the_environment(tmp_path):
    file = tmp_path / "users.txt"
    file.write_text(f"# room logins\n\ncarol:{SECRET}:with-colon\n  dave : spaced pass \n")
    users = read_users(["alice:a-pass"], file, {"PLAYGROUND_AUTH": "bob:b-pass, erin:e-pass"})
    assert users is not None
    assert dict(users) == {
        "alice": "a-pass",
        "bob": "b-pass",
        "erin": "e-pass",
        "carol": f"{SECRET}:with-colon",
        "dave": "spaced pass",
    }
    assert read_users([], None, {}) is None


@pytest.mark.parametrize(
    "call",
    [
        lambda f: read_users([SECRET], None, {}),
        lambda f: read_users([f":{SECRET}"], None, {}),
        lambda f: read_users([], None, {"PLAYGROUND_AUTH": f"ok:fine,{SECRET}"}),
        lambda f: users_from_file(f),
    ],
)
def test_a_malformed_login_is_refused_without_echoing_it(tmp_path, call):
    file = tmp_path / "users.txt"
    file.write_text(f"ok:fine\n{SECRET}\n")
    with pytest.raises(AuthError) as caught:
        call(file)
    assert SECRET not in str(caught.value) and "USER:PASS" in str(caught.value)


def test_an_unreadable_or_empty_auth_file_is_refused(tmp_path):
    with pytest.raises(AuthError, match="Cannot read"):
        users_from_file(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("# nobody yet\n")
    with pytest.raises(AuthError, match="no USER:PASS line"):
        users_from_file(tmp_path / "empty.txt")


def test_exposure_warning_only_beyond_loopback_without_a_login():
    warning = exposure_warning("0.0.0.0", 7860, share=False, has_auth=False)
    assert warning is not None and "NO LOGIN" in warning and "0.0.0.0:7860" in warning
    assert "--auth" in warning and "reverse proxy" in warning and "use every tab" in warning
    arena = exposure_warning("192.168.1.5", 80, share=False, has_auth=False, arena_only=True)
    assert arena is not None and "Arena rating view" in arena
    shared = exposure_warning("127.0.0.1", 7860, share=True, has_auth=False)
    assert shared is not None and "public share link" in shared
    assert exposure_warning("127.0.0.1", 7860, share=False, has_auth=False) is None
    assert exposure_warning("0.0.0.0", 7860, share=True, has_auth=True) is None
