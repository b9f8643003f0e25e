#!/bin/bash
# One database per service (the postgres image runs this once, on an empty volume).
set -euo pipefail
for db in ${POSTGRES_MULTIPLE_DATABASES//,/ }; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" -c "CREATE DATABASE \"$db\""
done
