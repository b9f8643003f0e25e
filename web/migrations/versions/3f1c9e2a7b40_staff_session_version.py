"""staff accounts: session version

Revision ID: 3f1c9e2a7b40
Revises: 77890bca8d19
Create Date: 2026-12-02 01:10:00.000000

Existing accounts start at 0, the version a session without one is taken to carry: nobody is logged out
by the upgrade itself.
"""

import sqlalchemy as sa
from alembic import op

revision = "3f1c9e2a7b40"
down_revision = "77890bca8d19"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_accounts") as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_accounts") as batch_op:
        batch_op.drop_column("session_version")
