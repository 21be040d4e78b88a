"""The rater's view: join with a name and a code, see a prompt and two anonymous answers,
vote; the names come when the evaluation's reveal policy allows (by default after the rater's
last battle, with a summary of their own votes). Nothing here receives a model name earlier.

Join hands back a secret that stays in the browser (``gr.BrowserState``): a reload, or the tab
closed and opened again, resumes the same rater on the same battle."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr

from components.arena_rater_format import all_rated, none_left_status, summary_markdown, vote_text, winner_words
from components.i18n import L, say, text
from components.tab import Event, TabHandle
from components.ui_errors import refusals, refused_at, toast_text, user_errors
from components.widgets import GENERATION_EVENTS
from playground.arena import live
from playground.arena.service import ArenaService, BattleView, LiveView
from playground.errors import UserFacingError
from playground.rendering import inert_inline, inert_markdown
from playground.services import Services

# Choice values stay English (they are stored with the vote); the labels follow the reader's language.
REASONS = [
    "More accurate",
    "More helpful",
    "Clearer",
    "Better follows the instructions",
    "Shorter / to the point",
    "Safer",
    "Better style",
]
REASON_KEYS = (
    "arena.reason_accurate",
    "arena.reason_helpful",
    "arena.reason_clearer",
    "arena.reason_instructions",
    "arena.reason_shorter",
    "arena.reason_safer",
    "arena.reason_style",
)
ACCEPT_CHOICES = ["Yes", "No"]
VOTE_BUTTONS = (("a", "A is better"), ("b", "B is better"), ("tie", "Tie (equally good)"), ("bothbad", "Both bad"))
VOTE_KEYS = {"a": "arena.vote_a", "b": "arena.vote_b", "tie": "arena.vote_tie", "bothbad": "arena.vote_bothbad"}
# Where the browser keeps the rater's secret. The key and the encryption secret are fixed so a
# restarted app still reads what browsers hold; the rater secret inside is the credential.
RATER_STORAGE_KEY = "playground-arena-rater"
BROWSER_STATE_SECRET = "playground-arena-v1"
# Rater events are a few short database reads and one INSERT: they skip Gradio's queue (so a
# room of raters is never queued behind a generation) and run on the server's thread pool.
RATER_EVENTS: dict[str, Any] = {"queue": False}
# Join goes through the queue, because only queued events run their validator (a blank name or
# code is then said next to its box); it has a group of its own with no limit, so joins still
# never wait behind a generation.
JOIN_EVENTS: dict[str, Any] = {"queue": True, "concurrency_id": "arena_join", "concurrency_limit": None}
# Live answers stream through the queue in the shared generation group (at most
# `generation_concurrency` answering at once, app-wide); each rater is further held to
# `live_asks_in_flight` / `live_asks_per_minute` by the service, so one cannot starve the room.
LIVE_EVENTS: dict[str, Any] = {**GENERATION_EVENTS, "trigger_mode": "once", "show_progress": "hidden"}


@dataclass
class RaterView:
    session: gr.State  # {"rater_id", "evaluation_id", "name", "secret"}: stays on the server
    held: gr.BrowserState  # the rater's secret, kept in this browser to resume after a reload
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
    summary: gr.Markdown

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
            self.summary,
        ]

    @property
    def live_targets(self) -> list[Any]:
        return [*self.battle_targets, self.ask, self.another, self.last_prompt]


def _join_layout() -> tuple[gr.Textbox, gr.Textbox, gr.Button, gr.Markdown]:
    with gr.Group(elem_id="arena-join"):
        with gr.Row():
            name = gr.Textbox(
                label=L("arena.rater_name"),
                placeholder=L("arena.rater_name_placeholder"),
                elem_id="arena-name",
                scale=2,
            )
            code = gr.Textbox(
                label=L("arena.join_code"), placeholder=L("arena.join_code_placeholder"), elem_id="arena-code", scale=1
            )
            join = gr.Button(L("arena.join_button"), variant="primary", elem_id="arena-join-btn", scale=1)
    status = gr.Markdown(L("arena.join_help"), elem_id="arena-status")
    return name, code, join, status


def _live_layout() -> tuple[gr.Group, gr.Textbox, gr.Button, gr.Button]:
    with gr.Group(visible=False, elem_id="arena-live") as live_box:
        live_prompt = gr.Textbox(
            label=L("arena.live_prompt_label"),
            lines=3,
            max_lines=12,
            elem_id="arena-live-prompt",
        )
        with gr.Row():
            ask = gr.Button(L("arena.ask_button"), variant="primary", elem_id="arena-live-ask")
            another = gr.Button(L("arena.another_pair"), interactive=False, elem_id="arena-live-retry")
    return live_box, live_prompt, ask, another


def _answer_column(side: str) -> tuple[gr.Textbox, gr.Radio]:
    with gr.Column():
        answer_label, accept_label = (
            (L("arena.answer_a"), L("arena.acceptable_a"))
            if side == "A"
            else (L("arena.answer_b"), L("arena.acceptable_b"))
        )
        text = gr.Textbox(
            label=answer_label, lines=10, max_lines=30, interactive=False, elem_id=f"arena-answer-{side.lower()}"
        )
        accept = gr.Radio(
            [(L("arena.yes"), "Yes"), (L("arena.no"), "No")], label=accept_label, elem_id=f"arena-accept-{side.lower()}"
        )
    return text, accept


def rater_layout(storage_key: str = RATER_STORAGE_KEY) -> RaterView:
    session, current = gr.State(None), gr.State(None)
    held = gr.BrowserState(None, storage_key=storage_key, secret=BROWSER_STATE_SECRET)
    name, code, join, status = _join_layout()
    last_prompt = gr.State("")
    live_box, live_prompt, ask, another = _live_layout()
    prompt = gr.Markdown(elem_id="arena-prompt")
    with gr.Row(equal_height=True):
        text_a, accept_a = _answer_column("A")
        text_b, accept_b = _answer_column("B")
    with gr.Row():
        vote_buttons = {
            choice: gr.Button(L(VOTE_KEYS[choice]), interactive=False, elem_id=f"arena-vote-{choice}")
            for choice, _ in VOTE_BUTTONS
        }
    with gr.Accordion(L("arena.why_accordion"), open=False):
        reasons = gr.CheckboxGroup(
            [(L(key), value) for key, value in zip(REASON_KEYS, REASONS)],
            label=L("arena.reasons"),
            elem_id="arena-reasons",
        )
        comment = gr.Textbox(label=L("arena.comment"), lines=2, elem_id="arena-comment")
    reveal = gr.Markdown(elem_id="arena-reveal")
    next_btn = gr.Button(L("arena.next_battle"), interactive=False, elem_id="arena-next")
    summary = gr.Markdown(elem_id="arena-summary")
    return RaterView(
        session, held, current, last_prompt, name, code, join, status, live_box, live_prompt, ask, another,
        prompt, text_a, accept_a, text_b, accept_b, vote_buttons, reasons, comment, reveal, next_btn, summary,
    )  # fmt: skip


# ---- formatting --------------------------------------------------------------------------
def _accept(value: str | None) -> bool | None:
    return None if value not in ACCEPT_CHOICES else value == "Yes"


def _on_screen(token: str | None) -> dict | None:
    """The battle on screen, kept server-side: its token and when it was shown (for the vote's timing)."""
    return {"token": token, "served": time.time()} if token is not None else None


def _pair_outputs(
    shown: dict | None,
    status: str,
    prompt: str,
    text_a: str,
    text_b: str,
    votable: bool,
    next_ready: bool,
    summary: str = "",
) -> list[Any]:
    """Values for ``RaterView.battle_targets``: a pair on screen with the rater's last choices cleared."""
    votes = [gr.update(interactive=votable)] * len(VOTE_BUTTONS)
    next_update = gr.update(interactive=next_ready)
    return [shown, status, prompt, text_a, text_b, None, None, [], "", "", *votes, next_update, summary]


def _battle_outputs(view: BattleView | None, joined: dict | None, summary: Any = None) -> list[Any]:
    if view is None:
        status, table = (none_left_status(summary), summary_markdown(summary)) if summary else (all_rated(), "")
        finished = summary is not None and summary.available
        return _pair_outputs(None, status, "", "", "", votable=False, next_ready=not finished, summary=table)
    status = (
        text("arena.rating_as", name=inert_inline(joined["name"]), number=view.number, total=view.total)
        if joined
        else text("arena.battle_number", number=view.number, total=view.total)
    )
    return _pair_outputs(
        _on_screen(view.token),
        status,
        f"{text('arena.prompt_heading')}\n\n{inert_markdown(view.prompt)}",
        view.text_a,
        view.text_b,
        votable=True,
        next_ready=False,
    )


def _answer_shown(answer: str) -> str:
    """A live answer box: the service's stand-ins for a failed or hidden answer, in the reader's language."""
    if answer == live.FAILED_TEXT:
        return text("arena.live_failed_text")
    if answer == live.EXCLUDED_TEXT:
        return text("arena.live_excluded_text")
    return answer


def _live_outputs(view: LiveView) -> list[Any]:
    """One step of a live battle: voting stays locked until the pair is a battle."""
    pair = _pair_outputs(
        _on_screen(view.token),
        say(view.said) if view.said is not None else view.message,
        f"{text('arena.your_prompt_heading')}\n\n{inert_markdown(view.prompt)}",
        _answer_shown(view.text_a),
        _answer_shown(view.text_b),
        votable=view.token is not None,
        next_ready=view.finished,
    )
    return [*pair, gr.update(interactive=view.finished), gr.update(interactive=view.finished), view.prompt]


def _client_address(request: gr.Request | None) -> str | None:
    client = getattr(request, "client", None) if request is not None else None
    return getattr(client, "host", None)


class RaterController:
    """The rater's handlers: each calls one ArenaService method and formats what it returns."""

    def __init__(self, arena: ArenaService, entered_width: int = 0):
        self.arena = arena
        self.entered_width = entered_width  # how many outputs ``_entered`` fills (for the resume's "no change")

    def _battle(self, joined: dict | None) -> list[Any]:
        view = self.arena.next_battle(joined)
        return _battle_outputs(view, joined, self.arena.rater_summary(joined) if view is None else None)

    def _entered(self, joined: dict) -> list[Any]:
        """What joining or resuming shows: the session, the rater's battle, live asks, the secret kept."""
        return [joined, *self._battle(joined), gr.update(visible=self.arena.live_enabled(joined)), joined.get("secret")]

    # ---- checks: refusals shown next to the input before the work runs (see ui_errors.refusals) ----
    def check_join(self, typed_name: str | None, typed_code: str | None, current: dict | None) -> None:
        """A blank code or name, in the order ``join`` refuses them. With ``--auth`` the name box
        holds the login (filled on load), so the name check holds for a login rater too."""
        with refused_at(1):
            self.arena.check_join_code(typed_code)
        with refused_at(0):
            self.arena.check_join_name(typed_name)

    def check_ask(self, typed: str | None, joined: dict | None) -> None:
        self.arena.check_live_prompt(typed)

    @user_errors
    def join(self, typed_name: str, typed_code: str, current: dict | None, request: gr.Request):
        """``current``: the session this page already has (joined, or resumed from the browser's
        secret on load), whose secret lets the same person join again under their name."""
        username = getattr(request, "username", None) if request is not None else None
        secret = (current or {}).get("secret") or None
        joined = self.arena.join(typed_code, typed_name, username, secret=secret, client=_client_address(request))
        return self._entered(joined)

    @user_errors
    def resume(self, held: str | None, request: gr.Request):
        """On page load: the link's code and the login fill the form; a secret this browser holds
        brings its rater back, on the battle they had on screen."""
        name_update, code_update = self._prefill(request)
        try:
            joined = self.arena.resume(held, client=_client_address(request)) if held else None
        except UserFacingError as err:  # voting closed meanwhile, a join limit: say so, keep the form
            gr.Warning(toast_text(say(err)))
            joined = None
        if joined is None:  # nothing to resume (or a released name): the join form, as on a first visit
            return [name_update, code_update, *[gr.skip()] * self.entered_width]
        shown_name = (
            gr.update(value=joined.get("name") or "") if not getattr(request, "username", None) else name_update
        )
        return [shown_name, code_update, *self._entered(joined)]

    @user_errors
    def next_battle(self, joined: dict | None):
        return self._battle(joined)

    @user_errors
    def ask(self, typed: str, joined: dict | None):
        for view in self.arena.ask_live(joined, typed):
            yield _live_outputs(view)

    @user_errors
    def ask_again(self, asked: str, joined: dict | None):
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
        # No battle on screen (its buttons are locked then, so only an API call gets here): the
        # service refuses a missing token. Votes stay off the queue, so they have no validator.
        shown = shown or {}
        seconds = time.time() - float(shown.get("served") or time.time())
        result = self.arena.vote(
            joined, shown.get("token"), choice, _accept(acc_a), _accept(acc_b), why or [], note or "", seconds
        )
        locked = [gr.update(interactive=False)] * len(VOTE_BUTTONS)
        finished = bool(getattr(result, "finished", False))
        summary = summary_markdown(self.arena.rater_summary(joined)) if finished else ""
        return [vote_text(result, winner_words(result.winner)), *locked, gr.update(interactive=not finished), summary]

    @staticmethod
    def _prefill(request: gr.Request | None) -> tuple[Any, Any]:
        """A shared link may carry ?code=XXXXXX; a login (--auth) names the rater."""
        params = dict(getattr(request, "query_params", {}) or {})
        username = getattr(request, "username", None)
        name_update = gr.update(value=username, interactive=False) if username else gr.update()
        code_update = gr.update(value=str(params["code"]).strip().upper()) if params.get("code") else gr.update()
        return name_update, code_update


def build_rater_view(services: Services, storage_key: str = RATER_STORAGE_KEY) -> TabHandle:
    """The rater view, wired; its ``on_load`` fills the name and code from the page's link and
    resumes the rater this browser holds the secret of."""
    view = rater_layout(storage_key)
    entered = [view.session, *view.battle_targets, view.live_box, view.held]
    rater = RaterController(services.arena, entered_width=len(entered))
    view.join.click(
        rater.join,
        [view.name, view.code, view.session],
        entered,
        api_name="arena_join",
        validator=refusals(rater.check_join),
        **JOIN_EVENTS,
    )
    view.next_btn.click(rater.next_battle, [view.session], view.battle_targets, api_name="arena_next", **RATER_EVENTS)
    vote_inputs = [view.session, view.current, view.accept_a, view.accept_b, view.reasons, view.comment]
    vote_outputs = [view.reveal, *view.vote_buttons.values(), view.next_btn, view.summary]
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
        rater.ask,
        [view.live_prompt, view.session],
        view.live_targets,
        api_name="arena_live_ask",
        validator=refusals(rater.check_ask),
        **LIVE_EVENTS,
    )
    view.another.click(
        rater.ask_again, [view.last_prompt, view.session], view.live_targets, api_name="arena_live_retry", **LIVE_EVENTS
    )
    return TabHandle(
        on_load=[Event(rater.resume, [view.held], [view.name, view.code, *entered], api_name="arena_resume")]
    )
