# Shared by scripts/test.sh and scripts/bench.sh. Source it; it defines functions only.

PYTHON=${PYTHON:-python3.11}

# PostgreSQL, Redis, Chromium, gettext and docker-compose (to validate the compose file) from Debian's packages, when missing and root.
ensure_system_packages() {
    local missing=()
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    command -v redis-server >/dev/null || missing+=(redis-server)
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    command -v msgfmt >/dev/null || missing+=(gettext)
    command -v docker-compose >/dev/null || missing+=(docker-compose)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "Missing system packages: ${missing[*]} (install them, or run as root)" >&2
        return 1
    fi
    echo "Installing ${missing[*]} from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# .venv with the given requirements file; reinstalls only when the file changed.
ensure_venv() {
    local req=$1 stamp=.venv/.installed-$1
    [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
    if [ ! -f "$stamp" ] || ! cmp -s "$req" "$stamp" || ! cmp -s requirements.txt .venv/.installed-requirements.txt; then
        .venv/bin/pip install -q --disable-pip-version-check -r "$req"
        cp "$req" "$stamp"
        cp requirements.txt .venv/.installed-requirements.txt
    fi
}

# tests/e2e/node_modules (axe-core, which the accessibility test injects) from its lock file, when missing.
ensure_node_modules() {
    [ -f tests/e2e/node_modules/axe-core/axe.min.js ] && return 0
    npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
}

free_port() {
    "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A private PostgreSQL (initdb in a temp dir) and Redis, loopback only, on free ports.
# Sets DATABASE_URL and REDIS_URL.
services_start() {
    SERVICES_DIR=$(mktemp -d /tmp/okasio-services.XXXXXX)
    chmod 755 "$SERVICES_DIR"
    local pgbin pg_port redis_port as_pg=()
    pgbin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
    pg_port=$(free_port)
    redis_port=$(free_port)
    mkdir -p "$SERVICES_DIR/pg"
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$SERVICES_DIR/pg"
        as_pg=(runuser -u postgres --)
    fi
    "${as_pg[@]}" "$pgbin/initdb" -D "$SERVICES_DIR/pg/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
    local pg_options="-p $pg_port -k $SERVICES_DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$SERVICES_DIR/pg/data" -l "$SERVICES_DIR/pg/log" -w -o \
        "$pg_options" start >/dev/null
    "${as_pg[@]}" "$pgbin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres okasio
    PG_STOP=("${as_pg[@]}" "$pgbin/pg_ctl" -D "$SERVICES_DIR/pg/data" -m fast stop)
    redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
        --dir "$SERVICES_DIR" --pidfile "$SERVICES_DIR/redis.pid" --logfile "$SERVICES_DIR/redis.log"
    DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/okasio"
    REDIS_URL="redis://127.0.0.1:$redis_port/0"
    # The Redis port, and how to stop and start this PostgreSQL (pg_ctl -D DATA -o OPTIONS,
    # as OKASIO_PG_USER when not empty) and reach its tools (pg_dump, pg_restore), for the
    # tests that stop and restart them or restore a backup (tests/faults/).
    export OKASIO_REDIS_PORT=$redis_port OKASIO_SERVICES_DIR=$SERVICES_DIR
    export OKASIO_PG_BIN=$pgbin OKASIO_PG_DATA=$SERVICES_DIR/pg/data OKASIO_PG_OPTIONS=$pg_options
    export OKASIO_PG_USER=${as_pg:+postgres}
    for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"
}

services_stop() {
    local status=$?
    [ -n "${PG_STOP:-}" ] && "${PG_STOP[@]}" >/dev/null 2>&1 || true
    if [ -f "${SERVICES_DIR:-/nonexistent}/redis.pid" ]; then
        kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null || true
    fi
    # Any Redis a fault test restarted on the same port.
    [ -n "${OKASIO_REDIS_PORT:-}" ] && redis-cli -p "$OKASIO_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    [ -n "${SERVICES_DIR:-}" ] && rm -rf "$SERVICES_DIR"
    return $status
}
