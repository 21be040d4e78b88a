"""Prices (issue 15): a price the user sets per model wins over LiteLLM's price map.

``price_overrides`` holds it, keyed by the registry's model key (a saved model's row also points
at its entry, so it goes with it). The prices typed on the endpoint form before were kept on
``endpoints``; they are copied here as those models' overrides (the endpoint columns stay, for a
downgrade). ``generations`` gains ``price_source``: where an answer's price came from ("local":
$0 by choice, "override", "table"), so a saved answer still says why its cost is what it is.

Revision ID: 0009_price_overrides
Revises: 0008_connections
Create Date: 2026-12-03
"""

from datetime import UTC, datetime
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0009_price_overrides"
down_revision: Union[str, None] = "0008_connections"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ENTRY_KEY = "entry/{id}"  # playground.models.registry.entry_key: how the app names a saved model


def _create_price_overrides() -> None:
    op.create_table(
        "price_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_key", sa.String(length=1100), nullable=False),
        sa.Column("model_entry_id", sa.Integer(), nullable=True),
        sa.Column("input_per_m", sa.Float(), nullable=False),
        sa.Column("output_per_m", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_entry_id"],
            ["model_entries.id"],
            name=op.f("fk_price_overrides_model_entry_id_model_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_overrides")),
        sa.UniqueConstraint("model_key", name=op.f("uq_price_overrides_model_key")),
    )
    op.create_index(op.f("ix_price_overrides_model_entry_id"), "price_overrides", ["model_entry_id"], unique=False)


def _copy_endpoint_prices() -> None:
    """Each saved endpoint model whose endpoint has both prices gets them as its override."""
    bind = op.get_bind()
    typed = bind.execute(
        sa.text(
            "SELECT m.id, e.price_input_per_m, e.price_output_per_m FROM model_entries m "
            "JOIN endpoints e ON m.endpoint_id = e.id "
            "WHERE e.price_input_per_m IS NOT NULL AND e.price_output_per_m IS NOT NULL"
        )
    ).all()
    if not typed:
        return
    overrides = sa.table(
        "price_overrides",
        sa.column("model_key", sa.String),
        sa.column("model_entry_id", sa.Integer),
        sa.column("input_per_m", sa.Float),
        sa.column("output_per_m", sa.Float),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        overrides,
        [
            {
                "model_key": ENTRY_KEY.format(id=entry_id),
                "model_entry_id": entry_id,
                "input_per_m": price_in,
                "output_per_m": price_out,
                "updated_at": now,
            }
            for entry_id, price_in, price_out in typed
        ],
    )


def upgrade() -> None:
    _create_price_overrides()
    _copy_endpoint_prices()
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("price_source", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("price_source")
    op.drop_index(op.f("ix_price_overrides_model_entry_id"), table_name="price_overrides")
    op.drop_table("price_overrides")
