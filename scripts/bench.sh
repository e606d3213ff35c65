#!/usr/bin/env bash
# `make bench`: start a private PostgreSQL (and Redis), run every benchmark in bench/
# against it, stop both whatever happens. Benchmarks print their figures and ratios.
# Arguments go to each benchmark: `bash scripts/bench.sh --people 200000`.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib.sh

ensure_system_packages
ensure_venv requirements-dev.txt

services_start
trap services_stop EXIT

export DATABASE_URL REDIS_URL
export SECRET_KEY="bench-secret-key-not-for-production"
export SUBJECT_HASH_KEY="bench-subject-hash-key"
export HTTPS=false DEBUG=false EMAIL_URL="consolemail://" LOG_LEVEL=WARNING

echo
echo "==> bench/retention.py"
.venv/bin/python bench/retention.py "$@"
