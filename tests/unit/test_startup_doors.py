"""Who may open each door (the facilitator's app at /, the rater view at /rate), and what the
start-up says about it."""

from __future__ import annotations

import pytest

from playground.startup import (
    ADMIN_PASSWORD_ENV,
    ADMIN_USER,
    RATER_PATH,
    admin_login_banner,
    door_logins,
    exposure_warning,
    is_exposed,
)

USERS = [("ana", "s3cret-ana"), ("bo", "s3cret-bo")]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.5.5.5"])
def test_on_this_computer_alone_nobody_needs_a_login(host):
    logins = door_logins(None, host=host, share=False, arena_only=False, environ={})
    assert (logins.admin, logins.rater, logins.generated) == (None, None, None)
    assert exposure_warning(host, 7860, share=False, has_auth=False) is None


@pytest.mark.parametrize(("host", "share"), [("0.0.0.0", False), ("192.168.1.5", False), ("127.0.0.1", True)])
def test_exposed_without_logins_the_facilitator_door_gets_a_fresh_password(host, share):
    first = door_logins(None, host=host, share=share, arena_only=False, environ={})
    second = door_logins(None, host=host, share=share, arena_only=False, environ={})
    assert first.generated is not None and first.admin == [first.generated] and first.rater is None
    user, password = first.generated
    assert user == ADMIN_USER and len(password) >= 16
    assert password != second.generated[1]  # made anew for every run
    assert is_exposed(host, share)


def test_a_chosen_admin_password_is_used_not_printed_and_leaves_the_environment():
    env = {ADMIN_PASSWORD_ENV: "  chosen-one  ", "OTHER": "x"}
    logins = door_logins(None, host="0.0.0.0", share=False, arena_only=False, environ=env)
    assert logins.admin == [(ADMIN_USER, "chosen-one")] and logins.generated is None and logins.rater is None
    assert env == {"OTHER": "x"}  # a child process (the fine-tune worker) cannot read it


def test_with_logins_both_doors_ask_for_them_and_nothing_is_generated():
    logins = door_logins(USERS, host="0.0.0.0", share=True, arena_only=False, environ={})
    assert logins.admin == USERS and logins.rater == USERS and logins.generated is None


def test_arena_only_has_no_facilitator_door_to_lock():
    logins = door_logins(None, host="0.0.0.0", share=False, arena_only=True, environ={})
    assert (logins.admin, logins.rater, logins.generated) == (None, None, None)
    warning = exposure_warning("0.0.0.0", 7860, share=False, has_auth=False, arena_only=True)
    assert warning is not None and "Arena rating view" in warning and "use every tab" not in warning


def test_the_warning_with_a_locked_facilitator_door_speaks_of_the_rater_door_only():
    warning = exposure_warning("0.0.0.0", 7860, share=False, has_auth=False, admin_locked=True)
    assert warning is not None and "NO LOGIN" not in warning and "use every tab" not in warning
    assert RATER_PATH in warning and "generated password" in warning and "Arena rating view" in warning
    assert exposure_warning("0.0.0.0", 7860, share=False, has_auth=True, admin_locked=True) is None


def test_the_banner_shows_the_generated_login_and_both_doors():
    banner = admin_login_banner(("admin", "pw-123"), "http://10.0.0.2:7860/", "http://10.0.0.2:7860/rate")
    assert "user: admin" in banner and "password: pw-123" in banner
    assert "http://10.0.0.2:7860/" in banner and "http://10.0.0.2:7860/rate?code=JOINCODE" in banner
