from eventops.migrate import run_env
from services.registration.models import Base

# Created by migration dfc08ad52759 for PostgreSQL only; SQLite's FTS5 tables are outside the metadata.
run_env(Base.metadata, unmanaged=frozenset({"ix_participants_search_text_trgm"}))
