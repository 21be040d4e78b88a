"""One process, two doors: the facilitator's app at ``/`` and the rater view at ``/rate``.

Each door is its own ``gr.Blocks`` mounted on one FastAPI app, so the rater door's page
config and API hold only the rater's events: the other tabs are unreachable from it, in the
page or through ``gradio_client``. Both doors call the same ``Services`` (one database, one
model registry, one set of search indexes), so a room needs one process.

``--arena-only`` mounts only the rater door, at ``/`` (as before) with ``/rate`` leading to it.
"""

from __future__ import annotations

import logging
import threading
import time
import webbrowser
from dataclasses import dataclass
from urllib.parse import urlencode

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.routing import Mount

from components.app import build_app, build_rater_app, configure_queue, launch_kwargs
from components.i18n import I18N, i18n_for, recording_keys
from components.page_locale import LocaleScript
from components.remote_files import RemoteFileRefusal
from playground.services import Services
from playground.startup import RATER_PATH, DoorLogins

log = logging.getLogger(__name__)
# The rater door takes no files: a small cap keeps strangers from filling the upload folder.
RATER_MAX_UPLOAD = "64kb"


@dataclass
class Doors:
    app: FastAPI
    rater: gr.Blocks
    admin: gr.Blocks | None  # None with --arena-only


def _redirect_to(target: str):
    def redirect(request: Request) -> RedirectResponse:
        query = urlencode(list(request.query_params.multi_items()))
        return RedirectResponse(f"{target}?{query}" if query else target, status_code=307)

    return redirect


def _mount(parent: FastAPI, blocks: gr.Blocks, path: str, **kwargs) -> None:
    """``gr.mount_gradio_app``, then point ``blocks.app`` at the app that was mounted.

    ``mount_gradio_app`` serves requests from a new ``App`` but leaves ``blocks.app`` on the one
    ``queue()`` made. The queue runs event validators through ``blocks.app``, so they would read
    another, empty set of session states: a model picked from a list the session refreshed (a
    model added after the page loaded) was then refused as "not in the list of choices"."""
    gr.mount_gradio_app(parent, blocks, path, **kwargs)
    mounted = next(r for r in reversed(parent.routes) if isinstance(r, Mount) and r.path == path.rstrip("/"))
    blocks.app = blocks.server_app = mounted.app  # type: ignore[assignment]


def mount_doors(
    services: Services, logins: DoorLogins, *, arena_only: bool = False, host: str = "127.0.0.1", port: int = 7860
) -> Doors:
    """The FastAPI app with both doors mounted (rater first: the facilitator's app at ``/``
    would otherwise catch every path)."""
    settings = services.settings
    parent = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    parent.add_middleware(LocaleScript)
    parent.add_middleware(RemoteFileRefusal)
    look = launch_kwargs()
    common = {
        "server_name": host,
        "server_port": port,
        "show_error": True,
        "theme": look["theme"],
        "css": look["css"],
    }
    with recording_keys() as rater_keys:
        rater = configure_queue(build_rater_app(services), settings)
    # "/rate" itself (no slash) would fall to the facilitator's app; send it to the door.
    rater_at = "/" if arena_only else RATER_PATH
    parent.add_api_route(RATER_PATH, _redirect_to(f"{rater_at.rstrip('/')}/"), methods=["GET"], include_in_schema=False)
    _mount(
        parent,
        rater,
        rater_at,
        auth=logins.rater,
        max_file_size=RATER_MAX_UPLOAD,
        footer_links=[],
        i18n=i18n_for(rater_keys),
        **common,
    )
    if arena_only:
        return Doors(parent, rater, None)
    admin = configure_queue(build_app(services), settings)
    _mount(
        parent,
        admin,
        "/",
        auth=logins.admin,
        max_file_size=settings.max_upload_bytes,  # per file: Gradio stops reading past it (HTTP 413)
        footer_links=look["footer_links"],
        i18n=I18N,  # the whole catalogue: a label made at import time is covered too
        **common,
    )
    return Doors(parent, rater, admin)


def _share_link(host: str, port: int) -> str | None:
    """A Gradio share link to this server (needs the internet), or None with the reason printed."""
    import secrets

    from gradio import networking

    try:
        return networking.setup_tunnel(host, port, secrets.token_urlsafe(32), None, None)
    except Exception as err:  # noqa: BLE001 - a share link is best effort: say so and go on locally
        print(f"Could not create a share link ({err}); serving on this network only.", flush=True)
        return None


@dataclass
class Served:
    doors: Doors
    local_url: str
    share_url: str | None
    server: object

    def close(self) -> None:
        self.server.close()  # type: ignore[attr-defined]
        for blocks in (self.doors.rater, self.doors.admin):
            if blocks is not None:
                blocks.close()


def serve(doors: Doors, *, host: str, port: int, share: bool = False, inbrowser: bool = False) -> Served:
    """Start the server in a thread (Gradio's own uvicorn wrapper, as ``launch`` uses)."""
    from gradio import http_server

    _, port, local_url, server = http_server.start_server(app=doors.app, server_name=host, server_port=port)  # type: ignore[arg-type]
    share_url = _share_link(host, port) if share else None
    if inbrowser:
        threading.Thread(target=webbrowser.open, args=(local_url,), daemon=True).start()
    return Served(doors, local_url, share_url, server)


def block_until_interrupted(served: Served) -> None:
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("Stopping Playground…", flush=True)
    finally:
        served.close()
