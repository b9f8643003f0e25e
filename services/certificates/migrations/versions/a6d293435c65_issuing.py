"""certificates: policy, overrides, numbering counters, render batches, versions and revocation

Revision ID: a6d293435c65
Revises: 558e08df8650
Create Date: 2026-12-01 21:55:51
"""

import sqlalchemy as sa
from alembic import op

revision = "a6d293435c65"
down_revision = "558e08df8650"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_number_counters",
        sa.Column("organisation_key", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("certificate", "statement", name="documentkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organisation_key", "kind", "year", name=op.f("pk_certificate_number_counters")
        ),
    )
    op.create_table(
        "certificate_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("programme_kind", sa.String(length=8), nullable=False),
        sa.Column("programme_title", sa.String(length=500), nullable=False),
        sa.Column("academic_hours", sa.Integer(), nullable=False),
        sa.Column("number_template", sa.String(length=60), nullable=False),
        sa.Column("statement_number_template", sa.String(length=60), nullable=False),
        sa.Column("organisation", sa.String(length=500), nullable=False),
        sa.Column("organisation_key", sa.String(length=200), nullable=False),
        sa.Column(
            "completion_rule",
            sa.Enum("hours", "days", "both", name="completionrule", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("min_hours_percent", sa.Integer(), nullable=False),
        sa.Column("door_counts_sessions", sa.Boolean(), nullable=False),
        sa.Column("issue_statements", sa.Boolean(), nullable=False),
        sa.Column("signatory_name", sa.String(length=200), nullable=False),
        sa.Column("signatory_title", sa.String(length=300), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_mime", sa.String(length=16), nullable=True),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("signature_mime", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "programme_kind <> 'ПК' OR academic_hours >= 16",
            name=op.f("ck_certificate_policies_pk_at_least_16_hours"),
        ),
        sa.CheckConstraint(
            "min_hours_percent BETWEEN 1 AND 100", name=op.f("ck_certificate_policies_percent_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_policies")),
        sa.UniqueConstraint("event_id", name=op.f("uq_certificate_policies_event_id")),
    )
    op.create_table(
        "eligibility_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_overrides")),
    )
    with op.batch_alter_table("eligibility_overrides", schema=None) as batch_op:
        batch_op.create_index(
            "ix_eligibility_overrides_event_participant", ["event_id", "participant_id", "id"], unique=False
        )

    op.create_table(
        "render_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_render_batches")),
    )
    # Existing rows get defaults first, then their data is moved over, then the constraints follow.
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("certificate", "statement", name="documentkind", native_enum=False, length=16),
                nullable=False,
                server_default="certificate",
            )
        )
        batch_op.add_column(
            sa.Column("organisation_key", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("number_year", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("number_seq", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("supersedes_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("superseded_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("revocation_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("revocation_reason_public", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("issued_by", sa.String(length=200), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_certificates_number"), type_="unique")

    # Numbers issued before the counters existed keep their text; year 0 keeps them out of every counter's way.
    op.execute("UPDATE certificates SET number_seq = id")
    # `status` becomes the PDF's state only; a revocation is a fact of its own now (its moment is unknown).
    op.execute("UPDATE certificates SET revoked_at = CURRENT_TIMESTAMP WHERE status = 'revoked'")
    op.execute(
        "UPDATE certificates SET status = CASE WHEN pdf_path IS NULL THEN 'pending' ELSE 'rendered' END "
        "WHERE status = 'revoked'"
    )
    # One current document per person: older duplicates count as replaced by the newest.
    op.execute(
        "UPDATE certificates SET superseded_at = CURRENT_TIMESTAMP WHERE revoked_at IS NULL AND id NOT IN "
        "(SELECT max(id) FROM certificates WHERE revoked_at IS NULL GROUP BY event_id, participant_id)"
    )
    _rename_snapshot_key("organiser", "organisation")

    with op.batch_alter_table("certificates", schema=None) as batch_op:
        for column in (
            "kind",
            "organisation_key",
            "number_year",
            "number_seq",
            "version",
            "revocation_reason_public",
        ):
            batch_op.alter_column(column, server_default=None)
        batch_op.create_index("ix_certificates_batch_status", ["batch_id", "status"], unique=False)
        batch_op.create_index(
            "uq_certificates_current",
            ["event_id", "participant_id"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL AND revoked_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL AND revoked_at IS NULL"),
        )
        batch_op.create_unique_constraint(
            "uq_certificates_organisation_number", ["organisation_key", "number"]
        )
        batch_op.create_unique_constraint(
            "uq_certificates_organisation_seq", ["organisation_key", "kind", "number_year", "number_seq"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_certificates_superseded_by_id"), ["superseded_by_id"]
        )
        batch_op.create_unique_constraint(batch_op.f("uq_certificates_supersedes_id"), ["supersedes_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_certificates_batch_id_render_batches"), "render_batches", ["batch_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_certificates_supersedes_id_certificates"),
            "certificates",
            ["supersedes_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_certificates_superseded_by_id_certificates"),
            "certificates",
            ["superseded_by_id"],
            ["id"],
        )
        batch_op.create_check_constraint(batch_op.f("ck_certificates_version_positive"), "version >= 1")


def downgrade() -> None:
    op.execute("UPDATE certificates SET status = 'revoked' WHERE revoked_at IS NOT NULL")
    _rename_snapshot_key("organisation", "organiser")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_certificates_version_positive"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_certificates_superseded_by_id_certificates"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_certificates_supersedes_id_certificates"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_certificates_batch_id_render_batches"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_certificates_supersedes_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_certificates_superseded_by_id"), type_="unique")
        batch_op.drop_constraint("uq_certificates_organisation_seq", type_="unique")
        batch_op.drop_constraint("uq_certificates_organisation_number", type_="unique")
        batch_op.drop_index(
            "uq_certificates_current",
            sqlite_where=sa.text("superseded_at IS NULL AND revoked_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL AND revoked_at IS NULL"),
        )
        batch_op.drop_index("ix_certificates_batch_status")
        batch_op.create_unique_constraint(batch_op.f("uq_certificates_number"), ["number"])
        batch_op.drop_column("issued_by")
        batch_op.drop_column("batch_id")
        batch_op.drop_column("revocation_reason_public")
        batch_op.drop_column("revocation_reason")
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("superseded_at")
        batch_op.drop_column("superseded_by_id")
        batch_op.drop_column("supersedes_id")
        batch_op.drop_column("version")
        batch_op.drop_column("number_seq")
        batch_op.drop_column("number_year")
        batch_op.drop_column("organisation_key")
        batch_op.drop_column("kind")

    op.drop_table("render_batches")
    with op.batch_alter_table("eligibility_overrides", schema=None) as batch_op:
        batch_op.drop_index("ix_eligibility_overrides_event_participant")

    op.drop_table("eligibility_overrides")
    op.drop_table("certificate_policies")
    op.drop_table("certificate_number_counters")


def _rename_snapshot_key(old: str, new: str) -> None:
    """Snapshots are JSON on both databases; a row at a time keeps this portable (the table is small)."""
    certificates = sa.table("certificates", sa.column("id", sa.Integer), sa.column("snapshot", sa.JSON))
    connection = op.get_bind()
    for row in connection.execute(sa.select(certificates.c.id, certificates.c.snapshot)).all():
        snapshot = dict(row.snapshot or {})
        if old in snapshot:
            snapshot[new] = snapshot.pop(old)
            connection.execute(
                certificates.update().where(certificates.c.id == row.id).values(snapshot=snapshot)
            )
