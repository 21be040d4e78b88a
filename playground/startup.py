"""Start-up checks for serving on a network: where logins come from, and the warning when the
app is reachable beyond this computer with no login.

Passwords never appear in a message from here: an entry that is not ``USER:PASS`` is named
by its position (``--auth`` entry 2, line 3 of the file), never by its text, because a
mistyped entry is often the password itself.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

AUTH_ENV = "PLAYGROUND_AUTH"

Users = list[tuple[str, str]]


class AuthError(ValueError):
    """A login source that cannot be used; the message names where, never what."""


def _pair(entry: str, where: str) -> tuple[str, str]:
    """Spaces around the name and the password are dropped (a file's stray blanks, a CR)."""
    user, sep, password = entry.partition(":")
    user, password = user.strip(), password.strip()
    if not sep or not user or not password:
        raise AuthError(f"{where} is not USER:PASS (a user name, a colon, then the password).")
    return user, password


def users_from_args(entries: Iterable[str]) -> Users:
    return [_pair(entry, f"--auth entry {i}") for i, entry in enumerate(entries, 1)]


def users_from_env(environ: Mapping[str, str]) -> Users:
    """``PLAYGROUND_AUTH="user:pass,user2:pass2"`` (a password cannot hold a comma here; use a file)."""
    raw = environ.get(AUTH_ENV, "")
    entries = [e for e in raw.split(",") if e.strip()]
    return [_pair(entry, f"{AUTH_ENV} entry {i}") for i, entry in enumerate(entries, 1)]


def users_from_file(path: str | os.PathLike[str]) -> Users:
    """One ``USER:PASS`` per line; blank lines and lines starting with ``#`` are skipped."""
    file = Path(path).expanduser()
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise AuthError(f"Cannot read the --auth-file {file}: {err.strerror or err}.") from err
    except UnicodeDecodeError as err:
        raise AuthError(f"The --auth-file {file} is not UTF-8 text.") from err
    users = [
        _pair(line, f"line {n} of the --auth-file {file}")
        for n, line in enumerate(lines, 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not users:
        raise AuthError(f"The --auth-file {file} has no USER:PASS line.")
    return users


def read_users(
    entries: Iterable[str], auth_file: str | os.PathLike[str] | None, environ: Mapping[str, str]
) -> Users | None:
    """Every login from ``--auth``, ``--auth-file`` and ``PLAYGROUND_AUTH`` together (a user named
    twice keeps the last password given), or None when no source names any."""
    users = users_from_args(entries) + users_from_env(environ)
    if auth_file:
        users += users_from_file(auth_file)
    return list(dict(users).items()) or None


def loose_permissions(path: str | os.PathLike[str]) -> bool:
    """Whether people other than the file's owner may read a file of passwords."""
    try:
        return bool(Path(path).expanduser().stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this computer (127.0.0.0/8, ::1, localhost)."""
    name = (host or "").strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # another host name: assume it is reachable from the network


def _reachable(arena_only: bool) -> str:
    if arena_only:
        return (
            "open the Arena rating view, join any evaluation whose code they know, vote, and (in live mode) "
            "make the models answer their own prompts"
        )
    return (
        "use every tab: run the models (and any paid endpoint saved here), read, export and delete saved "
        "runs, documents, datasets and votes, add models and endpoints, and start fine-tuning jobs"
    )


def exposure_warning(host: str, port: int, *, share: bool, has_auth: bool, arena_only: bool = False) -> str | None:
    """The warning to print when the app is reachable beyond this computer with no login."""
    if has_auth or (is_loopback(host) and not share):
        return None
    where = (
        "a public share link (reachable from the internet by anyone who has the link)"
        if share
        else f"{host or 'every address'}:{port} (reachable from other computers)"
    )
    bar = "!" * 78
    return "\n".join(
        (
            bar,
            f"WARNING: Playground is served with NO LOGIN on {where}.",
            f"Anyone who reaches it can {_reachable(arena_only)}.",
            "To protect it: require a login with --auth USER:PASS, or --auth-file PATH or the PLAYGROUND_AUTH",
            "variable (these keep the password out of `ps`); let only the room's network through the firewall;",
            "and put TLS in front with a reverse proxy (Caddy, nginx). For this computer alone: --host 127.0.0.1.",
            bar,
        )
    )
