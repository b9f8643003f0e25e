"""SQLite durability per service: a database that holds check-ins survives a power cut with what the tablet
was told is saved (synchronous=FULL); the others keep WAL's faster NORMAL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from eventops import db


def synchronous(app) -> int:
    with app.app_context(), db.engine().connect() as connection:
        return connection.execute(text("PRAGMA synchronous")).scalar_one()


FULL, NORMAL = 2, 1


@pytest.mark.parametrize("db_backend", ["sqlite"])
def test_certificates_which_holds_check_ins_writes_with_synchronous_full(app_factory, db_backend):
    assert db.SQLITE_SYNCHRONOUS["certificates"] == "FULL"
    assert synchronous(app_factory("certificates")) == FULL


@pytest.mark.parametrize("db_backend", ["sqlite"])
@pytest.mark.parametrize("service", ["registration", "feedback"])
def test_the_other_services_keep_normal(app_factory, db_backend, service):
    assert synchronous(app_factory(service)) == NORMAL


def test_an_engine_takes_its_durability_as_asked(tmp_path):
    for level, number in (("FULL", FULL), ("NORMAL", NORMAL), ("EXTRA", 3)):
        engine = db.make_engine(f"sqlite:///{tmp_path}/{level}.db", synchronous=level)
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA synchronous")).scalar_one() == number
            assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        engine.dispose()


def test_an_unknown_durability_is_refused(tmp_path):
    with pytest.raises(ValueError, match="synchronous"):
        db.make_engine(f"sqlite:///{tmp_path}/x.db", synchronous="OFF; DROP TABLE x")
