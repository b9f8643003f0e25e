from eventops.migrate import run_env
from services.feedback.models import Base

run_env(Base.metadata)
