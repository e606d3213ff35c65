#!/usr/bin/env bash
# `make bench`: every benchmark in bench/, against gunicorn on 127.0.0.1 with a private
# PostgreSQL and Redis; each prints ratios against a baseline measured in the same run.
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
