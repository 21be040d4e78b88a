"""The rater's view: join with a name and a code, see a prompt and two anonymous answers,
vote, then see who was who. Nothing here receives a model name before the vote."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr

from components.tab import Event, TabHandle
from components.ui_errors import user_errors
from components.widgets import GENERATION_EVENTS
from playground.arena.service import WINNERS, ArenaService, BattleView, LiveView, Reveal
from playground.rendering import inert_inline, inert_markdown
from playground.services import Services

REASONS = [
    "More accurate",
    "More helpful",
    "Clearer",
    "Better follows the instructions",
    "Shorter / to the point",
    "Safer",
    "Better style",
]
ACCEPT_CHOICES = ["Yes", "No"]
VOTE_BUTTONS = (("a", "A is better"), ("b", "B is better"), ("tie", "Tie (equally good)"), ("bothbad", "Both bad"))
ALL_RATED = "You have rated every battle that is ready — thank you! Press **Next battle** later to check for more."
# Rater events are a few short database reads and one INSERT: they skip Gradio's queue (so a
# room of raters is never queued behind a generation) and run on the server's thread pool.
RATER_EVENTS: dict[str, Any] = {"queue": False}
# Live answers stream through the queue in the shared generation group (at most
# `generation_concurrency` answering at once, app-wide); each rater is further held to
# `live_asks_in_flight` / `live_asks_per_minute` by the service, so one cannot starve the room.
LIVE_EVENTS: dict[str, Any] = {**GENERATION_EVENTS, "trigger_mode": "once", "show_progress": "hidden"}


@dataclass
class RaterView:
    session: gr.State  # {"rater_id", "evaluation_id", "name"}: stays on the server
    current: gr.State  # {"token", "served"}: an opaque battle id, never sent to the browser
    last_prompt: gr.State  # the rater's last live prompt, for “Try another pair”
    name: gr.Textbox
    code: gr.Textbox
    join: gr.Button
    status: gr.Markdown
    live_box: gr.Group
    live_prompt: gr.Textbox
    ask: gr.Button
    another: gr.Button
    prompt: gr.Markdown
    text_a: gr.Textbox
    accept_a: gr.Radio
    text_b: gr.Textbox
    accept_b: gr.Radio
    vote_buttons: dict[str, gr.Button]
    reasons: gr.CheckboxGroup
    comment: gr.Textbox
    reveal: gr.Markdown
    next_btn: gr.Button

    @property
    def battle_targets(self) -> list[Any]:
        """What showing a battle updates: ``_battle_outputs`` returns one value for each."""
        return [
            self.current,
            self.status,
            self.prompt,
            self.text_a,
            self.text_b,
            self.accept_a,
            self.accept_b,
            self.reasons,
            self.comment,
            self.reveal,
            *self.vote_buttons.values(),
            self.next_btn,
        ]

    @property
    def live_targets(self) -> list[Any]:
        return [*self.battle_targets, self.ask, self.another, self.last_prompt]


def _join_layout() -> tuple[gr.Textbox, gr.Textbox, gr.Button, gr.Markdown]:
    with gr.Group(elem_id="arena-join"):
        with gr.Row():
            name = gr.Textbox(label="Your name", placeholder="e.g. Sam", elem_id="arena-name", scale=2)
            code = gr.Textbox(label="Join code", placeholder="e.g. K7P2QX", elem_id="arena-code", scale=1)
            join = gr.Button("Join", variant="primary", elem_id="arena-join-btn", scale=1)
    status = gr.Markdown("Type your name and the join code, then press **Join**.", elem_id="arena-status")
    return name, code, join, status


def _live_layout() -> tuple[gr.Group, gr.Textbox, gr.Button, gr.Button]:
    with gr.Group(visible=False, elem_id="arena-live") as live_box:
        live_prompt = gr.Textbox(
            label="Ask your own prompt: two models drawn at random answer it as A and B; you vote when both have finished",
            lines=3,
            max_lines=12,
            elem_id="arena-live-prompt",
        )
        with gr.Row():
            ask = gr.Button("Ask", variant="primary", elem_id="arena-live-ask")
            another = gr.Button("Try another pair", interactive=False, elem_id="arena-live-retry")
    return live_box, live_prompt, ask, another


def _answer_column(side: str) -> tuple[gr.Textbox, gr.Radio]:
    with gr.Column():
        text = gr.Textbox(
            label=f"Answer {side}", lines=10, max_lines=30, interactive=False, elem_id=f"arena-answer-{side.lower()}"
        )
        accept = gr.Radio(
            ACCEPT_CHOICES, label=f"Is {side} acceptable? (optional)", elem_id=f"arena-accept-{side.lower()}"
        )
    return text, accept


def rater_layout() -> RaterView:
    session, current = gr.State(None), gr.State(None)
    name, code, join, status = _join_layout()
    last_prompt = gr.State("")
    live_box, live_prompt, ask, another = _live_layout()
    prompt = gr.Markdown(elem_id="arena-prompt")
    with gr.Row(equal_height=True):
        text_a, accept_a = _answer_column("A")
        text_b, accept_b = _answer_column("B")
    with gr.Row():
        vote_buttons = {
            choice: gr.Button(label, interactive=False, elem_id=f"arena-vote-{choice}")
            for choice, label in VOTE_BUTTONS
        }
    with gr.Accordion("Why? (optional)", open=False):
        reasons = gr.CheckboxGroup(REASONS, label="Reasons", elem_id="arena-reasons")
        comment = gr.Textbox(label="Comment", lines=2, elem_id="arena-comment")
    reveal = gr.Markdown(elem_id="arena-reveal")
    next_btn = gr.Button("Next battle", interactive=False, elem_id="arena-next")
    return RaterView(
        session, current, last_prompt, name, code, join, status, live_box, live_prompt, ask, another,
        prompt, text_a, accept_a, text_b, accept_b, vote_buttons, reasons, comment, reveal, next_btn,
    )  # fmt: skip


# ---- formatting --------------------------------------------------------------------------
def _accept(value: str | None) -> bool | None:
    return None if value not in ACCEPT_CHOICES else value == "Yes"


def _reveal_text(reveal: Reveal) -> str:
    chosen = WINNERS[reveal.winner]
    note = " (your vote had already been counted; it was not counted twice)" if reveal.already_counted else ""
    a, b = inert_inline(reveal.label_a), inert_inline(reveal.label_b)
    return f"### Revealed\n**A** was **{a}** · **B** was **{b}** — you chose: {chosen}{note}.\n\nPress **Next battle** to go on."


def _on_screen(token: str | None) -> dict | None:
    """The battle on screen, kept server-side: its token and when it was shown (for the vote's timing)."""
    return {"token": token, "served": time.time()} if token is not None else None


def _pair_outputs(
    shown: dict | None, status: str, prompt: str, text_a: str, text_b: str, votable: bool, next_ready: bool
) -> list[Any]:
    """Values for ``RaterView.battle_targets``: a pair on screen with the rater's last choices cleared."""
    votes = [gr.update(interactive=votable)] * len(VOTE_BUTTONS)
    return [shown, status, prompt, text_a, text_b, None, None, [], "", "", *votes, gr.update(interactive=next_ready)]


def _battle_outputs(view: BattleView | None, joined: dict | None) -> list[Any]:
    if view is None:
        return _pair_outputs(None, ALL_RATED, "", "", "", votable=False, next_ready=True)
    who = f"Rating as **{inert_inline(joined['name'])}** · " if joined else ""
    status = f"{who}battle {view.number} of {view.total}"
    return _pair_outputs(
        _on_screen(view.token),
        status,
        f"### Prompt\n\n{inert_markdown(view.prompt)}",
        view.text_a,
        view.text_b,
        votable=True,
        next_ready=False,
    )


def _live_outputs(view: LiveView) -> list[Any]:
    """One step of a live battle: voting stays locked until the pair is a battle."""
    pair = _pair_outputs(
        _on_screen(view.token),
        view.message,
        f"### Your prompt\n\n{inert_markdown(view.prompt)}",
        view.text_a,
        view.text_b,
        votable=view.token is not None,
        next_ready=view.finished,
    )
    return [*pair, gr.update(interactive=view.finished), gr.update(interactive=view.finished), view.prompt]


class RaterController:
    """The rater's handlers: each calls one ArenaService method and formats what it returns."""

    def __init__(self, arena: ArenaService):
        self.arena = arena

    @user_errors
    def join(self, typed_name: str, typed_code: str, request: gr.Request):
        username = getattr(request, "username", None) if request is not None else None
        joined = self.arena.join(typed_code, typed_name, username)
        return [
            joined,
            *_battle_outputs(self.arena.next_battle(joined), joined),
            gr.update(visible=self.arena.live_enabled(joined)),
        ]

    @user_errors
    def next_battle(self, joined: dict | None):
        return _battle_outputs(self.arena.next_battle(joined), joined)

    @user_errors
    def ask(self, typed: str, joined: dict | None):
        for view in self.arena.ask_live(joined, typed):
            yield _live_outputs(view)

    @user_errors
    def ask_again(self, asked: str, joined: dict | None):
        if not asked:
            raise gr.Error("Ask a prompt first.", print_exception=False)
        for view in self.arena.ask_live(joined, asked):
            yield _live_outputs(view)

    @user_errors
    def vote(
        self,
        choice: str,
        joined: dict | None,
        shown: dict | None,
        acc_a: str | None,
        acc_b: str | None,
        why: list[str],
        note: str,
    ):
        if not shown:
            raise gr.Error("There is no battle on screen. Press “Next battle”.", print_exception=False)
        seconds = time.time() - float(shown.get("served") or time.time())
        result = self.arena.vote(
            joined, shown.get("token"), choice, _accept(acc_a), _accept(acc_b), why or [], note or "", seconds
        )
        locked = [gr.update(interactive=False)] * len(VOTE_BUTTONS)
        return [_reveal_text(result), *locked, gr.update(interactive=True)]

    def prefill(self, request: gr.Request):
        """A shared link may carry ?code=XXXXXX; a login (--auth) names the rater."""
        params = dict(getattr(request, "query_params", {}) or {})
        username = getattr(request, "username", None)
        name_update = gr.update(value=username, interactive=False) if username else gr.update()
        code_update = gr.update(value=str(params["code"]).upper()) if params.get("code") else gr.update()
        return name_update, code_update


def build_rater_view(services: Services) -> TabHandle:
    """The rater view, wired; its ``on_load`` fills the name and code from the page's link."""
    view = rater_layout()
    rater = RaterController(services.arena)
    view.join.click(
        rater.join,
        [view.name, view.code],
        [view.session, *view.battle_targets, view.live_box],
        api_name="arena_join",
        **RATER_EVENTS,
    )
    view.next_btn.click(rater.next_battle, [view.session], view.battle_targets, api_name="arena_next", **RATER_EVENTS)
    vote_inputs = [view.session, view.current, view.accept_a, view.accept_b, view.reasons, view.comment]
    vote_outputs = [view.reveal, *view.vote_buttons.values(), view.next_btn]
    for choice, button in view.vote_buttons.items():
        button.click(
            partial(rater.vote, choice),
            vote_inputs,
            vote_outputs,
            api_name=f"arena_vote_{choice}",
            trigger_mode="once",
            **RATER_EVENTS,
        )
    view.ask.click(
        rater.ask, [view.live_prompt, view.session], view.live_targets, api_name="arena_live_ask", **LIVE_EVENTS
    )
    view.another.click(
        rater.ask_again, [view.last_prompt, view.session], view.live_targets, api_name="arena_live_retry", **LIVE_EVENTS
    )
    return TabHandle(on_load=[Event(rater.prefill, [], [view.name, view.code], api_name="arena_prefill")])
