"""Playground's one entry point: settings -> storage (migrate) -> registry -> services -> UI -> launch.

    python launcher.py [--host HOST] [--port PORT] [--share] [--auth USER:PASS ...]
                       [--auth-file PATH] [--data-dir DIR] [--arena-only] [--no-browser]

Logins may also come from PLAYGROUND_AUTH="user:pass,user2:pass2" or --auth-file (one USER:PASS
a line), which keep passwords out of `ps`; a password given so is never printed or logged.

One process serves two doors: the facilitator's app at / and the rater view at /rate (?code=
fills the join code in). Served beyond this computer with no login, the facilitator's door gets
a password made for the run and printed once on the console (as Jupyter does with its token),
while /rate stays open for the room; PLAYGROUND_ADMIN_PASSWORD chooses it instead.

No model is loaded before the app answers; each loads on first use, or in the background at
start-up when PLAYGROUND_WARMUP asks for it (``make run`` does).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no internet here; don't try
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models come from packages, never a hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Start the Playground web app.")
    parser.add_argument(
        "--host",
        default=os.environ.get("PLAYGROUND_HOST", "127.0.0.1"),
        help="address to listen on (0.0.0.0 for a room of people on one link)",
    )
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PLAYGROUND_PORT", "7860")), help="port to listen on"
    )
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link (needs internet)")
    parser.add_argument(
        "--auth", action="append", default=[], metavar="USER:PASS", help="require a login; repeat for several users"
    )
    parser.add_argument(
        "--auth-file",
        default=None,
        metavar="PATH",
        help="logins from a file, one USER:PASS a line (also: PLAYGROUND_AUTH='user:pass,user2:pass2')",
    )
    parser.add_argument("--data-dir", default=None, help="data folder (default $PLAYGROUND_HOME or ~/.playground)")
    parser.add_argument(
        "--arena-only",
        action="store_true",
        help="serve only the Arena rating view (no other tabs, no model names), for a room on one link",
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    return parser.parse_args(argv)


def parse_auth(args: argparse.Namespace) -> list[tuple[str, str]] | None:
    """Logins from --auth, --auth-file and PLAYGROUND_AUTH; the variable is then removed from the
    environment, so no child process (the fine-tune worker) or endpoint key lookup can read it."""
    from playground.startup import AUTH_ENV, AuthError, loose_permissions, read_users

    try:
        users = read_users(args.auth, args.auth_file, os.environ)
    except AuthError as err:
        raise SystemExit(f"Playground cannot start: {err}") from None  # `from None`: no traceback with the text
    os.environ.pop(AUTH_ENV, None)
    if args.auth_file and loose_permissions(args.auth_file):
        print(f"Note: {args.auth_file} can be read by other users; `chmod 600` it.", file=sys.stderr)
    return users


def warn_if_exposed(args: argparse.Namespace, has_auth: bool, admin_locked: bool = False) -> None:
    """Loudly, on stderr and in the log, when anyone beyond this computer can use the app with no login."""
    from playground.startup import exposure_warning

    warning = exposure_warning(
        args.host, args.port, share=args.share, has_auth=has_auth, arena_only=args.arena_only, admin_locked=admin_locked
    )
    if warning:
        logging.getLogger("playground.launcher").warning("\n%s", warning)  # the console handler writes stderr


def print_doors(args: argparse.Namespace, local_url: str, share_url: str | None, logins) -> None:
    """Where each door is; the generated facilitator password goes to the console only, never the log."""
    from playground.startup import RATER_PATH, admin_login_banner, lan_address

    base = (share_url or local_url).rstrip("/")
    if not share_url and args.host in ("0.0.0.0", "::", ""):
        base = base.replace("localhost", lan_address() or "localhost", 1)
    rater_url = base + ("/" if args.arena_only else RATER_PATH)
    if args.arena_only:
        print(f"Playground Arena (raters only): {rater_url}?code=JOINCODE", flush=True)
    else:
        print(f"Playground: {base}/  ·  raters: {rater_url}?code=JOINCODE", flush=True)
    if logins.generated:
        print(admin_login_banner(logins.generated, base + "/", rater_url), flush=True)


def setup_logging(logs_dir: Path) -> Path:
    logs_dir.mkdir(parents=True, exist_ok=True)
    log_file = logs_dir / "playground.log"
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = RotatingFileHandler(log_file, maxBytes=5_000_000, backupCount=3)
    file_handler.setFormatter(fmt)
    console = logging.StreamHandler()
    console.setFormatter(fmt)
    console.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(file_handler)
    root.addHandler(console)
    for noisy in ("httpx", "urllib3", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return log_file


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    auth = parse_auth(args)
    from playground.errors import StorageError
    from playground.settings import Settings
    from playground.startup import door_logins

    logins = door_logins(auth, host=args.host, share=args.share, arena_only=args.arena_only)
    settings = Settings.from_env(args.data_dir)
    settings.ensure_dirs()
    log_file = setup_logging(settings.logs_dir)
    warn_if_exposed(args, has_auth=auth is not None, admin_locked=logins.admin is not None)
    from playground.services import Services

    try:
        services = Services.create(settings)
    except StorageError as err:
        print(f"\nPlayground cannot start: {err}\n", file=sys.stderr)
        logging.getLogger("playground").error("Start-up failed: %s", err)
        return 2

    from playground.warmup import start_warmup

    start_warmup(services.registry, settings)  # background loads (PLAYGROUND_WARMUP); never delays start-up
    from components.doors import block_until_interrupted, mount_doors, serve

    doors = mount_doors(services, logins, arena_only=args.arena_only, host=args.host, port=args.port)
    print(f"Playground data folder: {settings.home}  (log: {log_file})", flush=True)
    served = serve(doors, host=args.host, port=args.port, share=args.share, inbrowser=not args.no_browser)
    print_doors(args, served.local_url, served.share_url, logins)
    try:
        block_until_interrupted(served)
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
