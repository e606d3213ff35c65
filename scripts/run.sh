#!/usr/bin/env bash
# `make run`: the portal on SQLite with demo data and a DPO login, no server to install.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_venv requirements.txt

if [ ! -f .env ]; then
    secret=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
    hash_key=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
    cat > .env <<ENV
# Written by make run for local development. Never use these values in production.
DEBUG=true
HTTPS=false
SECRET_KEY=$secret
SUBJECT_HASH_KEY=$hash_key
ENV
    echo "Wrote a local .env (DEBUG on, random secrets)"
fi

.venv/bin/python manage.py migrate --no-input -v 0
if command -v msgfmt >/dev/null; then
    .venv/bin/python manage.py compilemessages -v 0
else
    .venv/bin/python scripts/compile_messages.py
fi
.venv/bin/python manage.py seed_demo
exec .venv/bin/python manage.py runserver 127.0.0.1:8000
