"""Arena tab (admin / facilitator): set up an evaluation from a prompt set, pre-generate the
answers, watch progress and the live tally, handle answers that name a model, and read the
leaderboard, rater agreement, report and exports. Raters use components.arena_rater; the
widgets are laid out in components.arena_layout."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.arena_layout import FLAGGED_HEADER_KEYS, TALLY_HEADER_KEYS, ArenaLayout, arena_layout
from components.arena_room import policy_words, wire_room
from components.i18n import request_language, say, text
from components.run_estimates import start_estimate_for_pregen, wire_arena_estimates
from components.tab import Event, TabHandle
from components.ui_errors import RefusedAt, refusals, refused_at, user_errors
from components.widgets import refresh_on_focus, refresh_pickers
from playground.arena import charts, report
from playground.arena.creation import check_evaluation_name, check_model_keys
from playground.arena.exchange import check_vote_file
from playground.arena.leaderboard import VoteCount
from playground.arena.pregen import MODEL_NOT_FOUND
from playground.arena.prompts import read_prompt_set
from playground.arena.service import REVEAL_POLICIES, PregenStatus
from playground.languages import ENGLISH
from playground.models.types import GenerationParams
from playground.rendering import inert_inline
from playground.services import Services

# Where check_create points a refusal: positions in SetupSection.create_inputs.
NAME_AT, PROMPTS_AT, MODELS_AT, REVEAL_AT = 0, 1, 3, 13


# ---- formatting --------------------------------------------------------------------------
def progress_markdown(status: PregenStatus, votes: VoteCount) -> str:
    p = status.progress
    state = (
        text("arena.state_generating")
        if status.running
        else (text("arena.state_ready") if p.total and p.done == p.total else text("arena.state_idle"))
    )
    lines = [
        f"<progress value='{p.done}' max='{max(p.total, 1)}' style='width:100%'></progress>",
        text("arena.progress_answers", done=p.done, total=p.total, fraction=f"{p.fraction:.0%}", state=state)
        + (f" · {inert_inline(say(p.message))}" if p.message else ""),
        text("arena.progress_battles", servable=status.servable, flagged=status.flagged),
        say(votes.said()),
    ]
    for label, contestant_status, error in status.contestants:
        if contestant_status == "failed":
            said = text("arena.error_model_not_found") if error == MODEL_NOT_FOUND else error
            lines.append(text("arena.contestant_failed", label=inert_inline(label), error=inert_inline(said)))
    if status.failed:
        lines.append(text("arena.answers_failed", n=status.failed))
    return "\n\n".join(lines)


def table(keys: tuple[str, ...], rows: list[list[Any]]) -> dict:
    """A Dataframe's value with its headers in the reader's language (the browser leaves them as built)."""
    return {"headers": report.headers(keys, request_language()), "data": rows}


def _seed(value: float | str | None) -> int | None:
    """The seed box: -1 (or empty) means a random seed."""
    return None if value in (None, "") or int(value) < 0 else int(value)


def _count(value: float | str | None) -> int | None:
    """A "0 = none" number box: None for 0, empty or negative."""
    return int(value) if value not in (None, "") and int(value) > 0 else None


def _prompt_count(typed: str | None, upload: str | None, live: bool) -> int:
    try:
        return len(read_prompt_set(typed, upload, live))
    except Exception:  # noqa: BLE001 - half-typed prompts: the note waits for Create to say what is wrong
        return 0


def _prompt_box_text(prompts: list[str]) -> str:
    """Prompts as the prompt box reads them: one per line, or '---' between multi-line ones."""
    return "\n---\n".join(prompts) if any("\n" in p for p in prompts) else "\n".join(prompts)


class ArenaController:
    """The facilitator's handlers: each reads its inputs, calls the arena service and formats the result."""

    def __init__(self, services: Services):
        self.services = services
        self.arena = services.arena

    def evaluation_choices(self, selected=None) -> dict:
        choices = [(say(label), value) for label, value in self.arena.list_evaluations()]
        ids = [value for _, value in choices]
        return gr.update(choices=choices, value=selected if selected in ids else (ids[0] if ids else None))

    def load_page(self):
        """On page load: the evaluations' names in the reader's language (the page was built once,
        in English, before any reader came). Only the choices: the picked evaluation stays."""
        choices = [(say(label), value) for label, value in self.arena.list_evaluations()]
        return gr.update(choices=choices)

    def describe(self, evaluation_id) -> str:
        if not evaluation_id:
            return text("arena.no_evaluation")
        info = self.arena.evaluation(evaluation_id)
        live = (
            text("arena.live_on_info")
            if info.mode == "live"
            else (text("arena.live_off_info") if info.mode == "prompt_set" else "")
        )
        voting = "" if getattr(info, "voting_open", True) else text("arena.voting_closed_info")
        stored = getattr(info, "reveal_policy", "")
        policy = policy_words(stored) if stored in REVEAL_POLICIES else ""
        names = text("arena.names_shown_info", policy=inert_inline(policy[:1].lower() + policy[1:])) if policy else ""
        return text(
            "arena.describe", name=inert_inline(info.name), code=info.join_code, prompts=info.prompts,
            battles=info.battles, models=inert_inline(", ".join(info.contestants)), live=live, names=names, voting=voting,
        )  # fmt: skip

    @user_errors
    def refresh(self, selected):
        # The model picker keeps its selection client-side: only its choices are sent.
        return self.evaluation_choices(selected), gr.update(choices=self.services.models.choices())

    @user_errors
    def select(self, evaluation_id):
        return self.describe(evaluation_id)

    @user_errors
    def prompts_from_compare(self):
        prompts = self.arena.prompts_from_compare()
        if not prompts:
            raise gr.Error(text("arena.no_compare_runs"), print_exception=False)
        return _prompt_box_text(prompts)

    @user_errors
    def demo_prompts(self, language=ENGLISH):
        return _prompt_box_text(self.arena.demo_prompts(language or ENGLISH))

    # ---- checks: refusals shown next to the input before the work runs (see ui_errors.refusals) ----
    def check_create(self, eval_name, typed, upload, keys, tokens, temp, seed, system, words, action, repeats,
                     per_prompt, live=False, reveal_policy=None, *rest) -> None:  # fmt: skip
        """What ``create`` would refuse from the form alone, next to the box at fault (inputs in
        ``SetupSection.create_inputs`` order). An uploaded file's content is left to ``create``."""
        with refused_at(NAME_AT):
            check_evaluation_name(eval_name)
        with refused_at(MODELS_AT):
            check_model_keys(keys)
        if (typed or "").strip() or not upload:  # typed prompts, none at all, or typed and a file
            with refused_at(PROMPTS_AT):
                read_prompt_set(typed, upload, bool(live))
        if reveal_policy == "after_each":
            problem = self.arena.new_reveal_policy_problem(
                "after_each",
                prompts=_prompt_count(typed, upload, bool(live)),
                models=len(set(keys or [])),
                pairs_per_prompt=_count(per_prompt),
                repeat_fraction=float(repeats or 0),
                mode="live" if live else "prompt_set",
            )
            if problem:
                raise RefusedAt(REVEAL_AT, problem)

    def check_import(self, path, import_as) -> None:
        check_vote_file(path)

    @user_errors
    def create(
        self,
        eval_name,
        typed,
        upload,
        keys,
        tokens,
        temp,
        seed_value,
        system,
        words,
        action,
        repeats,
        per_prompt,
        live=False,
        reveal_policy=None,
        votes_per_battle=0,
        live_cap=0,
        show_together=True,
    ):
        items = read_prompt_set(typed, upload, bool(live))
        seed = _seed(seed_value)
        params = GenerationParams(
            system_prompt=system or "", temperature=float(temp), max_tokens=int(tokens), seed=seed
        )
        info = self.arena.create_evaluation(
            eval_name, items, keys or [], params, leak_words=words or "", leak_action=action, repeat_fraction=float(repeats),
            pairs_per_prompt=_count(per_prompt), seed=seed, mode="live" if live else "prompt_set",
            reveal_policy=reveal_policy or None, votes_per_battle=_count(votes_per_battle), live_cap=_count(live_cap),
            show_together=True if show_together is None else bool(show_together),
        )  # fmt: skip
        if not items:  # a live evaluation started without a prompt set
            gr.Info(text("arena.created_live", name=info.name, code=info.join_code))
        else:
            gr.Info(text("arena.created", name=info.name, battles=info.battles, code=info.join_code))
        return self.evaluation_choices(info.id), self.describe(info.id)

    def reveal_note(self, policy, typed, upload, keys, per_prompt, repeats, live) -> str:
        """Beside the reveal choice: why "after each vote" would let raters see through later battles."""
        problem = self.arena.new_reveal_policy_problem(
            "after_each",
            prompts=_prompt_count(typed, upload, bool(live)),
            models=len(set(keys or [])),
            pairs_per_prompt=_count(per_prompt),
            repeat_fraction=float(repeats or 0),
            mode="live" if live else "prompt_set",
        )
        if not problem:
            return text("arena.after_each_safe")
        prefix = "⚠️ " if policy == "after_each" else ""
        return text("arena.after_each_unavailable", prefix=prefix, problem=inert_inline(say(problem)))

    @user_errors
    def live_mode(self, evaluation_id, enabled):
        gr.Info(say(self.arena.set_live_mode(evaluation_id, bool(enabled))))
        return self.describe(evaluation_id)

    @user_errors
    def generate(self, evaluation_id):
        estimate = start_estimate_for_pregen(self.services, evaluation_id)  # kept with the run
        gr.Info(say(self.arena.start_generation(evaluation_id, estimate)))
        return self.setup_progress(evaluation_id)

    def setup_progress(self, evaluation_id) -> str:
        """Pre-generation progress on the Set up sub-tab, beside the Generate button."""
        if not evaluation_id:
            return ""
        votes, _ = self.arena.vote_tally(evaluation_id)
        return progress_markdown(self.arena.pregen_status(evaluation_id), votes)

    @user_errors
    def stop(self, evaluation_id):
        gr.Info(say(self.arena.cancel_generation(evaluation_id)))

    @user_errors
    def poll_progress(self, evaluation_id):
        if not evaluation_id:
            return "", table(TALLY_HEADER_KEYS, []), table(FLAGGED_HEADER_KEYS, []), ""
        votes, per_rater = self.arena.vote_tally(evaluation_id)
        shown = progress_markdown(self.arena.pregen_status(evaluation_id), votes)
        return (
            shown,
            table(TALLY_HEADER_KEYS, [[r.rater, r.votes] for r in per_rater]),
            self._flagged(evaluation_id),
            shown,
        )

    def _flagged(self, evaluation_id) -> dict:
        return table(FLAGGED_HEADER_KEYS, [list(row) for row in self.arena.flagged_answers(evaluation_id)])

    @user_errors
    def leak_policy(self, evaluation_id, action, words):
        gr.Info(say(self.arena.set_leak_policy(evaluation_id, action, words or "")))
        return self._flagged(evaluation_id)

    def judge_agreement_line(self, evaluation_id) -> str:
        """Beside the leaderboard: can the automatic judge stand in for these raters?"""
        verdict, bias, job_id = self.services.judge.verdict_agreement(evaluation_id)
        if job_id is None:
            return text("arena.no_judge_run")
        return text("arena.judge_line", job=job_id, verdict=say(verdict.said), bias=say(bias.said))

    @user_errors
    def leaderboard(self, evaluation_id):
        result = self.arena.leaderboard(evaluation_id)
        language = request_language()
        return (
            report.leaderboard_summary(result, language) + self.judge_agreement_line(evaluation_id),
            table(report.LEADERBOARD_HEADER_KEYS, report.leaderboard_rows(result, language)),
            charts.ratings_chart(result, language=language),
            charts.win_rate_heatmap(result, language=language),
            charts.count_heatmap(result, language=language),
            charts.quality_against(result, "latency", language=language),
            charts.quality_against(result, "cost", language=language),
        )

    @user_errors
    def agreement(self, evaluation_id):
        result = self.arena.agreement(evaluation_id)
        language = request_language()
        summary = report.agreement_summary(result, language)
        pairs = table(report.PAIR_HEADER_KEYS, report.pair_rows(result, language))
        return summary, pairs, table(report.RATER_HEADER_KEYS, report.rater_rows(result))

    @user_errors
    def write_report(self, evaluation_id):
        md, page = self.arena.write_report(evaluation_id, language=request_language())
        return [str(md), str(page)]

    @user_errors
    def export_votes(self, evaluation_id, fmt):
        return [str(self.arena.export_votes(evaluation_id, fmt))]

    @user_errors
    def import_votes(self, path, import_as):
        info = self.arena.import_votes(path, import_as or "")
        gr.Info(text("arena.imported", name=info.name))
        return self.evaluation_choices(info.id), self.describe(info.id)

    @user_errors
    def delete(self, evaluation_id):
        gr.Info(say(self.arena.delete_evaluation(evaluation_id)))
        return self.evaluation_choices(None), ""


