"""Arena tab (admin / facilitator): set up an evaluation from a prompt set, pre-generate the
answers, watch progress and the live tally, handle answers that name a model, and read the
leaderboard, rater agreement, report and exports. Raters use components.arena_rater."""

from __future__ import annotations

import gradio as gr

from components.arena_rater import build_rater_view
from components.ui_errors import user_errors
from playground.arena import charts, report
from playground.arena.prompts import parse_file, parse_typed
from playground.models.types import GenerationParams
from playground.services import Services

TALLY_HEADERS = ["Rater", "Votes"]
FLAGGED_HEADERS = ["Question", "Model", "Names found", "Answer starts"]


def _progress_markdown(p, tally_total: int) -> str:
    share = p.done / p.total if p.total else 0.0
    state = "⏳ generating" if p.running else ("✅ all answers ready" if p.total and p.done == p.total else "⏸ not running")
    lines = [
        f"<progress value='{p.done}' max='{max(p.total, 1)}' style='width:100%'></progress>",
        f"**{p.done} / {p.total}** answers ({share:.0%}) · {state}" + (f" · {p.current}" if p.current else ""),
        f"Battles ready to rate: **{p.servable}** · votes so far: **{tally_total}** · answers naming a model: **{p.flagged}**",
    ]
    for label, status, error in p.contestants:
        if status == "failed":
            lines.append(f"❌ **{label}** failed: {error} — its battles are held back; fix it and press Generate / resume.")
    if p.failed:
        lines.append(f"{p.failed} answer(s) failed; Generate / resume retries them.")
    return "\n\n".join(lines)


