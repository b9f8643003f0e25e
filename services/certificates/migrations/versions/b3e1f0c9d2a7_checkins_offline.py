"""attendance: check-ins made offline are marked, for the organiser's list of late scans and conflicts

Revision ID: b3e1f0c9d2a7
Revises: a6d293435c65
Create Date: 2026-12-08 10:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b3e1f0c9d2a7"
down_revision = "a6d293435c65"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        # Every earlier scan was made online: the default fills them in without a rewrite on PostgreSQL.
        batch_op.add_column(sa.Column("offline", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(
            "ix_checkins_offline",
            ["event_id", "received_at"],
            unique=False,
            sqlite_where=sa.text("offline"),
            postgresql_where=sa.text("offline"),
        )


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_checkins_offline", sqlite_where=sa.text("offline"), postgresql_where=sa.text("offline")
        )
        batch_op.drop_column("offline")
