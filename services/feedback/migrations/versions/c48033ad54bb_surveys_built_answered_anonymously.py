"""surveys built and answered: states, sessions, sections, option ids, partial and anonymous responses

Every feedback table is rebuilt and its rows carried over: the shape changes too much for ALTER TABLE
(answers lose their sequential id, responses get random ids, options get stable ids), and on SQLite
re-creating a table that others reference would cascade-delete their rows. Reading the old rows,
dropping the tables children first, creating the new ones and writing the rows back avoids both.

- choice options: ["label", ...] -> [{"id", "label", "removed"}]; answers' chosen labels -> option ids;
- question kind "text" -> "long_text"; the question key is gone (answers are keyed by question id);
- surveys that existed were answerable: they become "open";
- responses of anonymous surveys keep only their day; duplicates of one participant keep the last one;
- response ids are redrawn at random and written in random order, so nothing keeps the old sequence;
- answers get the response's region and organisation beside them (the first schema had neither).

Revision ID: c48033ad54bb
Revises: 28afeb27a7f4
Create Date: 2026-12-01 22:10:00.000000
"""

import random
import secrets
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "c48033ad54bb"
down_revision = "28afeb27a7f4"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
ResponseId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _old_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    return {
        "surveys": sa.Table(
            "surveys",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("event_id", sa.Integer),
            sa.Column("title", sa.String(300)),
            sa.Column("anonymous", sa.Boolean),
            sa.Column("min_group_size", sa.Integer),
            sa.Column("created_at", TZ),
        ),
        "questions": sa.Table(
            "questions",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("survey_id", sa.Integer),
            sa.Column("key", sa.String(64)),
            sa.Column("position", sa.Integer),
            sa.Column("text", sa.Text),
            sa.Column("kind", sa.String(16)),
            sa.Column("options", sa.JSON),
        ),
        "responses": sa.Table(
            "responses",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("survey_id", sa.Integer),
            sa.Column("participant_id", sa.Integer),
            sa.Column("submitted_at", TZ),
        ),
        "answers": sa.Table(
            "answers",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("response_id", sa.Integer),
            sa.Column("question_id", sa.Integer),
            sa.Column("choice", sa.String(500)),
            sa.Column("score", sa.Integer),
            sa.Column("text", sa.Text),
        ),
    }


def _read(table: sa.Table, order_by: str = "id") -> list[dict]:
    rows = op.get_bind().execute(sa.select(table).order_by(table.c[order_by]))
    return [dict(row._mapping) for row in rows]


