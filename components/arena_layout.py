"""The Arena tab's widgets, section by section (the handlers are in components.arena_tab)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from components.arena_rater import build_rater_view
from components.arena_room import RoomSection, room_section
from components.i18n import L
from components.language_widgets import demo_language_choice, language_note, wire_language_note
from components.run_estimates import estimate_widgets
from components.tab import TabHandle
from components.widgets import model_picker
from playground.arena import report
from playground.arena.service import LEAK_ACTIONS, REVEAL_POLICIES
from playground.services import Services

# Dataframe headers by catalogue key: the handlers filling a table render them in the reader's
# language; the page is built with the English ones.
TALLY_HEADER_KEYS = ("arena.head_rater", "arena.head_votes")
FLAGGED_HEADER_KEYS = ("arena.head_question", "arena.head_model", "arena.head_names_found", "arena.head_answer_starts")
TALLY_HEADERS = report.headers(TALLY_HEADER_KEYS)
FLAGGED_HEADERS = report.headers(FLAGGED_HEADER_KEYS)
# Choice labels by value (catalogue keys): L() is called while the page is built, so the page
# carries these texts.
LEAK_KEYS = {"redact": "arena.leak_redact", "exclude": "arena.leak_exclude"}
POLICY_KEYS = {
    "after_last": "arena.policy_after_last",
    "after_each": "arena.policy_after_each",
    "never": "arena.policy_never",
}


def leak_choices() -> list[tuple]:
    return [(L(LEAK_KEYS[action]) if action in LEAK_KEYS else action, action) for action in LEAK_ACTIONS]


def policy_choices() -> list[tuple]:
    return [(L(POLICY_KEYS[key]) if key in POLICY_KEYS else label, key) for key, label in REVEAL_POLICIES.items()]


@dataclass
class EvaluationBar:
    evaluation: gr.Dropdown
    refresh: gr.Button
    delete: gr.Button
    info: gr.Markdown


@dataclass
class SetupSection:
    name: gr.Textbox
    prompts_text: gr.Textbox
    prompts_file: gr.File
    from_compare: gr.Button
    demo_prompts: gr.Button
    demo_language: gr.Radio
    models: gr.Dropdown
    max_tokens: gr.Slider
    temperature: gr.Slider
    seed: gr.Number
    system_prompt: gr.Textbox
    leak_words: gr.Textbox
    leak_action: gr.Radio
    repeat_fraction: gr.Slider
    pairs_per_prompt: gr.Number
    live_on: gr.Checkbox
    reveal_policy: gr.Dropdown
    reveal_note: gr.Markdown
    votes_per_battle: gr.Number
    live_cap: gr.Number
    show_together: gr.Checkbox
    create: gr.Button
    generate: gr.Button
    stop: gr.Button
    progress: gr.Markdown  # pre-generation progress, where Generate was pressed
    estimate: gr.Button  # pre-generation's cost and time estimate (components.run_estimates)
    estimate_info: gr.Markdown

    @property
    def create_inputs(self) -> list[gr.components.Component]:
        """The inputs of ``ArenaController.create``, in its order (the room options last, so
        API callers that predate them still work)."""
        return [
            self.name, self.prompts_text, self.prompts_file, self.models, self.max_tokens, self.temperature, self.seed,
            self.system_prompt, self.leak_words, self.leak_action, self.repeat_fraction, self.pairs_per_prompt, self.live_on,
            self.reveal_policy, self.votes_per_battle, self.live_cap, self.show_together,
        ]  # fmt: skip

    @property
    def reveal_inputs(self) -> list[gr.components.Component]:
        """What decides whether "after each vote" is safe: ``ArenaController.reveal_note``'s inputs."""
        return [
            self.reveal_policy, self.prompts_text, self.prompts_file, self.models,
            self.pairs_per_prompt, self.repeat_fraction, self.live_on,
        ]  # fmt: skip


@dataclass
class ProgressSection:
    progress: gr.Markdown
    tally: gr.Dataframe
    flagged: gr.Dataframe
    policy: gr.Radio
    more_words: gr.Textbox
    apply_policy: gr.Button
    live_toggle: gr.Checkbox
    apply_live: gr.Button
    timer: gr.Timer


@dataclass
class LeaderboardSection:
    button: gr.Button
    summary: gr.Markdown
    board: gr.Dataframe
    ratings: gr.Plot
    win_rates: gr.Plot
    counts: gr.Plot
    latency: gr.Plot
    cost: gr.Plot

    @property
    def outputs(self) -> list[gr.components.Component]:
        return [self.summary, self.board, self.ratings, self.win_rates, self.counts, self.latency, self.cost]


@dataclass
class AgreementSection:
    button: gr.Button
    summary: gr.Markdown
    pairs: gr.Dataframe
    raters: gr.Dataframe


@dataclass
class FilesSection:
    report_button: gr.Button
    export_format: gr.Radio
    export_button: gr.Button
    files: gr.File
    import_file: gr.File
    import_name: gr.Textbox
    import_button: gr.Button


