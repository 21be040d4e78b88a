"""launcher.py on the network with no --auth: the facilitator's door gets a password printed once
on the console (never in the log file) and /rate stays open for the room."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.app_process import start_app

pytestmark = pytest.mark.slow


def test_beyond_loopback_the_admin_door_is_locked_and_the_rater_door_open(tmp_path):
    app = start_app(tmp_path / "home", "--host", "0.0.0.0", timeout_s=300)
    try:
        console = app.log_tail(20_000)
        found = re.search(r"user: (\S+)\s+password: (\S+)", console)
        assert found, console
        user, password = found.groups()
        assert user == "admin" and len(password) >= 16
        assert "/rate?code=JOINCODE" in console
        assert password not in (app.data_dir / "logs" / "playground.log").read_text()
        assert httpx.get(app.url + "config", timeout=10).status_code == 401
        rate = httpx.get(app.url + "rate/config", timeout=10)
        assert rate.status_code == 200 and "arena_join" in rate.text and "arena_create" not in rate.text
        login = httpx.post(app.url + "login", data={"username": user, "password": password}, timeout=10)
        assert login.status_code == 200
        assert httpx.get(app.url + "config", cookies=login.cookies, timeout=10).status_code == 200
    finally:
        app.stop()
