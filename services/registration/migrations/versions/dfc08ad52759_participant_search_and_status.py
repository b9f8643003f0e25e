"""participant search (name key, region names, trigram indexes), cancellation and consent times

Revision ID: dfc08ad52759
Revises: 5fd96df3695e
Create Date: 2026-11-27 09:00:00.000000

Substring search (see services/registration/search.py) is served by a trigram index on either database:
- PostgreSQL: a pg_trgm GIN index on participants.search_text;
- SQLite: an FTS5 trigram table, participants_search, over participants.search_text, kept in step by
  triggers. A later migration that rebuilds the participants table on SQLite (batch mode copies it) drops
  those triggers with it and must create them again: call create_sqlite_search_index().
"""

import sqlalchemy as sa
from alembic import op

revision = "dfc08ad52759"
down_revision = "5fd96df3695e"
branch_labels = None
depends_on = None

TRIGRAM_INDEX = "ix_participants_search_text_trgm"

SQLITE_SEARCH_INDEX = [
    "CREATE VIRTUAL TABLE participants_search USING fts5("
    "search_text, content='participants', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER participants_search_insert AFTER INSERT ON participants BEGIN "
    "INSERT INTO participants_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER participants_search_delete AFTER DELETE ON participants BEGIN "
    "INSERT INTO participants_search(participants_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER participants_search_update AFTER UPDATE OF search_text ON participants BEGIN "
    "INSERT INTO participants_search(participants_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO participants_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO participants_search(participants_search) VALUES ('rebuild')",
]


def upgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=300), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("consent_given_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    refresh_search_keys()
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # fastupdate off: no pending list after a bulk import, so the planner prices the index right away.
        op.execute(
            f"CREATE INDEX {TRIGRAM_INDEX} ON participants USING gin (search_text gin_trgm_ops) "
            "WITH (fastupdate = off)"
        )
    elif dialect == "sqlite":
        create_sqlite_search_index()


def create_sqlite_search_index() -> None:
    for statement in SQLITE_SEARCH_INDEX:
        op.execute(statement)


def refresh_search_keys() -> None:
    """Existing rows get the new name key, and the region's name in their search text."""
    from services.registration.models import Participant
    from services.registration.participants import refresh_search_text

    fields = ("surname", "first_name", "patronymic", "email", "organisation", "region_code", "code")
    participants = sa.table(
        "participants",
        *(sa.column(name) for name in ("id", *fields, "search_text", "surname_key", "name_key")),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(participants)).mappings().all():
        participant = Participant(**{field: row[field] for field in fields})
        refresh_search_text(participant)
        connection.execute(
            participants.update()
            .where(participants.c.id == row["id"])
            .values(
                search_text=participant.search_text,
                surname_key=participant.surname_key,
                name_key=participant.name_key,
            )
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
    elif dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS participants_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS participants_search")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("consent_given_at")
        batch_op.drop_column("name_key")