@dataclass
class ArenaLayout:
    bar: EvaluationBar
    setup: SetupSection
    progress: ProgressSection
    leaderboard: LeaderboardSection
    agreement: AgreementSection
    files: FilesSection
    rater: TabHandle
    room: RoomSection
    room_tab: gr.Tab
    other_tabs: list[gr.Tab]


def evaluation_bar(choices: list[tuple[str, int]]) -> EvaluationBar:
    with gr.Row():
        # Custom values allowed: evaluations created after this page was built are still valid picks.
        evaluation = gr.Dropdown(
            label=L("arena.evaluation"),
            choices=choices,
            value=None,
            allow_custom_value=True,
            elem_id="arena-evaluation",
            scale=4,
        )
        refresh = gr.Button(L("arena.refresh_list"), scale=1)
        delete = gr.Button(L("arena.delete_evaluation"), variant="stop", scale=1, elem_id="arena-delete")
    return EvaluationBar(evaluation, refresh, delete, gr.Markdown(elem_id="arena-info"))


def setup_section(services: Services) -> SetupSection:
    name = gr.Textbox(
        label=L("arena.evaluation_name"), placeholder=L("arena.evaluation_name_placeholder"), elem_id="arena-eval-name"
    )
    with gr.Row():
        prompts_text = gr.Textbox(
            label=L("arena.prompts"),
            lines=8,
            elem_id="arena-prompts",
            scale=3,
        )
        with gr.Column(scale=2):
            prompts_file = gr.File(
                label=L("arena.prompts_file"),
                file_types=[".csv", ".jsonl", ".json", ".txt"],
                type="filepath",
            )
            from_compare = gr.Button(L("arena.from_compare"))
            with gr.Row():
                demo_prompts = gr.Button(L("arena.demo_prompts"), elem_id="arena-demo-prompts")
                demo_language = demo_language_choice("arena-demo-language")
    models = model_picker(services, L("arena.models"), multiselect=True, use_default=False, elem_id="arena-models")
    wire_language_note(services, language_note("arena-language-note"), [prompts_text], [models])
    with gr.Row():
        cap = services.settings.max_tokens  # the server lowers anything above it anyway
        max_tokens = gr.Slider(8, cap, value=min(256, cap), step=8, label=L("arena.max_tokens"))
        temperature = gr.Slider(0.0, 2.0, value=0.7, step=0.05, label=L("arena.temperature"))
        seed = gr.Number(value=-1, precision=0, label=L("arena.seed"))
    system_prompt = gr.Textbox(label=L("arena.system_prompt"), lines=2)
    with gr.Row():
        leak_words = gr.Textbox(
            label=L("arena.leak_words"),
            placeholder=L("arena.leak_words_placeholder"),
            scale=3,
        )
        leak_action = gr.Radio(leak_choices(), value="redact", label=L("arena.leak_action"), scale=2)
    with gr.Row():
        repeat_fraction = gr.Slider(0.0, 0.5, value=0.1, step=0.05, label=L("arena.repeat_fraction"))
        pairs_per_prompt = gr.Number(value=0, precision=0, label=L("arena.pairs_per_prompt"))
    live_on = gr.Checkbox(
        value=False,
        label=L("arena.live_on"),
        elem_id="arena-live-on",
    )
    reveal_policy, reveal_note, votes_per_battle, live_cap, show_together = _room_options()
    create = gr.Button(L("arena.create_evaluation"), variant="primary", elem_id="arena-create")
    with gr.Row():
        generate = gr.Button(L("arena.generate"), variant="primary", elem_id="arena-generate")
        stop = gr.Button(L("arena.stop_generating"), elem_id="arena-stop")
        estimate, estimate_info = estimate_widgets("arena")
    progress = gr.Markdown(elem_id="arena-setup-progress")
    return SetupSection(
        name, prompts_text, prompts_file, from_compare, demo_prompts, demo_language, models, max_tokens, temperature, seed, system_prompt,
        leak_words, leak_action, repeat_fraction, pairs_per_prompt, live_on,
        reveal_policy, reveal_note, votes_per_battle, live_cap, show_together, create, generate, stop, progress,
        estimate, estimate_info,
    )  # fmt: skip


def _room_options() -> tuple[gr.Dropdown, gr.Markdown, gr.Number, gr.Number, gr.Checkbox]:
    """How the room runs: when raters see names, how many votes a battle needs, live caps."""
    with gr.Row():
        reveal_policy = gr.Dropdown(
            policy_choices(),
            value="after_last",
            label=L("arena.reveal_policy"),
            elem_id="arena-reveal-policy",
            scale=2,
        )
        votes_per_battle = gr.Number(
            value=0,
            precision=0,
            minimum=0,
            label=L("arena.votes_per_battle"),
            elem_id="arena-votes-per-battle",
            scale=2,
        )
        live_cap = gr.Number(
            value=0,
            precision=0,
            minimum=0,
            label=L("arena.live_cap_label"),
            elem_id="arena-live-cap",
            scale=1,
        )
    reveal_note = gr.Markdown(elem_id="arena-reveal-note")
    show_together = gr.Checkbox(
        value=True,
        label=L("arena.show_together"),
        elem_id="arena-show-together",
    )
    return reveal_policy, reveal_note, votes_per_battle, live_cap, show_together


