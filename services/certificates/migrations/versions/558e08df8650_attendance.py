"""attendance: check-ins per day and session, failed scans and undos included

Revision ID: 558e08df8650
Revises: f69a40fee5f2
Create Date: 2026-11-26 10:42:17.926042
"""

import sqlalchemy as sa
from alembic import op

revision = "558e08df8650"
down_revision = "f69a40fee5f2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("session_key", sa.Integer(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "checked_in",
                "already_checked_in",
                "unknown_code",
                "cancelled",
                "not_on_list",
                "undo",
                name="checkinoutcome",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("raw_code", sa.String(length=200), nullable=True),
        sa.Column("full_name", sa.String(length=400), nullable=True),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff", sa.String(length=200), nullable=True),
        sa.Column("device", sa.String(length=200), nullable=True),
        sa.Column("nonce", sa.String(length=96), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reversed_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "session_key = coalesce(session_id, 0)", name=op.f("ck_checkins_session_key_matches")
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"], ["checkins.id"], name=op.f("fk_checkins_previous_id_checkins")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"], ["checkins.id"], name=op.f("fk_checkins_reverses_id_checkins")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint("nonce", name=op.f("uq_checkins_nonce")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_checkins_reverses_id")),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index(
            "ix_checkins_event_day_session", ["event_id", "day", "session_key", "id"], unique=False
        )
        batch_op.create_index("ix_checkins_event_participant", ["event_id", "participant_id"], unique=False)
        # One active check-in per participant, day and session: a partial unique index on both databases.
        batch_op.create_index(
            "uq_checkins_active",
            ["event_id", "day", "session_key", "participant_id"],
            unique=True,
            sqlite_where=sa.text("outcome = 'checked_in' AND reversed_at IS NULL"),
            postgresql_where=sa.text("outcome = 'checked_in' AND reversed_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_checkins_active",
            sqlite_where=sa.text("outcome = 'checked_in' AND reversed_at IS NULL"),
            postgresql_where=sa.text("outcome = 'checked_in' AND reversed_at IS NULL"),
        )
        batch_op.drop_index("ix_checkins_event_participant")
        batch_op.drop_index("ix_checkins_event_day_session")

    op.drop_table("checkins")
