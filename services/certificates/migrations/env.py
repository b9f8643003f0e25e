from eventops.migrate import run_env
from services.certificates.models import Base

run_env(Base.metadata)