def progress_section() -> ProgressSection:
    progress = gr.Markdown(elem_id="arena-progress")
    tally = gr.Dataframe(headers=TALLY_HEADERS, interactive=False, label=L("arena.live_tally"), elem_id="arena-tally")
    with gr.Accordion(L("arena.flagged_accordion"), open=False):
        flagged = gr.Dataframe(headers=FLAGGED_HEADERS, interactive=False, wrap=True)
        with gr.Row():
            policy = gr.Radio(leak_choices(), value="redact", label=L("arena.such_answers_are"))
            more_words = gr.Textbox(label=L("arena.more_words"))
            apply_policy = gr.Button(L("arena.apply"))
    with gr.Row():
        live_toggle = gr.Checkbox(
            value=False,
            label=L("arena.live_toggle"),
            elem_id="arena-live-toggle",
            scale=3,
        )
        apply_live = gr.Button(L("arena.apply_live"), scale=1, elem_id="arena-live-apply")
    return ProgressSection(
        progress, tally, flagged, policy, more_words, apply_policy, live_toggle, apply_live, gr.Timer(2.0)
    )


def leaderboard_section() -> LeaderboardSection:
    button = gr.Button(L("arena.compute_leaderboard"), variant="primary", elem_id="arena-board-btn")
    summary = gr.Markdown()
    board = gr.Dataframe(headers=report.LEADERBOARD_HEADERS, interactive=False, elem_id="arena-board", wrap=True)
    ratings = gr.Plot(label=L("arena.chart_ratings"))
    with gr.Row():
        win_rates = gr.Plot(label=L("arena.chart_win_rates"))
        counts = gr.Plot(label=L("arena.chart_counts"))
    with gr.Row():
        latency = gr.Plot(label=L("arena.chart_latency"))
        cost = gr.Plot(label=L("arena.chart_cost"))
    return LeaderboardSection(button, summary, board, ratings, win_rates, counts, latency, cost)


def agreement_section() -> AgreementSection:
    button = gr.Button(L("arena.compute_agreement"), variant="primary")
    summary = gr.Markdown()
    pairs = gr.Dataframe(headers=report.PAIR_HEADERS, interactive=False, label=L("arena.pairs_table"))
    raters = gr.Dataframe(headers=report.RATER_HEADERS, interactive=False, label=L("arena.raters_table"))
    return AgreementSection(button, summary, pairs, raters)


def files_section() -> FilesSection:
    with gr.Row():
        report_button = gr.Button(L("arena.make_report"))
        export_format = gr.Radio(["jsonl", "csv"], value="jsonl", label=L("arena.export_format"))
        export_button = gr.Button(L("arena.export_votes"))
    files = gr.File(label=L("arena.files"), file_count="multiple", interactive=False)
    gr.Markdown(L("arena.import_help"))
    with gr.Row():
        import_file = gr.File(label=L("arena.vote_file"), file_types=[".jsonl", ".csv", ".json"], type="filepath")
        import_name = gr.Textbox(label=L("arena.import_name"))
        import_button = gr.Button(L("arena.import_button"))
    return FilesSection(report_button, export_format, export_button, files, import_file, import_name, import_button)


def arena_layout(services: Services) -> ArenaLayout:
    bar = evaluation_bar([(str(label), value) for label, value in services.arena.list_evaluations()])
    with gr.Tabs():
        with gr.Tab(L("arena.tab_setup")) as setup_tab:
            setup = setup_section(services)
        with gr.Tab(L("arena.tab_room"), elem_id="arena-room-tab") as room_tab:
            room = room_section()
        with gr.Tab(L("arena.tab_progress")) as progress_tab:
            progress = progress_section()
        with gr.Tab(L("arena.tab_leaderboard")) as board_tab:
            leaderboard = leaderboard_section()
        with gr.Tab(L("arena.tab_agreement")) as agreement_tab:
            agreement = agreement_section()
        with gr.Tab(L("arena.tab_files")) as files_tab:
            files = files_section()
        with gr.Tab(L("arena.tab_rate")) as rate_tab:
            gr.Markdown(L("arena.rate_help"))
            # A view of its own, with its own handlers; its own browser key, so trying it here never
            # replaces the rater this browser is on the /rate page.
            rater = build_rater_view(services, storage_key="playground-arena-rater-tryout")
    others = [setup_tab, progress_tab, board_tab, agreement_tab, files_tab, rate_tab]
    return ArenaLayout(bar, setup, progress, leaderboard, agreement, files, rater, room, room_tab, others)