def _wire_setup(ui: ArenaLayout, arena: ArenaController) -> None:
    bar, setup = ui.bar, ui.setup
    bar.refresh.click(arena.refresh, [bar.evaluation], [bar.evaluation, setup.models], api_name="arena_list")
    bar.evaluation.change(arena.select, [bar.evaluation], [bar.info], api_name="arena_select")
    bar.delete.click(arena.delete, [bar.evaluation], [bar.evaluation, bar.info], api_name="arena_delete")
    setup.from_compare.click(
        arena.prompts_from_compare, None, [setup.prompts_text], api_name="arena_prompts_from_compare"
    )
    setup.demo_prompts.click(
        arena.demo_prompts, [setup.demo_language], [setup.prompts_text], api_name="arena_demo_prompts"
    ).then(arena.reveal_note, setup.reveal_inputs, [setup.reveal_note], queue=False, show_progress="hidden")
    setup.create.click(
        arena.create,
        setup.create_inputs,
        [bar.evaluation, bar.info],
        api_name="arena_create",
        validator=refusals(arena.check_create),
    )
    setup.generate.click(arena.generate, [bar.evaluation], [setup.progress], api_name="arena_generate")
    for box in (setup.reveal_policy, setup.models, setup.pairs_per_prompt, setup.repeat_fraction, setup.live_on):
        box.change(arena.reveal_note, setup.reveal_inputs, [setup.reveal_note], queue=False, show_progress="hidden")
    for box in (setup.prompts_text, setup.prompts_file):
        (box.blur if box is setup.prompts_text else box.change)(
            arena.reveal_note, setup.reveal_inputs, [setup.reveal_note], queue=False, show_progress="hidden"
        )
    setup.stop.click(arena.stop, [bar.evaluation], None, api_name="arena_cancel")
    wire_arena_estimates(
        arena.services, setup.estimate, setup.estimate_info, bar.evaluation, setup.generate, ui.progress.timer
    )


