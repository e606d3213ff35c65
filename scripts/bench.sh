#!/usr/bin/env bash
# `make bench`: every benchmark in bench/, each printing ratios against a baseline measured
# in the same run: the consent endpoint and the busy endpoints under load (intake, consent,
# tracker, admin queue) against gunicorn on 127.0.0.1, the retention sweep and the streaming
# export, with a private PostgreSQL and Redis. Arguments go to
# bench/retention.py:
# `bash scripts/bench.sh --people 200000`.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib.sh

ensure_system_packages
command -v wrk >/dev/null || {
    [ "$(id -u)" = 0 ] || { echo "Missing wrk (apt-get install wrk)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
}
ensure_venv requirements-dev.txt

services_start
trap services_stop EXIT

export DATABASE_URL REDIS_URL
export SECRET_KEY="bench-secret-key-not-for-production"
export SUBJECT_HASH_KEY="bench-subject-hash-key"
.venv/bin/python manage.py compilemessages -v 0

.venv/bin/python bench/consent.py

echo
echo "==> bench/load.py"
.venv/bin/python bench/load.py

echo
echo "==> bench/retention.py"
HTTPS=false DEBUG=false EMAIL_URL="consolemail://" LOG_LEVEL=WARNING \
    .venv/bin/python bench/retention.py "$@"

echo
echo "==> bench/export.py"
HTTPS=false DEBUG=false EMAIL_URL="consolemail://" LOG_LEVEL=WARNING \
    .venv/bin/python bench/export.py

echo
echo "==> bench/dashboard.py"
HTTPS=false DEBUG=false EMAIL_URL="consolemail://" LOG_LEVEL=WARNING \
    .venv/bin/python bench/dashboard.py
