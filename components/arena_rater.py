"""The rater's view: join with a name and a code, see a prompt and two anonymous answers,
vote, then see who was who. Nothing here receives a model name before the vote."""

from __future__ import annotations

import time
from functools import partial

import gradio as gr

from components.ui_errors import user_errors
from playground.arena.service import WINNERS, BattleView, LiveView, Reveal
from playground.services import Services

REASONS = ["More accurate", "More helpful", "Clearer", "Better follows the instructions", "Shorter / to the point", "Safer", "Better style"]
ACCEPT_CHOICES = ["Yes", "No"]
VOTE_BUTTONS = (("a", "A is better"), ("b", "B is better"), ("tie", "Tie (equally good)"), ("bothbad", "Both bad"))
# Rater events are a few short database reads and one INSERT: they skip Gradio's queue (so a
# room of raters is never queued behind a generation) and run on the server's thread pool.
RATER_EVENTS = {"queue": False}


def _accept(value: str | None) -> bool | None:
    return None if value not in ACCEPT_CHOICES else value == "Yes"


def _reveal_text(reveal: Reveal) -> str:
    chosen = WINNERS[reveal.winner]
    note = " (your vote had already been counted; it was not counted twice)" if reveal.already_counted else ""
    return f"### Revealed\n**A** was **{reveal.label_a}** · **B** was **{reveal.label_b}** — you chose: {chosen}{note}.\n\nPress **Next battle** to go on."