def _wire_progress(ui: ArenaLayout, arena: ArenaController) -> None:
    evaluation, progress = ui.bar.evaluation, ui.progress
    progress.apply_live.click(
        arena.live_mode, [evaluation, progress.live_toggle], [ui.bar.info], api_name="arena_live_mode"
    )
    progress.timer.tick(
        arena.poll_progress, [evaluation], [progress.progress, progress.tally, progress.flagged, ui.setup.progress],
        api_name="arena_progress", show_progress="hidden", concurrency_limit=8, concurrency_id="arena_admin_poll",
    )  # fmt: skip
    progress.apply_policy.click(
        arena.leak_policy,
        [evaluation, progress.policy, progress.more_words],
        [progress.flagged],
        api_name="arena_leak_policy",
    )


def _wire_results(ui: ArenaLayout, arena: ArenaController) -> None:
    evaluation, board, agreement, files = ui.bar.evaluation, ui.leaderboard, ui.agreement, ui.files
    board.button.click(arena.leaderboard, [evaluation], board.outputs, api_name="arena_leaderboard")
    agreement.button.click(
        arena.agreement,
        [evaluation],
        [agreement.summary, agreement.pairs, agreement.raters],
        api_name="arena_agreement",
    )
    files.report_button.click(arena.write_report, [evaluation], [files.files], api_name="arena_report")
    files.export_button.click(
        arena.export_votes, [evaluation, files.export_format], [files.files], api_name="arena_export"
    )
    files.import_button.click(
        arena.import_votes,
        [files.import_file, files.import_name],
        [evaluation, ui.bar.info],
        api_name="arena_import",
        validator=refusals(arena.check_import),  # no file chosen: said next to the file box
    )


def build_arena_tab(services: Services) -> TabHandle:
    """The facilitator's tab; its ``on_load`` holds the embedded rater view's link prefill."""
    ui = arena_layout(services)
    arena = ArenaController(services)
    _wire_setup(ui, arena)
    _wire_progress(ui, arena)
    _wire_results(ui, arena)
    wire_room(ui.room, ui.bar.evaluation, ui.room_tab, ui.other_tabs, services.arena)
    # Models appear while the app runs (a finished Fine-tune job, one added in Models): list them afresh.
    refresh_on_focus(services, ui.setup.models, multiselect=True, use_default=False)
    models_on_open = refresh_pickers(services, [ui.setup.models], multiselect=True, use_default=False)
    picker_on_load = Event(arena.load_page, (), [ui.bar.evaluation])
    return TabHandle(on_open=[models_on_open], on_load=[picker_on_load, *ui.rater.on_load])
