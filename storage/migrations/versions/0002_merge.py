"""One head: joins the 0002_* feature branches; every later migration follows this one.

The features once added their tables as sibling branches off 0001_initial (and 0002_judge
off 0002_arena), applied with ``upgrade heads``. Databases made by those releases hold one
or more of the branch revisions in alembic_version, so the branches stay as they were and
this revision merges them: Alembic applies whichever branches a database lacks, then this.
Re-chaining the old revisions into a line would make such version rows mean something
else (or refer to nothing).

Revision ID: 0002_merge
Revises: 0002_compare, 0002_documents, 0002_finetune_datasets, 0002_finetune_jobs, 0002_judge
Create Date: 2026-11-23
"""

from typing import Sequence, Union

revision: str = "0002_merge"
down_revision: Union[str, Sequence[str], None] = (
    "0002_compare",
    "0002_documents",
    "0002_finetune_datasets",
    "0002_finetune_jobs",
    "0002_judge",
)
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