def build_rater_view(services: Services) -> dict:
    arena = services.arena
    session = gr.State(None)  # {"rater_id", "evaluation_id", "name"}: stays on the server
    current = gr.State(None)  # {"token", "served"}: an opaque battle id, never sent to the browser

    with gr.Group(elem_id="arena-join"):
        with gr.Row():
            name = gr.Textbox(label="Your name", placeholder="e.g. Sam", elem_id="arena-name", scale=2)
            code = gr.Textbox(label="Join code", placeholder="e.g. K7P2QX", elem_id="arena-code", scale=1)
            join = gr.Button("Join", variant="primary", elem_id="arena-join-btn", scale=1)
    status = gr.Markdown("Type your name and the join code, then press **Join**.", elem_id="arena-status")
    last_prompt = gr.State("")  # the rater's last live prompt, for “Try another pair”
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
    prompt = gr.Markdown(elem_id="arena-prompt")
    with gr.Row(equal_height=True):
        with gr.Column():
            text_a = gr.Textbox(label="Answer A", lines=10, max_lines=30, interactive=False, elem_id="arena-answer-a")
            accept_a = gr.Radio(ACCEPT_CHOICES, label="Is A acceptable? (optional)", elem_id="arena-accept-a")
        with gr.Column():
            text_b = gr.Textbox(label="Answer B", lines=10, max_lines=30, interactive=False, elem_id="arena-answer-b")
            accept_b = gr.Radio(ACCEPT_CHOICES, label="Is B acceptable? (optional)", elem_id="arena-accept-b")
    with gr.Row():
        buttons = {choice: gr.Button(label, interactive=False, elem_id=f"arena-vote-{choice}") for choice, label in VOTE_BUTTONS}
    with gr.Accordion("Why? (optional)", open=False):
        reasons = gr.CheckboxGroup(REASONS, label="Reasons", elem_id="arena-reasons")
        comment = gr.Textbox(label="Comment", lines=2, elem_id="arena-comment")
    reveal = gr.Markdown(elem_id="arena-reveal")
    next_btn = gr.Button("Next battle", interactive=False, elem_id="arena-next")

    vote_buttons = list(buttons.values())

    def battle_outputs(view: BattleView | None, joined: dict | None):
        if view is None:
            done = "You have rated every battle that is ready — thank you! Press **Next battle** later to check for more."
            locked = [gr.update(interactive=False)] * len(vote_buttons)
            return [None, done, "", "", "", None, None, [], "", "", *locked, gr.update(interactive=True)]
        who = f"Rating as **{joined['name']}** · " if joined else ""
        unlocked = [gr.update(interactive=True)] * len(vote_buttons)
        return [
            {"token": view.token, "served": time.time()},
            f"{who}battle {view.number} of {view.total}",
            f"### Prompt\n\n{view.prompt}",
            view.text_a,
            view.text_b,
            None,
            None,
            [],
            "",
            "",
            *unlocked,
            gr.update(interactive=False),
        ]

    battle_targets = [current, status, prompt, text_a, text_b, accept_a, accept_b, reasons, comment, reveal, *vote_buttons, next_btn]

    def live_outputs(view: LiveView):
        """One step of a live battle: voting stays locked until the pair is a battle."""
        votable = view.token is not None
        return [
            {"token": view.token, "served": time.time()} if votable else None,
            view.message,
            f"### Your prompt\n\n{view.prompt}",
            view.text_a,
            view.text_b,
            None,
            None,
            [],
            "",
            "",
            *[gr.update(interactive=votable)] * len(vote_buttons),
            gr.update(interactive=view.finished),
            gr.update(interactive=view.finished),
            gr.update(interactive=view.finished),
            view.prompt,
        ]

    live_targets = [*battle_targets, ask, another, last_prompt]

    @user_errors
    def do_join(typed_name: str, typed_code: str, request: gr.Request):
        username = getattr(request, "username", None) if request is not None else None
        joined = arena.join(typed_code, typed_name, username)
        return [joined, *battle_outputs(arena.next_battle(joined), joined), gr.update(visible=arena.live_enabled(joined))]

    @user_errors
    def do_next(joined: dict | None):
        return battle_outputs(arena.next_battle(joined), joined)

    @user_errors
    def do_ask(typed: str, joined: dict | None):
        for view in arena.ask_live(joined, typed):
            yield live_outputs(view)

    @user_errors
    def do_retry(asked: str, joined: dict | None):
        if not asked:
            raise gr.Error("Ask a prompt first.", print_exception=False)
        for view in arena.ask_live(joined, asked):
            yield live_outputs(view)

    @user_errors
    def do_vote(choice: str, joined: dict | None, shown: dict | None, acc_a: str | None, acc_b: str | None, why: list[str], note: str):
        if not shown:
            raise gr.Error("There is no battle on screen. Press “Next battle”.", print_exception=False)
        seconds = time.time() - float(shown.get("served") or time.time())
        result = arena.vote(joined, shown.get("token"), choice, _accept(acc_a), _accept(acc_b), why or [], note or "", seconds)
        locked = [gr.update(interactive=False)] * len(vote_buttons)
        return [_reveal_text(result), *locked, gr.update(interactive=True)]

    rater_events = RATER_EVENTS
    join.click(do_join, [name, code], [session, *battle_targets, live_box], api_name="arena_join", **rater_events)
    next_btn.click(do_next, [session], battle_targets, api_name="arena_next", **rater_events)
    for choice, button in buttons.items():
        button.click(
            partial(do_vote, choice),
            [session, current, accept_a, accept_b, reasons, comment],
            [reveal, *vote_buttons, next_btn],
            api_name=f"arena_vote_{choice}",
            trigger_mode="once",
            **rater_events,
        )

    # Live answers stream through the queue, with no limit: each model has its own copies and
    # locks in the registry, so one rater's generation never holds up another rater's events.
    live_events = {"concurrency_limit": None, "trigger_mode": "once", "show_progress": "hidden"}
    ask.click(do_ask, [live_prompt, session], live_targets, api_name="arena_live_ask", **live_events)
    another.click(do_retry, [last_prompt, session], live_targets, api_name="arena_live_retry", **live_events)

    def prefill(request: gr.Request):
        """A shared link may carry ?code=XXXXXX; a login (--auth) names the rater."""
        params = dict(getattr(request, "query_params", {}) or {})
        username = getattr(request, "username", None)
        name_update = gr.update(value=username, interactive=False) if username else gr.update()
        code_update = gr.update(value=str(params["code"]).upper()) if params.get("code") else gr.update()
        return name_update, code_update

    return {"session": session, "name": name, "code": code, "prefill": prefill}
