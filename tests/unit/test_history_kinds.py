"""History's Kinds filter offers every kind a run is recorded with."""

import re
from pathlib import Path

from playground.finetune.side_by_side import RUN_KIND
from playground.history import KINDS

ROOT = Path(__file__).resolve().parents[2] / "playground"
RECORDED = re.compile(r"""(?:start_run\(\s*|runs\.add\(kind=)["'](\w+)["']""")


def test_every_recorded_run_kind_is_a_filter_choice():
    recorded = {m for path in ROOT.rglob("*.py") for m in RECORDED.findall(path.read_text(encoding="utf-8"))}
    recorded.add(RUN_KIND)
    assert {"judge", "arena", "rag"} <= recorded
    assert recorded <= set(KINDS), recorded - set(KINDS)
