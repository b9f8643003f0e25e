from eventops.migrate import run_env
from services.registration.models import Base

run_env(Base.metadata)
