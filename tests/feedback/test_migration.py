"""The migration to surveys that can be built carries the rows of the first schema over, on both databases."""

import json
import uuid
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from eventops.migrate import alembic_config
from tests.conftest import POSTGRES_ADMIN_URL

FIRST = "28afeb27a7f4"


def test_old_surveys_responses_and_answers_survive_the_upgrade(tmp_path, db_backend, request):
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path}/feedback.db"
    else:
        # A fresh database of its own: the shared test database is already at the newest revision.
        name = f"eventops_migration_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))

        def drop():
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        request.addfinalizer(drop)
        url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    config = alembic_config("feedback", url)
    command.upgrade(config, FIRST)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO surveys (id, event_id, title, anonymous, min_group_size, created_at) VALUES "
                "(1, 5, 'Экспертный опрос', :yes, 3, '2026-10-09 10:00:00+00'), "
                "(2, 5, 'Именной', :no, 1, '2026-10-09 10:00:00+00')"
            ),
            {"yes": True, "no": False},
        )
        connection.execute(
            text(
                "INSERT INTO questions (id, survey_id, key, position, text, kind, options) VALUES "
                "(1, 1, 'difficulties', 0, 'Трудности', 'multiple', '[\"Время\", \"Мотивация\"]'), "
                "(2, 1, 'remarks', 1, 'Замечания', 'text', '[]'), "
                "(3, 2, 'nps', 0, 'NPS', 'nps', '[]')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO responses (id, survey_id, participant_id, submitted_at) VALUES "
                "(1, 1, NULL, '2026-10-09 12:34:56+00'), (2, 1, NULL, '2026-10-09 12:40:00+00'), "
                "(3, 2, 7, '2026-10-09 13:00:00+00'), (4, 2, 7, '2026-10-09 14:00:00+00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO answers (id, response_id, question_id, choice, score, text) VALUES "
                "(1, 1, 1, 'Время', NULL, NULL), (2, 1, 1, 'Мотивация', NULL, NULL), "
                "(3, 1, 2, NULL, NULL, 'ок'), "
                "(4, 2, 1, 'Удалённый', NULL, NULL), (5, 3, 3, NULL, 3, NULL), (6, 4, 3, NULL, 9, NULL)"
            )
        )
    engine.dispose()

    command.upgrade(config, "head")
    engine = create_engine(url)
    with engine.connect() as connection:
        surveys = connection.execute(
            text("SELECT id, status, kind, min_group_size, public_token FROM surveys ORDER BY id")
        ).all()
        assert [(s.id, s.status, s.kind, s.min_group_size) for s in surveys] == [
            (1, "open", "course", 3),
            (2, "open", "course", 2),
        ]
        assert all(len(s.public_token) >= 43 for s in surveys)
        kinds = connection.execute(text("SELECT id, kind FROM questions ORDER BY id")).all()
        assert [k.kind for k in kinds] == ["multiple", "long_text", "nps"]
        responses = connection.execute(
            text(
                "SELECT id, survey_id, anonymous, participant_id, submitted_at FROM responses "
                "ORDER BY survey_id"
            )
        ).all()
        assert len(responses) == 3  # the participant's earlier duplicate is gone, the last one stands
        assert all(r.id > 4 for r in responses)  # ids redrawn at random
        moment = responses[0].submitted_at
        moment = moment.astimezone(UTC).isoformat(" ") if isinstance(moment, datetime) else moment
        assert moment.startswith("2026-10-09 00:00:00") and bool(responses[0].anonymous)  # the day only
        named = [r for r in responses if r.survey_id == 2]
        assert [r.participant_id for r in named] == [7]
        score = connection.execute(
            text("SELECT score FROM answers WHERE response_id = :r"), {"r": named[0].id}
        )
        assert score.scalar() == 9
        choices = connection.execute(
            text(
                "SELECT a.ordinal, a.choice FROM answers a WHERE a.question_id = 1 "
                "ORDER BY a.response_id, a.ordinal"
            )
        ).all()
        assert len(choices) == 3
        options = connection.execute(text("SELECT options FROM questions WHERE id = 1")).scalar()
    engine.dispose()

    options = json.loads(options) if isinstance(options, str) else options
    labels = {o["id"]: (o["label"], o["removed"]) for o in options}
    assert sorted(labels.values()) == [("Время", False), ("Мотивация", False), ("Удалённый", True)]
    assert {c.choice for c in choices} == set(labels)

    # And a survey created afterwards gets the next id, not one of the carried-over ones.
    engine = create_engine(url)
    with engine.begin() as connection:
        new_id = connection.execute(
            text(
                "INSERT INTO surveys (event_id, title, kind, anonymous, min_group_size, status, "
                "public_token, created_at, updated_at) VALUES (5, 'Новый', 'course', :no, 5, 'draft', 'tok', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
            ),
            {"no": False},
        ).scalar()
    engine.dispose()
    assert new_id == 3
    command.downgrade(config, FIRST)  # and back: the first schema again, with what it can hold
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM answers")).scalar() == 5
    engine.dispose()
