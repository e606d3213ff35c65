#!/usr/bin/env bash
# `make test`: install what the tests need, start a private PostgreSQL and Redis on free
# loopback ports, run the linters, the Django checks and pytest against them, then stop
# both whatever happens. Exits with the first failing step's status (pytest's otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib.sh

ensure_system_packages
ensure_venv requirements-dev.txt
ensure_node_modules

services_start
trap services_stop EXIT

export DATABASE_URL REDIS_URL
export SECRET_KEY="test-secret-key-not-for-production"
export SUBJECT_HASH_KEY="test-subject-hash-key"
export HTTPS=false DEBUG=false
export EMAIL_URL="consolemail://"
export DJANGO_ALLOW_ASYNC_UNSAFE=true

step() { echo; echo "==> $*"; }

step "ruff check"
.venv/bin/ruff check .
step "ruff format --check"
.venv/bin/ruff format --check .
step "bandit (medium and high)"
.venv/bin/bandit -q -r okasio_privacy people rights consent retention audit -ll
step "compilemessages"
.venv/bin/python manage.py compilemessages -v 0
step "makemigrations --check"
.venv/bin/python manage.py makemigrations --check --dry-run
step "manage.py check"
.venv/bin/python manage.py check --fail-level WARNING
step "pytest"
.venv/bin/pytest --create-db "$@"
