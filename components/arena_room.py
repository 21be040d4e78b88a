"""The facilitator's room view (a sub-tab of the Arena tab): the join link and a QR code of it,
large enough to project, a live tally while the tab is open, open / close voting, release a
rater's name, and the room settings of the selected evaluation."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import gradio as gr
import segno

from components.i18n import L, request_language, say, text
from components.ui_errors import refusals, user_errors
from playground.arena import report
from playground.arena.service import REVEAL_POLICIES, ArenaService
from playground.rendering import inert_inline
from playground.startup import RATER_PATH, is_loopback, lan_address

# The raters table's headers by catalogue key: the handlers render them in the reader's language.
RATER_HEADER_KEYS = (
    "arena.head_rater", "arena.head_votes", "arena.head_live_prompts", "arena.head_finished",
    "arena.head_name_released", "arena.head_joined_by",
)  # fmt: skip
RATER_HEADERS = report.headers(RATER_HEADER_KEYS)  # as the page is built
# How a rater joined (stored as a code), in words.
_SOURCE_KEYS = {"join": "arena.source_join", "login": "arena.source_login", "import": "arena.source_import"}
POLL_S = 2.0


# ---- the join link --------------------------------------------------------------------------
def _split_host(host: str) -> tuple[str, str]:
    """("127.0.0.1", ":7860") from "127.0.0.1:7860"; IPv6 "[::1]:7860" keeps its brackets."""
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1], host[end + 1 :]
    name, sep, port = host.rpartition(":")
    return (name, f":{port}") if sep and port.isdigit() else (host, "")


def join_link(headers: dict[str, str], scheme: str, code: str, lan: str | None = None) -> tuple[str, str]:
    """The rater link for ``code`` as this page was reached (a proxy's forwarded host and scheme
    win), and a note. Opened on this computer (localhost), the link would point raters at their
    own device: this computer's network address ``lan`` is used instead, and the note says so."""
    lower = {k.lower(): v for k, v in headers.items()}
    host = (lower.get("x-forwarded-host") or lower.get("host") or "localhost").split(",")[0].strip()
    scheme = (lower.get("x-forwarded-proto") or scheme or "http").split(",")[0].strip()
    name, port = _split_host(host)
    note = ""
    if is_loopback(name):
        if lan:
            note = text("arena.link_lan_note", lan=lan)
            name = lan
        else:
            note = text("arena.link_no_lan_note")
    return f"{scheme}://{name}{port}{RATER_PATH}?code={quote(code)}", note


def qr_image(link: str, scale: int = 12) -> Any:
    """The QR code of ``link`` as an image (PNG drawn by segno; border 4 modules, as scanners expect)."""
    from PIL import Image

    png = io.BytesIO()
    segno.make(link, error="m", micro=False).save(png, kind="png", scale=scale, border=4)
    png.seek(0)
    return Image.open(png)


# ---- the tally ------------------------------------------------------------------------------
def room_markdown(status: Any) -> str:
    voting = text("arena.voting_open_badge") if status.voting_open else text("arena.voting_closed_badge")
    routing = (
        text("arena.routing_votes", n=status.votes_per_battle) if status.votes_per_battle else text("arena.routing_all")
    )
    policy = policy_words(status.reveal_policy)
    cap = text("arena.room_cap", cap=status.live_cap) if status.live_cap else ""
    line = text(
        "arena.room_line", voting=voting, code=inert_inline(status.join_code), routing=routing,
        policy=inert_inline(policy), cap=cap,
    )  # fmt: skip
    counts = text(
        "arena.room_counts", joined=status.raters_joined, votes=status.votes_cast, battles=status.battles,
        needing=status.battles_needing_votes, still=status.votes_still_needed,
    )  # fmt: skip
    return "\n\n".join((line, counts))


_POLICY_KEYS = {
    "after_last": "arena.policy_after_last",
    "after_each": "arena.policy_after_each",
    "never": "arena.policy_never",
}


