"""Arena trust: reveal policy, votes needed per battle, rater sessions and caps, voting open/closed.

Revision ID: 0005_arena_trust
Revises: 0004_work_leases
Create Date: 2026-12-02
"""

from typing import Sequence, Union

import unicodedata

import sqlalchemy as sa
from alembic import op

revision: str = "0005_arena_trust"
down_revision: Union[str, None] = "0004_work_leases"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# Plain tables, not storage.orm_arena: this migration must keep working as the ORM changes.
raters = sa.table(
    "arena_raters",
    sa.column("id", sa.Integer()),
    sa.column("evaluation_id", sa.Integer()),
    sa.column("name", sa.String(length=200)),
    sa.column("name_key", sa.String(length=200)),
)
KEY_LENGTH = 200


def _name_key(name: str) -> str:
    """A frozen copy of playground.arena.rater_identity.name_key as it was at this revision."""
    text = unicodedata.normalize("NFKC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = unicodedata.normalize("NFKC", " ".join(text.split()).casefold())
    return text[:KEY_LENGTH]


def _fill_name_keys() -> None:
    """Existing raters get their key; two that now compare equal ("Ana", "ana ") stay two
    raters (their votes are theirs), told apart by the second one's id."""
    connection = op.get_bind()
    taken: set[tuple[int, str]] = set()
    rows = connection.execute(sa.select(raters.c.id, raters.c.evaluation_id, raters.c.name).order_by(raters.c.id))
    for rater_id, evaluation_id, name in rows.all():
        key = _name_key(name)
        if (evaluation_id, key) in taken:
            suffix = f"#{rater_id}"
            key = key[: KEY_LENGTH - len(suffix)] + suffix
        taken.add((evaluation_id, key))
        connection.execute(raters.update().where(raters.c.id == rater_id).values(name_key=key))


def upgrade() -> None:
    with op.batch_alter_table("arena_evaluations") as batch:
        batch.add_column(sa.Column("reveal_policy", sa.String(length=16), nullable=False, server_default="after_last"))
        batch.add_column(sa.Column("votes_per_battle", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("live_cap", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("voting_open", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("show_together", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("arena_raters") as batch:
        batch.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("secret_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    _fill_name_keys()
    with op.batch_alter_table("arena_raters") as batch:
        batch.alter_column("name_key", existing_type=sa.String(length=200), nullable=False)
        batch.create_unique_constraint("uq_arena_raters_evaluation_id_name_key", ["evaluation_id", "name_key"])
        batch.create_index(op.f("ix_arena_raters_secret_hash"), ["secret_hash"], unique=True)
    with op.batch_alter_table("arena_prompts") as batch:
        batch.add_column(sa.Column("asked_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_arena_prompts_asked_by_id_arena_raters"),
            "arena_raters",
            ["asked_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_arena_prompts_asked_by_id"), ["asked_by_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("arena_prompts") as batch:
        batch.drop_index(op.f("ix_arena_prompts_asked_by_id"))
        batch.drop_constraint(op.f("fk_arena_prompts_asked_by_id_arena_raters"), type_="foreignkey")
        batch.drop_column("asked_by_id")
    with op.batch_alter_table("arena_raters") as batch:
        batch.drop_index(op.f("ix_arena_raters_secret_hash"))
        batch.drop_constraint("uq_arena_raters_evaluation_id_name_key", type_="unique")
        for column in ("finished_at", "released_at", "secret_hash", "name_key"):
            batch.drop_column(column)
    with op.batch_alter_table("arena_evaluations") as batch:
        for column in ("show_together", "voting_open", "live_cap", "votes_per_battle", "reveal_policy"):
            batch.drop_column(column)
