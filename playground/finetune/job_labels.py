"""How a fine-tuning job's state reads on screen: one word and one label, built from its status.

Every place that names a job's state (the Job dropdown, the status heading, the table of runs)
uses these, so they change together on every poll and never disagree.
"""

from __future__ import annotations

from playground.i18n import Text, t
from playground.statuses import FinetuneStatus

STATE_ICONS: dict[str, str] = {
    FinetuneStatus.CREATED: "🆕",
    FinetuneStatus.PREFLIGHT: "⏱️",
    FinetuneStatus.STARTING: "⏳",
    FinetuneStatus.RUNNING: "🏃",
    FinetuneStatus.STOPPING: "⏸️",
    FinetuneStatus.STOPPED: "⏹️",
    FinetuneStatus.DONE: "✅",
    FinetuneStatus.FAILED: "❌",
}
# "starting" covers converting and loading the base, which take most of a short job's first
# minute: "preparing" says what is going on; the job's message names the exact stage.
STATE_WORDS: dict[str, str] = {FinetuneStatus.STARTING: "preparing", FinetuneStatus.PREFLIGHT: "pre-flight"}


_STATE_TEXTS: dict[str, Text] = {
    FinetuneStatus.CREATED: t("finetune.state_created"),
    FinetuneStatus.PREFLIGHT: t("finetune.state_preflight"),
    FinetuneStatus.STARTING: t("finetune.state_starting"),
    FinetuneStatus.RUNNING: t("finetune.state_running"),
    FinetuneStatus.STOPPING: t("finetune.state_stopping"),
    FinetuneStatus.STOPPED: t("finetune.state_stopped"),
    FinetuneStatus.DONE: t("finetune.state_done"),
    FinetuneStatus.FAILED: t("finetune.state_failed"),
}


def state_said(status: str) -> Text | str:
    """``state_word`` as a catalogue Text (for a sentence in the reader's language)."""
    return _STATE_TEXTS.get(status, str(status))


def state_word(status: str) -> str:
    """The state as one word a person reads ("preparing", "running", "done", …)."""
    return STATE_WORDS.get(status, str(status))


def state_text(status: str) -> str:
    """The state with its icon: "🏃 running"."""
    icon = STATE_ICONS.get(status, "")
    return f"{icon} {state_word(status)}".strip()


def job_label(job_id: int, name: str, status: str) -> str:
    """The Job dropdown's label for one job: "#3 support replies — 🏃 running"."""
    return f"#{job_id} {name} — {state_text(status)}"