def _day(moment):
    return None if moment is None else moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _create_new_tables() -> dict[str, sa.Table]:
    surveys = op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("course", "session", name="surveykind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("session_title", sa.String(length=500), nullable=True),
        sa.Column("session_starts_at", TZ, nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("min_group_size", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "open", "closed", name="surveystatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("opens_at", TZ, nullable=True),
        sa.Column("closes_at", TZ, nullable=True),
        sa.Column("public_token", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.CheckConstraint(
            "kind <> 'session' OR session_id IS NOT NULL", name=op.f("ck_surveys_session_form_has_session")
        ),
        sa.CheckConstraint("min_group_size >= 2", name=op.f("ck_surveys_threshold_at_least_two")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("event_id", "session_id", name="uq_surveys_event_session"),
        sa.UniqueConstraint("public_token", name=op.f("uq_surveys_public_token")),
    )
    op.create_index(op.f("ix_surveys_event_id"), "surveys", ["event_id"], unique=False)
    op.create_table(
        "browser_receipts",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_browser_receipts_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("survey_id", "key_hash", name=op.f("pk_browser_receipts")),
        sqlite_with_rowid=False,
    )
    questions = op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "rating",
                "single",
                "multiple",
                "nps",
                "short_text",
                "long_text",
                "section",
                name="questionkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("allow_other", sa.Boolean(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_questions_survey_id_surveys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    op.create_index(op.f("ix_questions_survey_id"), "questions", ["survey_id"], unique=False)
    responses = op.create_table(
        "responses",
        sa.Column("id", ResponseId, autoincrement=False, nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("organisation", sa.String(length=500), nullable=True),
        sa.Column("submitted_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("draft", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "NOT anonymous OR (participant_id IS NULL AND region_code IS NULL AND organisation IS NULL)",
            name=op.f("ck_responses_anonymous_has_no_identity"),
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_responses_survey_id_surveys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
        sa.UniqueConstraint("survey_id", "participant_id", name="uq_responses_survey_participant"),
    )
    op.create_index(
        "ix_responses_survey_submitted",
        "responses",
        ["survey_id", "submitted_at", "updated_at"],
        unique=False,
    )
    op.create_index(
        "ix_responses_survey_groups",
        "responses",
        ["survey_id", "region_code", "organisation", "submitted_at"],
        unique=False,
    )
    answers = op.create_table(
        "answers",
        sa.Column("response_id", ResponseId, nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("organisation", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_answers_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_answers_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "question_id", "ordinal", name=op.f("pk_answers")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_answers_tally", "answers", ["question_id", "choice", "score", "ordinal"], unique=False
    )
    op.create_index(
        "ix_answers_region",
        "answers",
        ["question_id", "region_code", "choice", "score", "ordinal"],
        unique=False,
    )
    op.create_index(
        "ix_answers_organisation",
        "answers",
        ["question_id", "organisation", "choice", "score", "ordinal"],
        unique=False,
    )
    op.create_index(
        "ix_answers_groups",
        "answers",
        ["question_id", "ordinal", "region_code", "organisation"],
        unique=False,
    )
    return {"surveys": surveys, "questions": questions, "responses": responses, "answers": answers}


def _drop_all(names) -> None:
    for name in names:
        op.drop_table(name)


def _insert(table: sa.Table, values: list[dict]) -> None:
    if not values:
        return
    op.bulk_insert(table, values)
    if (
        op.get_bind().dialect.name == "postgresql"
        and "id" in table.c
        and table.c.id.autoincrement is not False
    ):
        # Rows came with their ids: the serial sequence must continue after them.
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
        )


def upgrade() -> None:
    old = _old_tables(sa.MetaData())
    rows = {name: _read(table) for name, table in old.items()}
    _drop_all(("answers", "responses", "questions", "surveys"))
    new = _create_new_tables()

    surveys, anonymous = [], {}
    for survey in rows["surveys"]:
        anonymous[survey["id"]] = bool(survey["anonymous"])
        surveys.append(
            {
                **survey,
                "kind": "course",
                "session_id": None,
                "session_title": None,
                "session_starts_at": None,
                "min_group_size": max(2, survey["min_group_size"] or 5),
                "status": "open",
                "opens_at": None,
                "closes_at": None,
                "public_token": secrets.token_urlsafe(32),
                "created_by": None,
                "updated_at": survey["created_at"],
            }
        )

    questions, option_ids = [], {}
    for question in rows["questions"]:
        options = []
        for label in question["options"] or []:
            option_id = secrets.token_hex(4)
            option_ids[(question["id"], label)] = option_id
            options.append({"id": option_id, "label": label, "removed": False})
        questions.append(
            {
                "id": question["id"],
                "survey_id": question["survey_id"],
                "position": question["position"],
                "kind": "long_text" if question["kind"] == "text" else question["kind"],
                "text": question["text"],
                "description": "",
                "required": False,
                "options": options,
                "allow_other": False,
                "removed": False,
            }
        )

    # One response per participant and survey from now on: the last one a participant sent stands.
    last_of_participant = {}
    for response in rows["responses"]:
        if response["participant_id"] is not None and not anonymous.get(response["survey_id"]):
            last_of_participant[(response["survey_id"], response["participant_id"])] = response["id"]
    kept, new_id = [], {}
    for response in rows["responses"]:
        is_anonymous = anonymous.get(response["survey_id"], True)
        key = (response["survey_id"], response["participant_id"])
        if (
            not is_anonymous
            and response["participant_id"] is not None
            and last_of_participant[key] != response["id"]
        ):
            continue
        new_id[response["id"]] = secrets.randbits(52) or 1
        moment = _day(response["submitted_at"]) if is_anonymous else response["submitted_at"]
        kept.append(
            {
                "id": new_id[response["id"]],
                "survey_id": response["survey_id"],
                "anonymous": is_anonymous,
                "participant_id": None if is_anonymous else response["participant_id"],
                "region_code": None,
                "organisation": None,
                "submitted_at": moment,
                "updated_at": moment,
                "draft": None,
            }
        )
    random.SystemRandom().shuffle(kept)

    answers, ordinals = [], defaultdict(int)
    by_question = {q["id"]: q for q in questions}
    for answer in rows["answers"]:
        if answer["response_id"] not in new_id or answer["question_id"] not in by_question:
            continue
        key = (answer["response_id"], answer["question_id"])
        choice = answer["choice"]
        if choice is not None and (answer["question_id"], choice) not in option_ids:
            # A label that is no longer among the options: keep it readable as a removed option.
            option_id = secrets.token_hex(4)
            option_ids[(answer["question_id"], choice)] = option_id
            by_question[answer["question_id"]]["options"].append(
                {"id": option_id, "label": choice, "removed": True}
            )
        answers.append(
            {
                "response_id": new_id[answer["response_id"]],
                "question_id": answer["question_id"],
                "ordinal": ordinals[key],
                "choice": option_ids[(answer["question_id"], choice)] if choice else None,
                "score": answer["score"],
                "text": answer["text"],
                "region_code": None,
                "organisation": None,
            }
        )
        ordinals[key] += 1
    random.SystemRandom().shuffle(answers)

    for name, values in (
        ("surveys", surveys),
        ("questions", questions),
        ("responses", kept),
        ("answers", answers),
    ):
        _insert(new[name], values)


def downgrade() -> None:
    metadata = sa.MetaData()
    current = {
        "surveys": sa.Table(
            "surveys",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("event_id", sa.Integer),
            sa.Column("title", sa.String(300)),
            sa.Column("anonymous", sa.Boolean),
            sa.Column("min_group_size", sa.Integer),
            sa.Column("created_at", TZ),
        ),
        "questions": sa.Table(
            "questions",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("survey_id", sa.Integer),
            sa.Column("position", sa.Integer),
            sa.Column("kind", sa.String(16)),
            sa.Column("text", sa.Text),
            sa.Column("options", sa.JSON),
        ),
        "responses": sa.Table(
            "responses",
            metadata,
            sa.Column("id", ResponseId, primary_key=True),
            sa.Column("survey_id", sa.Integer),
            sa.Column("participant_id", sa.Integer),
            sa.Column("submitted_at", TZ),
            sa.Column("updated_at", TZ),
        ),
        "answers": sa.Table(
            "answers",
            metadata,
            sa.Column("response_id", ResponseId, primary_key=True),
            sa.Column("question_id", sa.Integer, primary_key=True),
            sa.Column("ordinal", sa.Integer, primary_key=True),
            sa.Column("choice", sa.String(64)),
            sa.Column("score", sa.Integer),
            sa.Column("text", sa.Text),
        ),
    }
    rows = {
        name: _read(table, "id" if name != "answers" else "response_id") for name, table in current.items()
    }
    _drop_all(("answers", "responses", "browser_receipts", "questions", "surveys"))

    surveys = op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("min_group_size", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    op.create_index(op.f("ix_surveys_event_id"), "surveys", ["event_id"], unique=False)
    questions = op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "single",
                "multiple",
                "rating",
                "nps",
                "text",
                name="questionkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_questions_survey_id_surveys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
        sa.UniqueConstraint("survey_id", "key", name="uq_questions_survey_key"),
    )
    responses = op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_responses_survey_id_surveys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
    )
    op.create_index(op.f("ix_responses_survey_id"), "responses", ["survey_id"], unique=False)
    answers = op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=500), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_answers_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_answers_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
    )
    op.create_index("ix_answers_question_choice", "answers", ["question_id", "choice"], unique=False)
    op.create_index(op.f("ix_answers_response_id"), "answers", ["response_id"], unique=False)

    # Sections and short texts did not exist: sections go, short texts become texts; submitted only.
    kept_questions, labels = [], {}
    for question in rows["questions"]:
        if question["kind"] == "section":
            continue
        for option in question["options"] or []:
            labels[(question["id"], option["id"])] = option["label"]
        kept_questions.append(
            {
                "id": question["id"],
                "survey_id": question["survey_id"],
                "key": f"q{question['id']}",
                "position": question["position"],
                "text": question["text"],
                "kind": "text" if question["kind"] in ("short_text", "long_text") else question["kind"],
                "options": [o["label"] for o in question["options"] or [] if not o.get("removed")],
            }
        )
    kept_ids = {q["id"] for q in kept_questions}
    old_id = {}
    kept_responses = []
    for response in rows["responses"]:
        if response["submitted_at"] is None:
            continue
        old_id[response["id"]] = len(old_id) + 1
        kept_responses.append(
            {
                "id": old_id[response["id"]],
                "survey_id": response["survey_id"],
                "participant_id": response["participant_id"],
                "submitted_at": response["submitted_at"],
            }
        )
    kept_answers = [
        {
            "response_id": old_id[a["response_id"]],
            "question_id": a["question_id"],
            "choice": labels.get((a["question_id"], a["choice"]), a["choice"]) if a["choice"] else None,
            "score": a["score"],
            "text": a["text"],
        }
        for a in rows["answers"]
        if a["response_id"] in old_id and a["question_id"] in kept_ids
    ]
    for table, values in (
        (
            surveys,
            [
                {k: s[k] for k in ("id", "event_id", "title", "anonymous", "min_group_size", "created_at")}
                for s in rows["surveys"]
            ],
        ),
        (questions, kept_questions),
        (responses, kept_responses),
        (answers, kept_answers),
    ):
        _insert(table, values)
