"""Start-up checks for serving on a network: where logins come from, who may open each of the
two doors (the facilitator's app at ``/``, the rater view at ``/rate``), and the warning when the
app is reachable beyond this computer with no login.

A password given by the user never appears in a message from here: an entry that is not
``USER:PASS`` is named by its position (``--auth`` entry 2, line 3 of the file), never by its
text, because a mistyped entry is often the password itself. The one password ever shown is
the facilitator's, generated for this run (``admin_login_banner``), on the console only.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import socket
import stat
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
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


def _where(host: str, port: int, share: bool) -> str:
    if share:
        return "a public share link (reachable from the internet by anyone who has the link)"
    return f"{host or 'every address'}:{port} (reachable from other computers)"


def is_exposed(host: str, share: bool) -> bool:
    """Whether people beyond this computer can reach the app (a network address or a share link)."""
    return share or not is_loopback(host)


def exposure_warning(
    host: str, port: int, *, share: bool, has_auth: bool, arena_only: bool = False, admin_locked: bool = False
) -> str | None:
    """The warning to print when the app is reachable beyond this computer with no login.

    ``admin_locked``: the facilitator's door has a generated password (see ``DoorLogins``), so
    only the rater door (``/rate``) is open; the warning then says just that."""
    if has_auth or not is_exposed(host, share):
        return None
    bar = "!" * 78
    if admin_locked:
        return "\n".join(
            (
                bar,
                f"NOTE: Playground is served on {_where(host, port, share)}.",
                "The facilitator's app (every tab) needs the generated password printed at start-up.",
                f"The rater view at {RATER_PATH} needs no login: anyone who reaches it can {_reachable(True)}.",
                "For logins for everyone use --auth-file PATH or PLAYGROUND_AUTH; let only the room's network",
                "through the firewall; put TLS in front with a reverse proxy (Caddy, nginx).",
                bar,
            )
        )
    return "\n".join(
        (
            bar,
            f"WARNING: Playground is served with NO LOGIN on {_where(host, port, share)}.",
            f"Anyone who reaches it can {_reachable(arena_only)}.",
            "To protect it: require a login with --auth USER:PASS, or --auth-file PATH or the PLAYGROUND_AUTH",
            "variable (these keep the password out of `ps`); let only the room's network through the firewall;",
            "and put TLS in front with a reverse proxy (Caddy, nginx). For this computer alone: --host 127.0.0.1.",
            bar,
        )
    )


# ---- two doors: the facilitator's app at "/", the rater view at RATER_PATH ------------------
RATER_PATH = "/rate"
ADMIN_USER = "admin"
ADMIN_PASSWORD_ENV = "PLAYGROUND_ADMIN_PASSWORD"


@dataclass(frozen=True)
class DoorLogins:
    """Who may open each door. ``generated`` is the facilitator login made for this run (to be
    shown once on the console, never logged), or None."""

    admin: Users | None
    rater: Users | None
    generated: tuple[str, str] | None = None


def door_logins(
    users: Users | None,
    *,
    host: str,
    share: bool,
    arena_only: bool,
    environ: MutableMapping[str, str] | None = None,
) -> DoorLogins:
    """The logins of the two doors.

    With ``--auth`` logins, both doors ask for them (a rater's login is their identity). With
    none, and the facilitator's app reachable beyond this computer, the facilitator's door gets a
    password (``PLAYGROUND_ADMIN_PASSWORD`` when set, else a fresh random one, as Jupyter's token)
    while the rater door stays open for the room. Loopback only, or ``--arena-only`` (no
    facilitator door): no login, as before."""
    if users:
        return DoorLogins(admin=users, rater=users)
    if arena_only or not is_exposed(host, share):
        return DoorLogins(admin=None, rater=None)
    env = os.environ if environ is None else environ
    chosen = (env.pop(ADMIN_PASSWORD_ENV, "") or "").strip()  # out of the environment: no child reads it
    login = (ADMIN_USER, chosen or secrets.token_urlsafe(12))
    return DoorLogins(admin=[login], rater=None, generated=None if chosen else login)


def admin_login_banner(login: tuple[str, str], admin_url: str, rater_url: str) -> str:
    """The one place the generated facilitator password is shown (the console, once; never the log)."""
    user, password = login
    return "\n".join(
        (
            "",
            "Facilitator login (made for this run; set PLAYGROUND_ADMIN_PASSWORD to choose your own):",
            f"    {admin_url}    user: {user}    password: {password}",
            f"Raters need no login: {rater_url}?code=JOINCODE",
            "",
        )
    )


def lan_address() -> str | None:
    """This computer's address on its network (the one a room's devices can reach), or None.

    A UDP "connect" only picks the outgoing interface; no packet is sent."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))
        address = probe.getsockname()[0]
        return None if is_loopback(address) else address
    return None
