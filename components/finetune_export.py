"""Fine-tune tab, jobs half: export the picked job to GGUF (a type, Export with progress and Stop),
then read each export: its file, size, load check, how many greedy answers agree with the tuned
model, the Ollama Modelfile and the two commands that import and run it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.i18n import L, say, text
from components.ui_errors import refusals, user_errors
from components.widgets import StoppableRun, progress_reporter
from playground.cancellation import CancelTokens
from playground.errors import InvalidInput
from playground.finetune.gguf_converter import ExportStopped
from playground.finetune.gguf_export import GgufExportService, quant_types
from playground.finetune.gguf_manifest import ExportRecord
from playground.finetune.gguf_quantize import QUANT_TYPES, check_quant
from playground.finetune.modelfile import ollama_commands
from playground.finetune.tuned_models import gguf_model_name
from playground.formatting import bytes_text
from playground.i18n import t
from playground.rendering import inert_code_block, inert_inline

DEFAULT_QUANT = "Q8_0"
TEMPLATE_KEYS = {
    "alpaca": "export.template_alpaca",
    "chat_template": "export.template_chat",
    "from_gguf": "export.template_from_gguf",
}
CONCURRENCY = {"concurrency_id": "ft_gguf_export", "concurrency_limit": 2}  # a 2nd reaches the lease's refusal


def quant_info(quant: Any) -> str:
    """The picked type's one-line size and quality trade-off, in the reader's language."""
    try:
        return say(check_quant(quant).explanation)
    except InvalidInput as err:
        return say(err)


def _short(answer: str, limit: int = 160) -> str:
    flat = " ".join(answer.split())
    return inert_inline(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def record_markdown(record: ExportRecord) -> str:
    """One export: file, size, agreement, load check, model name, Modelfile and commands."""
    create, run = ollama_commands(record.ollama_name, record.modelfile_path)
    lines = [
        text("export.result_heading", quant=record.quant, size=bytes_text(record.size_bytes)),
        text("export.result_file", path=str(record.gguf_path)),
        text("export.result_agree", agree=record.agree, total=len(record.answers)),
    ]
    check = record.check_answer
    if check is not None:
        lines.append(text("export.result_check", answer=_short(check.gguf), tuned=_short(check.tuned)))
    name = gguf_model_name(record.base_name, record.job_name, record.quant)
    lines.append(text("export.result_model", name=inert_inline(name)))
    template = text(TEMPLATE_KEYS.get(record.template, "export.template_from_gguf"))
    lines.append(text("export.result_modelfile", path=str(record.modelfile_path), template=template))
    lines.append(inert_code_block(f"{create}\n{run}"))
    lines.append(text("export.result_lmstudio"))
    if record.seconds:
        figures = {k: float(record.seconds.get(k, 0.0)) for k in ("merge", "convert", "quantise", "check")}
        lines.append(text("export.result_times", **{k: round(v, 1) for k, v in figures.items()}))
    return "\n\n".join(lines)


def exports_markdown(records: list[ExportRecord], running: bool = False) -> str:
    parts = [text("export.running_now")] if running else []
    parts += [record_markdown(r) for r in records] or [text("export.none_yet")]
    return "\n\n---\n\n".join(parts)


def answers_table(records: list[ExportRecord]) -> dict[str, Any]:
    """Holdout prompt | tuned model | one column per exported type: the greedy answers side by side."""
    headers = [text("export.col_prompt"), text("export.col_tuned")]
    headers += [text("export.col_gguf", quant=r.quant) for r in records]
    prompts: list[str] = []
    tuned: dict[str, str] = {}
    for record in records:
        for pair in record.answers:
            if pair.prompt not in tuned:
                prompts.append(pair.prompt)
                tuned[pair.prompt] = pair.tuned
    by_type = [{p.prompt: ("✅ " if p.agrees else "≠ ") + p.gguf for p in r.answers} for r in records]
    rows = [[prompt, tuned[prompt], *[answers.get(prompt, "") for answers in by_type]] for prompt in prompts]
    return {"headers": headers, "data": rows}


@dataclass
class ExportWidgets:
    quant: gr.Dropdown
    export: gr.Button
    stop: gr.Button
    status: gr.Markdown
    result: gr.Markdown
    table: gr.Dataframe


def export_layout() -> ExportWidgets:
    with gr.Accordion(L("export.accordion"), open=False, elem_id="ft-export-box"):
        gr.Markdown(L("export.intro"))
        with gr.Row():
            quant = gr.Dropdown(
                label=L("export.quant_label"),
                choices=[q.name for q in quant_types()],
                value=DEFAULT_QUANT,
                info=L(QUANT_TYPES[DEFAULT_QUANT].explain_key),
                allow_custom_value=True,  # an unknown type from the API reaches the plain refusal
                scale=3,
                elem_id="ft-export-quant",
            )
            export = gr.Button(L("export.button"), variant="primary", scale=1, elem_id="ft-export-run")
            stop = gr.Button(L("export.stop_button"), scale=1, elem_id="ft-export-stop")
        status = gr.Markdown(elem_id="ft-export-status")
        result = gr.Markdown(elem_id="ft-export-result")
        table = gr.Dataframe(
            label=L("export.table_label"), interactive=False, wrap=True, max_height=360, elem_id="ft-export-answers"
        )
    return ExportWidgets(quant, export, stop, status, result, table)


def check_export(job_id: Any, quant: Any, *_: Any) -> None:
    """Refused before the export starts: no job picked, or a type llama.cpp is not offered."""
    if job_id in (None, ""):
        raise InvalidInput(t("export.pick_finished_job"))
    check_quant(quant)


class ExportController:
    def __init__(self, exports: GgufExportService, run: StoppableRun):
        self.exports = exports
        self.run = run

    def _view(self, job_id: Any) -> list[Any]:
        if job_id in (None, ""):
            return ["", answers_table([])]
        records = self.exports.exports(job_id)
        return [exports_markdown(records, self.exports.running(int(job_id))), answers_table(records)]

    @user_errors
    def show(self, job_id: Any):
        """The picked job's exports, and the type to offer first (Q8_0 under 1B parameters)."""
        if job_id in (None, ""):
            return [gr.skip(), *self._view(None)]
        quant = self.exports.default_quant(job_id)
        return [gr.Dropdown(value=quant, info=quant_info(quant)), *self._view(job_id)]

    @user_errors
    def explain(self, quant: Any):
        return gr.Dropdown(info=quant_info(quant))

    @user_errors
    def export(self, job_id: Any, quant: Any, token: str | None, progress=gr.Progress()):
        token = token or self.run.start()  # API callers skip the click's start step
        try:
            with self.run.cancel_event(token) as cancel:
                record = self.exports.export(job_id, quant, progress_reporter(progress), cancel)
        except ExportStopped as stopped:  # what the user asked for: said in the status line, not as an error
            gr.Warning(say(stopped))
            return [say(stopped), *self._view(job_id), token]
        gr.Info(text("export.done_toast", quant=record.quant, path=str(record.gguf_path)))
        return [text("export.stage_done"), *self._view(job_id), token]

    def stop(self, token: str | None, job_id: Any):
        """Stop this page's export; else ask the one running for this job elsewhere (its lease)."""
        if self.run.tokens.cancel(token):
            return text("export.stopping")
        try:
            asked = job_id not in (None, "") and self.exports.request_stop(job_id)
        except InvalidInput:
            asked = False
        return text("export.stop_sent") if asked else text("export.nothing_to_stop")


def build_export_panel(exports: GgufExportService, tokens: CancelTokens, picker: gr.Dropdown) -> ExportWidgets:
    w = export_layout()
    run = StoppableRun(tokens, t("export.stopping"))
    c = ExportController(exports, run)
    picker.change(c.show, [picker], [w.quant, w.result, w.table], api_name="ft_export_view", show_progress="hidden")
    w.quant.input(c.explain, [w.quant], [w.quant], api_name="ft_export_quant_info", show_progress="hidden")
    started = w.export.click(run.start, None, [run.token], queue=False, api_name=False)
    started.then(
        c.export,
        [picker, w.quant, run.token],
        [w.status, w.result, w.table, run.token],
        api_name="ft_export_gguf",
        validator=refusals(check_export, at=1),
        show_progress_on=[w.status],
        **CONCURRENCY,
    )
    w.stop.click(c.stop, [run.token, picker], [w.status], queue=False, api_name="ft_export_stop")
    return w