def policy_words(policy: str) -> str:
    """A reveal policy in the reader's language (an unknown one as stored)."""
    key = _POLICY_KEYS.get(policy)
    return text(key) if key else REVEAL_POLICIES.get(policy, policy)


def rater_rows(status: Any) -> list[list[Any]]:
    return [
        [
            r.name,
            r.votes,
            r.live_asked,
            text("arena.cell_yes") if r.finished else "",
            text("arena.cell_released") if r.released else "",
            text(_SOURCE_KEYS[r.source]) if r.source in _SOURCE_KEYS else r.source,
        ]
        for r in status.raters
    ]


def rater_table(status: Any | None) -> dict:
    """The raters table with its headers in the reader's language (no evaluation: no rows)."""
    rows = rater_rows(status) if status is not None else []
    return {"headers": report.headers(RATER_HEADER_KEYS, request_language()), "data": rows}


@dataclass
class RoomSection:
    link: gr.Markdown
    qr: gr.Image
    status: gr.Markdown
    raters: gr.Dataframe
    open_voting: gr.Button
    close_voting: gr.Button
    release_name: gr.Textbox
    release: gr.Button
    reveal_policy: gr.Dropdown
    votes_per_battle: gr.Number
    live_cap: gr.Number
    show_together: gr.Checkbox
    apply_settings: gr.Button
    timer: gr.Timer


def room_section() -> RoomSection:
    with gr.Row():
        with gr.Column(scale=3):
            link = gr.Markdown(L("arena.no_room"), elem_id="arena-room-link")
            status = gr.Markdown(elem_id="arena-room-status")
            with gr.Row():
                open_voting = gr.Button(L("arena.open_voting"), variant="primary", elem_id="arena-room-open")
                close_voting = gr.Button(L("arena.close_voting"), variant="stop", elem_id="arena-room-close")
        with gr.Column(scale=2, min_width=320):
            qr = gr.Image(
                label=L("arena.qr_label"),
                type="pil",
                interactive=False,
                buttons=["fullscreen", "download"],
                elem_id="arena-room-qr",
            )
    raters = gr.Dataframe(
        headers=RATER_HEADERS, interactive=False, label=L("arena.raters"), elem_id="arena-room-raters"
    )
    with gr.Row():
        release_name = gr.Textbox(
            label=L("arena.release_name_label"),
            elem_id="arena-room-release-name",
            scale=3,
        )
        release = gr.Button(L("arena.release_name"), elem_id="arena-room-release", scale=1)
    with gr.Accordion(L("arena.room_settings"), open=False):
        with gr.Row():
            reveal_policy = gr.Dropdown(
                [
                    (L(_POLICY_KEYS[key]) if key in _POLICY_KEYS else label, key)
                    for key, label in REVEAL_POLICIES.items()
                ],
                label=L("arena.room_reveal_policy"),
                value=None,
            )
            votes_per_battle = gr.Number(value=0, precision=0, label=L("arena.room_votes_per_battle"))
            live_cap = gr.Number(value=0, precision=0, label=L("arena.live_cap_label"))
        show_together = gr.Checkbox(value=True, label=L("arena.room_show_together"))
        apply_settings = gr.Button(L("arena.apply_room_settings"), elem_id="arena-room-apply")
    return RoomSection(
        link, qr, status, raters, open_voting, close_voting, release_name, release,
        reveal_policy, votes_per_battle, live_cap, show_together, apply_settings, gr.Timer(POLL_S, active=False),
    )  # fmt: skip


def _count(value: float | None) -> int | None:
    return int(value) if value not in (None, "") and int(value) > 0 else None


