"""Fine-tune jobs: a finished job is stored as "done" (was "succeeded"), like every other job.

Revision ID: 0003_finetune_status_done
Revises: 0002_merge
Create Date: 2026-11-23
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003_finetune_status_done"
down_revision: Union[str, None] = "0002_merge"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# A plain table, not storage.orm_finetune_jobs: this migration must keep working as the ORM changes.
finetune_jobs = sa.table("finetune_jobs", sa.column("status", sa.String(length=16)))


def _rename_status(old: str, new: str) -> None:
    op.execute(finetune_jobs.update().where(finetune_jobs.c.status == old).values(status=new))


def upgrade() -> None:
    _rename_status("succeeded", "done")


def downgrade() -> None:
    # Before this revision no job was stored as "done", so every "done" was a "succeeded".
    _rename_status("done", "succeeded")