def build_arena_tab(services: Services) -> dict:
    arena = services.arena

    def evaluation_choices(selected=None):
        choices = arena.list_evaluations()
        ids = [value for _, value in choices]
        value = selected if selected in ids else (ids[0] if ids else None)
        return gr.update(choices=choices, value=value)

    with gr.Row():
        # Custom values allowed: evaluations created after this page was built are still valid picks.
        evaluation = gr.Dropdown(label="Evaluation", choices=arena.list_evaluations(), value=None, allow_custom_value=True, elem_id="arena-evaluation", scale=4)
        refresh = gr.Button("↻ Refresh list", scale=1)
        delete = gr.Button("Delete evaluation", variant="stop", scale=1, elem_id="arena-delete")
    info_md = gr.Markdown(elem_id="arena-info")

    with gr.Tabs():
        with gr.Tab("Set up"):
            name = gr.Textbox(label="Evaluation name", placeholder="e.g. Product descriptions, March workshop", elem_id="arena-eval-name")
            with gr.Row():
                prompts_text = gr.Textbox(
                    label="Prompts (one per line; or separate multi-line prompts with a line '---')", lines=8, elem_id="arena-prompts", scale=3
                )
                with gr.Column(scale=2):
                    prompts_file = gr.File(label="…or upload a CSV (column 'prompt') / JSONL / TXT", file_types=[".csv", ".jsonl", ".json", ".txt"], type="filepath")
                    from_compare = gr.Button("Take prompts from recent Compare runs")
            models = gr.Dropdown(label="Models (two or more)", choices=services.models.choices(), multiselect=True, elem_id="arena-models")
            with gr.Row():
                max_tokens = gr.Slider(8, 2048, value=256, step=8, label="Max tokens")
                temperature = gr.Slider(0.0, 2.0, value=0.7, step=0.05, label="Temperature")
                seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random)")
            system_prompt = gr.Textbox(label="System prompt (optional, same for every model)", lines=2)
            with gr.Row():
                leak_words = gr.Textbox(label="Extra words that give a model away (comma or one per line)", placeholder="e.g. our product name", scale=3)
                leak_action = gr.Radio(["redact", "exclude"], value="redact", label="Answers that name a model are", scale=2)
            with gr.Row():
                repeat_fraction = gr.Slider(0.0, 0.5, value=0.1, step=0.05, label="Share of battles repeated with sides swapped (self-consistency)")
                pairs_per_prompt = gr.Number(value=0, precision=0, label="Model pairs per prompt (0 = every pair)")
            live_on = gr.Checkbox(
                value=False,
                label="Live mode: raters may also type their own prompts, answered by two models drawn at random (the prompt set may then be empty)",
                elem_id="arena-live-on",
            )
            create = gr.Button("Create evaluation", variant="primary", elem_id="arena-create")
            with gr.Row():
                generate = gr.Button("Generate / resume answers", variant="primary", elem_id="arena-generate")
                stop = gr.Button("Stop generating", elem_id="arena-stop")
        with gr.Tab("Progress & tally"):
            progress_md = gr.Markdown(elem_id="arena-progress")
            tally = gr.Dataframe(headers=TALLY_HEADERS, interactive=False, label="Live tally", elem_id="arena-tally")
            with gr.Accordion("Answers that name a model", open=False):
                flagged = gr.Dataframe(headers=FLAGGED_HEADERS, interactive=False, wrap=True)
                with gr.Row():
                    policy = gr.Radio(["redact", "exclude"], value="redact", label="Such answers are")
                    more_words = gr.Textbox(label="Add words and re-check every answer")
                    apply_policy = gr.Button("Apply")
            with gr.Row():
                live_toggle = gr.Checkbox(value=False, label="Live prompts: raters of the selected evaluation may ask their own prompts", elem_id="arena-live-toggle", scale=3)
                apply_live = gr.Button("Apply live mode", scale=1, elem_id="arena-live-apply")
            timer = gr.Timer(2.0)
        with gr.Tab("Leaderboard"):
            board_button = gr.Button("Compute leaderboard", variant="primary", elem_id="arena-board-btn")
            board_md = gr.Markdown()
            board = gr.Dataframe(headers=report.LEADERBOARD_HEADERS, interactive=False, elem_id="arena-board", wrap=True)
            ratings_plot = gr.Plot(label="Ratings")
            with gr.Row():
                winrate_plot = gr.Plot(label="Win rates")
                counts_plot = gr.Plot(label="Battle counts")
            with gr.Row():
                latency_plot = gr.Plot(label="Quality against latency")
                cost_plot = gr.Plot(label="Quality against cost")
        with gr.Tab("Agreement"):
            agreement_button = gr.Button("Compute agreement", variant="primary")
            agreement_md = gr.Markdown()
            pairs = gr.Dataframe(headers=report.PAIR_HEADERS, interactive=False, label="Each pair of raters")
            raters = gr.Dataframe(headers=report.RATER_HEADERS, interactive=False, label="Each rater")
        with gr.Tab("Report & export"):
            with gr.Row():
                report_button = gr.Button("Make report (Markdown + HTML with charts)")
                export_format = gr.Radio(["jsonl", "csv"], value="jsonl", label="Vote export format (FastChat battles + conversations)")
                export_button = gr.Button("Export votes")
            files = gr.File(label="Files", file_count="multiple", interactive=False)
            gr.Markdown("**Import votes** from a FastChat-format battle file (JSONL or CSV) as a new evaluation.")
            with gr.Row():
                import_file = gr.File(label="Vote file", file_types=[".jsonl", ".csv", ".json"], type="filepath")
                import_name = gr.Textbox(label="Name for the imported evaluation")
                import_button = gr.Button("Import")
        with gr.Tab("Rate (try it yourself)"):
            gr.Markdown("This is exactly what raters see. For a room, start the app with `--arena-only` and share the link and the join code.")
            rater = build_rater_view(services)

    # ---- handlers ------------------------------------------------------------------
    def describe(evaluation_id) -> str:
        if not evaluation_id:
            return "Create an evaluation in **Set up**, or pick one above."
        info = arena.evaluation(evaluation_id)
        live = " · live prompts **on**" if info.mode == "live" else (" · live prompts off" if info.mode == "prompt_set" else "")
        return (
            f"**{info.name}** · join code **`{info.join_code}`** · {info.prompts} prompts · {info.battles} battles · "
            f"models: {', '.join(info.contestants)}{live}"
        )

    @user_errors
    def do_refresh(selected):
        return evaluation_choices(selected), gr.update(choices=services.models.choices())

    @user_errors
    def do_select(evaluation_id):
        return describe(evaluation_id)

    @user_errors
    def do_from_compare():
        prompts = arena.prompts_from_compare()
        if not prompts:
            raise gr.Error("There are no Compare runs yet. Run a few prompts in Compare first, or type prompts here.", print_exception=False)
        if any("\n" in p for p in prompts):
            return "\n---\n".join(prompts)
        return "\n".join(prompts)

    @user_errors
    def do_create(eval_name, typed, upload, keys, tokens, temp, seed_value, system, words, action, repeats, per_prompt, live=False):
        if upload and (typed or "").strip():
            raise gr.Error("Use either the typed prompts or the uploaded file, not both (clear one of them).", print_exception=False)
        live_only = bool(live) and not upload and not (typed or "").strip()
        items = [] if live_only else parse_file(upload) if upload else parse_typed(typed)
        seed_int = None if seed_value in (None, "") or int(seed_value) < 0 else int(seed_value)
        params = GenerationParams(system_prompt=system or "", temperature=float(temp), max_tokens=int(tokens), seed=seed_int)
        info = arena.create_evaluation(
            eval_name, items, keys or [], params, leak_words=words or "", leak_action=action, repeat_fraction=float(repeats),
            pairs_per_prompt=int(per_prompt) if per_prompt and int(per_prompt) > 0 else None, seed=seed_int,
            mode="live" if live else "prompt_set",
        )  # fmt: skip
        if live_only:
            gr.Info(f"Created {info.name!r} for live prompts. Join code {info.join_code}: raters type their own prompts.")
        else:
            gr.Info(f"Created {info.name!r}: {info.battles} battles. Join code {info.join_code}. Now press Generate.")
        return evaluation_choices(info.id), describe(info.id)

    @user_errors
    def do_live_mode(evaluation_id, enabled):
        gr.Info(arena.set_live_mode(evaluation_id, bool(enabled)))
        return describe(evaluation_id)

    @user_errors
    def do_generate(evaluation_id):
        gr.Info(arena.start_generation(evaluation_id))

    @user_errors
    def do_stop(evaluation_id):
        gr.Info(arena.cancel_generation(evaluation_id))

    @user_errors
    def do_progress(evaluation_id):
        if not evaluation_id:
            return "", [], []
        total, per_rater = arena.tally(evaluation_id)
        p = arena.progress(evaluation_id)
        return _progress_markdown(p, total), [[t.rater, t.votes] for t in per_rater], [list(row) for row in arena.flagged_answers(evaluation_id)]

    @user_errors
    def do_policy(evaluation_id, action, words):
        gr.Info(arena.set_leak_policy(evaluation_id, action, words or ""))
        return [list(row) for row in arena.flagged_answers(evaluation_id)]

    def judge_agreement_line(evaluation_id) -> str:
        """Beside the leaderboard: can the automatic judge stand in for these raters?"""
        verdict, bias, job_id = services.judge.verdict_agreement(evaluation_id)
        if job_id is None:
            return "\n\n**Automatic judge:** not run on this evaluation yet (Judge tab → an Arena evaluation, pairwise)."
        return f"\n\n**Automatic judge** (judging run #{job_id}): {verdict.sentence} {bias.sentence}"

    @user_errors
    def do_board(evaluation_id):
        result = arena.leaderboard(evaluation_id)
        return (
            report.leaderboard_summary(result) + judge_agreement_line(evaluation_id),
            report.leaderboard_rows(result),
            charts.ratings_chart(result),
            charts.win_rate_heatmap(result),
            charts.count_heatmap(result),
            charts.quality_against(result, "latency"),
            charts.quality_against(result, "cost"),
        )

    @user_errors
    def do_agreement(evaluation_id):
        result = arena.agreement(evaluation_id)
        return report.agreement_summary(result), report.pair_rows(result), report.rater_rows(result)

    @user_errors
    def do_report(evaluation_id):
        md, page = arena.write_report(evaluation_id)
        return [str(md), str(page)]

    @user_errors
    def do_export(evaluation_id, fmt):
        return [str(arena.export_votes(evaluation_id, fmt))]

    @user_errors
    def do_import(path, import_as):
        if not path:
            raise gr.Error("Choose a vote file to import first.", print_exception=False)
        info = arena.import_votes(path, import_as or "")
        gr.Info(f"Imported into {info.name!r}.")
        return evaluation_choices(info.id), describe(info.id)

    @user_errors
    def do_delete(evaluation_id):
        gr.Info(arena.delete_evaluation(evaluation_id))
        return evaluation_choices(None), ""

    refresh.click(do_refresh, [evaluation], [evaluation, models], api_name="arena_list")
    # Models appear while the app runs (a finished Fine-tune job, one added in Models): list them afresh on opening.
    models.focus(lambda: gr.update(choices=services.models.choices()), None, [models], api_name=False, queue=False)
    evaluation.change(do_select, [evaluation], [info_md], api_name="arena_select")
    from_compare.click(do_from_compare, None, [prompts_text], api_name="arena_prompts_from_compare")
    create.click(
        do_create,
        [name, prompts_text, prompts_file, models, max_tokens, temperature, seed, system_prompt, leak_words, leak_action, repeat_fraction, pairs_per_prompt, live_on],
        [evaluation, info_md],
        api_name="arena_create",
    )
    apply_live.click(do_live_mode, [evaluation, live_toggle], [info_md], api_name="arena_live_mode")
    generate.click(do_generate, [evaluation], None, api_name="arena_generate")
    stop.click(do_stop, [evaluation], None, api_name="arena_cancel")
    timer.tick(do_progress, [evaluation], [progress_md, tally, flagged], api_name="arena_progress", show_progress="hidden", concurrency_limit=8, concurrency_id="arena_admin_poll")
    apply_policy.click(do_policy, [evaluation, policy, more_words], [flagged], api_name="arena_leak_policy")
    board_button.click(do_board, [evaluation], [board_md, board, ratings_plot, winrate_plot, counts_plot, latency_plot, cost_plot], api_name="arena_leaderboard")
    agreement_button.click(do_agreement, [evaluation], [agreement_md, pairs, raters], api_name="arena_agreement")
    report_button.click(do_report, [evaluation], [files], api_name="arena_report")
    export_button.click(do_export, [evaluation, export_format], [files], api_name="arena_export")
    import_button.click(do_import, [import_file, import_name], [evaluation, info_md], api_name="arena_import")
    delete.click(do_delete, [evaluation], [evaluation, info_md], api_name="arena_delete")
    return {"evaluation": evaluation, "rater": rater}