class RoomController:
    def __init__(self, arena: ArenaService):
        self.arena = arena

    @user_errors
    def show(self, evaluation_id, request: gr.Request):
        """The join link and its QR code, from the address this page was reached at."""
        if not evaluation_id:
            return text("arena.no_room"), None, "", rater_table(None), *[gr.skip()] * 4
        info = self.arena.evaluation(evaluation_id)
        headers = dict(getattr(request, "headers", {}) or {})
        scheme = getattr(getattr(getattr(request, "request", None), "url", None), "scheme", "http")
        link, note = join_link(headers, scheme, info.join_code, lan_address())
        shown = text("arena.join_at", link=link, code=inert_inline(info.join_code)) + (f"\n\n{note}" if note else "")
        status = self.arena.room_status(evaluation_id)
        settings = [
            info.reveal_policy,
            info.votes_per_battle or 0,
            info.live_cap or 0,
            info.show_together,
        ]
        return shown, qr_image(link), room_markdown(status), rater_table(status), *settings

    @user_errors
    def poll(self, evaluation_id):
        if not evaluation_id:
            return "", rater_table(None)
        status = self.arena.room_status(evaluation_id)
        return room_markdown(status), rater_table(status)

    @user_errors
    def set_voting(self, evaluation_id, open_: bool):
        gr.Info(say(self.arena.set_voting_open(evaluation_id, open_)))
        return self.poll(evaluation_id)

    def check_release(self, evaluation_id, name) -> None:
        self.arena.check_release_name(name)

    @user_errors
    def release(self, evaluation_id, name):
        gr.Info(say(self.arena.release_rater_name(evaluation_id, name)))
        return "", *self.poll(evaluation_id)

    @staticmethod
    def pick(evt: gr.SelectData):
        row = getattr(evt, "row_value", None) or []
        return row[0] if row else gr.skip()

    @user_errors
    def apply_settings(self, evaluation_id, policy, votes, cap, together):
        info = self.arena.evaluation(evaluation_id)
        said = []
        if policy and policy != info.reveal_policy:
            said.append(self.arena.set_reveal_policy(evaluation_id, policy))
        if _count(votes) != info.votes_per_battle:
            said.append(self.arena.set_votes_per_battle(evaluation_id, _count(votes)))
        if _count(cap) != info.live_cap:
            said.append(self.arena.set_live_cap(evaluation_id, _count(cap)))
        if bool(together) != info.show_together:
            said.append(self.arena.set_show_together(evaluation_id, bool(together)))
        gr.Info(" ".join(say(s) for s in said) or text("arena.nothing_changed"))
        return self.poll(evaluation_id)


def wire_room(
    room: RoomSection, evaluation: gr.Dropdown, room_tab: gr.Tab, other_tabs: list[gr.Tab], arena: ArenaService
) -> None:
    """Wire the room view; its tally polls only while its sub-tab is open."""
    ctl = RoomController(arena)
    settings = [room.reveal_policy, room.votes_per_battle, room.live_cap, room.show_together]
    shown = [room.link, room.qr, room.status, room.raters, *settings]
    tally = [room.status, room.raters]
    room_tab.select(ctl.show, [evaluation], shown, api_name="arena_room", queue=False).then(
        lambda: gr.Timer(active=True), None, [room.timer], queue=False
    )
    for tab in other_tabs:
        tab.select(lambda: gr.Timer(active=False), None, [room.timer], queue=False)
    evaluation.change(ctl.show, [evaluation], shown, queue=False)
    room.timer.tick(
        ctl.poll, [evaluation], tally, api_name="arena_room_status", show_progress="hidden",
        concurrency_limit=8, concurrency_id="arena_admin_poll",
    )  # fmt: skip
    room.open_voting.click(lambda e: ctl.set_voting(e, True), [evaluation], tally, api_name="arena_open_voting")
    room.close_voting.click(lambda e: ctl.set_voting(e, False), [evaluation], tally, api_name="arena_close_voting")
    room.raters.select(ctl.pick, None, [room.release_name], queue=False)
    room.release.click(
        ctl.release,
        [evaluation, room.release_name],
        [room.release_name, *tally],
        api_name="arena_release_name",
        validator=refusals(ctl.check_release, at=1),  # a blank name: said next to the name box
    )
    room.apply_settings.click(ctl.apply_settings, [evaluation, *settings], tally, api_name="arena_room_settings")
