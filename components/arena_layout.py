"""The Arena tab's widgets, section by section (the handlers are in components.arena_tab)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from components.arena_rater import build_rater_view
from components.arena_room import RoomSection, room_section
from components.tab import TabHandle
from components.widgets import model_picker
from playground.arena import report
from playground.arena.service import LEAK_ACTIONS, REVEAL_POLICIES
from playground.services import Services

TALLY_HEADERS = ["Rater", "Votes"]
FLAGGED_HEADERS = ["Question", "Model", "Names found", "Answer starts"]


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
            label="Evaluation",
            choices=choices,
            value=None,
            allow_custom_value=True,
            elem_id="arena-evaluation",
            scale=4,
        )
        refresh = gr.Button("↻ Refresh list", scale=1)
        delete = gr.Button("Delete evaluation", variant="stop", scale=1, elem_id="arena-delete")
    return EvaluationBar(evaluation, refresh, delete, gr.Markdown(elem_id="arena-info"))


def setup_section(services: Services) -> SetupSection:
    name = gr.Textbox(
        label="Evaluation name", placeholder="e.g. Product descriptions, March workshop", elem_id="arena-eval-name"
    )
    with gr.Row():
        prompts_text = gr.Textbox(
            label="Prompts (one per line; or separate multi-line prompts with a line '---')",
            lines=8,
            elem_id="arena-prompts",
            scale=3,
        )
        with gr.Column(scale=2):
            prompts_file = gr.File(
                label="…or upload a CSV (column 'prompt') / JSONL / TXT",
                file_types=[".csv", ".jsonl", ".json", ".txt"],
                type="filepath",
            )
            from_compare = gr.Button("Take prompts from recent Compare runs")
    models = model_picker(services, "Models (two or more)", multiselect=True, use_default=False, elem_id="arena-models")
    with gr.Row():
        cap = services.settings.max_tokens  # the server lowers anything above it anyway
        max_tokens = gr.Slider(8, cap, value=min(256, cap), step=8, label="Max tokens")
        temperature = gr.Slider(0.0, 2.0, value=0.7, step=0.05, label="Temperature")
        seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random)")
    system_prompt = gr.Textbox(label="System prompt (optional, same for every model)", lines=2)
    with gr.Row():
        leak_words = gr.Textbox(
            label="Extra words that give a model away (comma or one per line)",
            placeholder="e.g. our product name",
            scale=3,
        )
        leak_action = gr.Radio(list(LEAK_ACTIONS), value="redact", label="Answers that name a model are", scale=2)
    with gr.Row():
        repeat_fraction = gr.Slider(
            0.0, 0.5, value=0.1, step=0.05, label="Share of battles repeated with sides swapped (self-consistency)"
        )
        pairs_per_prompt = gr.Number(value=0, precision=0, label="Model pairs per prompt (0 = every pair)")
    live_on = gr.Checkbox(
        value=False,
        label="Live mode: raters may also type their own prompts, answered by two models drawn at random (the prompt set may then be empty)",
        elem_id="arena-live-on",
    )
    reveal_policy, reveal_note, votes_per_battle, live_cap, show_together = _room_options()
    create = gr.Button("Create evaluation", variant="primary", elem_id="arena-create")
    with gr.Row():
        generate = gr.Button("Generate / resume answers", variant="primary", elem_id="arena-generate")
        stop = gr.Button("Stop generating", elem_id="arena-stop")
    progress = gr.Markdown(elem_id="arena-setup-progress")
    return SetupSection(
        name, prompts_text, prompts_file, from_compare, models, max_tokens, temperature, seed, system_prompt,
        leak_words, leak_action, repeat_fraction, pairs_per_prompt, live_on,
        reveal_policy, reveal_note, votes_per_battle, live_cap, show_together, create, generate, stop, progress,
    )  # fmt: skip


def _room_options() -> tuple[gr.Dropdown, gr.Markdown, gr.Number, gr.Number, gr.Checkbox]:
    """How the room runs: when raters see names, how many votes a battle needs, live caps."""
    with gr.Row():
        reveal_policy = gr.Dropdown(
            [(label, key) for key, label in REVEAL_POLICIES.items()],
            value="after_last",
            label="Show raters the model names",
            elem_id="arena-reveal-policy",
            scale=2,
        )
        votes_per_battle = gr.Number(
            value=0,
            precision=0,
            minimum=0,
            label="Votes needed per battle (0 = every rater rates every battle, needed for agreement statistics)",
            elem_id="arena-votes-per-battle",
            scale=2,
        )
        live_cap = gr.Number(
            value=0,
            precision=0,
            minimum=0,
            label="Live prompts per rater (0 = no cap)",
            elem_id="arena-live-cap",
            scale=1,
        )
    reveal_note = gr.Markdown(elem_id="arena-reveal-note")
    show_together = gr.Checkbox(
        value=True,
        label="Live mode: show both answers together once both have finished (stream speed does not give a model away)",
        elem_id="arena-show-together",
    )
    return reveal_policy, reveal_note, votes_per_battle, live_cap, show_together


def progress_section() -> ProgressSection:
    progress = gr.Markdown(elem_id="arena-progress")
    tally = gr.Dataframe(headers=TALLY_HEADERS, interactive=False, label="Live tally", elem_id="arena-tally")
    with gr.Accordion("Answers that name a model", open=False):
        flagged = gr.Dataframe(headers=FLAGGED_HEADERS, interactive=False, wrap=True)
        with gr.Row():
            policy = gr.Radio(list(LEAK_ACTIONS), value="redact", label="Such answers are")
            more_words = gr.Textbox(label="Add words and re-check every answer")
            apply_policy = gr.Button("Apply")
    with gr.Row():
        live_toggle = gr.Checkbox(
            value=False,
            label="Live prompts: raters of the selected evaluation may ask their own prompts",
            elem_id="arena-live-toggle",
            scale=3,
        )
        apply_live = gr.Button("Apply live mode", scale=1, elem_id="arena-live-apply")
    return ProgressSection(
        progress, tally, flagged, policy, more_words, apply_policy, live_toggle, apply_live, gr.Timer(2.0)
    )


def leaderboard_section() -> LeaderboardSection:
    button = gr.Button("Compute leaderboard", variant="primary", elem_id="arena-board-btn")
    summary = gr.Markdown()
    board = gr.Dataframe(headers=report.LEADERBOARD_HEADERS, interactive=False, elem_id="arena-board", wrap=True)
    ratings = gr.Plot(label="Ratings")
    with gr.Row():
        win_rates = gr.Plot(label="Win rates")
        counts = gr.Plot(label="Battle counts")
    with gr.Row():
        latency = gr.Plot(label="Quality against latency")
        cost = gr.Plot(label="Quality against cost")
    return LeaderboardSection(button, summary, board, ratings, win_rates, counts, latency, cost)


def agreement_section() -> AgreementSection:
    button = gr.Button("Compute agreement", variant="primary")
    summary = gr.Markdown()
    pairs = gr.Dataframe(headers=report.PAIR_HEADERS, interactive=False, label="Each pair of raters")
    raters = gr.Dataframe(headers=report.RATER_HEADERS, interactive=False, label="Each rater")
    return AgreementSection(button, summary, pairs, raters)


def files_section() -> FilesSection:
    with gr.Row():
        report_button = gr.Button("Make report (Markdown + HTML with charts)")
        export_format = gr.Radio(
            ["jsonl", "csv"], value="jsonl", label="Vote export format (FastChat battles + conversations)"
        )
        export_button = gr.Button("Export votes")
    files = gr.File(label="Files", file_count="multiple", interactive=False)
    gr.Markdown("**Import votes** from a FastChat-format battle file (JSONL or CSV) as a new evaluation.")
    with gr.Row():
        import_file = gr.File(label="Vote file", file_types=[".jsonl", ".csv", ".json"], type="filepath")
        import_name = gr.Textbox(label="Name for the imported evaluation")
        import_button = gr.Button("Import")
    return FilesSection(report_button, export_format, export_button, files, import_file, import_name, import_button)


def arena_layout(services: Services) -> ArenaLayout:
    bar = evaluation_bar(services.arena.list_evaluations())
    with gr.Tabs():
        with gr.Tab("Set up") as setup_tab:
            setup = setup_section(services)
        with gr.Tab("Room", elem_id="arena-room-tab") as room_tab:
            room = room_section()
        with gr.Tab("Progress & tally") as progress_tab:
            progress = progress_section()
        with gr.Tab("Leaderboard") as board_tab:
            leaderboard = leaderboard_section()
        with gr.Tab("Agreement") as agreement_tab:
            agreement = agreement_section()
        with gr.Tab("Report & export") as files_tab:
            files = files_section()
        with gr.Tab("Rate (try it yourself)") as rate_tab:
            gr.Markdown(
                "This is what raters see. For a room, open **Room**: raters join at its link (or scan its QR code), "
                "from this same app."
            )
            # A view of its own, with its own handlers; its own browser key, so trying it here never
            # replaces the rater this browser is on the /rate page.
            rater = build_rater_view(services, storage_key="playground-arena-rater-tryout")
    others = [setup_tab, progress_tab, board_tab, agreement_tab, files_tab, rate_tab]
    return ArenaLayout(bar, setup, progress, leaderboard, agreement, files, rater, room, room_tab, others)
