"""The private services of `make test`, stopped and started again by the fault tests.

`scripts/lib.sh` exports where they are: OKASIO_REDIS_PORT and OKASIO_SERVICES_DIR for
Redis; OKASIO_PG_BIN, OKASIO_PG_DATA, OKASIO_PG_OPTIONS and OKASIO_PG_USER for PostgreSQL.
Without them (a plain `pytest` on SQLite) these tests are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

needs_services = pytest.mark.skipif(
    not os.environ.get("OKASIO_PG_DATA"),
    reason="needs the private PostgreSQL and Redis of `make test`",
)


@pytest.fixture(autouse=True)
def _default_language():
    """Pages asked for in English leave English active in this thread: not for the next test."""
    from django.utils import translation

    yield
    translation.deactivate()


def wait_for(condition, *, timeout: float, every: float = 0.05, what: str = "condition"):
    """Poll `condition` until it returns something truthy; return that, or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


# --- Redis ---------------------------------------------------------------------------------


def _redis_answers(port: str) -> bool:
    ping = subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True, text=True)
    return ping.stdout.strip() == "PONG"


@contextmanager
def redis_down() -> Iterator[None]:
    """Shut the private Redis down (broker and cache); start it again on the way out."""
    port = os.environ["OKASIO_REDIS_PORT"]
    subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], check=False, timeout=10)
    try:
        yield
    finally:
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", port]
            + ["--save", "", "--appendonly", "no", "--dir", os.environ["OKASIO_SERVICES_DIR"]],
            check=True,
            timeout=10,
        )
        wait_for(lambda: _redis_answers(port), timeout=10, what="Redis")


# --- PostgreSQL ----------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    return str(Path(os.environ["OKASIO_PG_BIN"]) / name)


def pg_ctl(action: str) -> None:
    """`pg_ctl stop` (fast: sessions are ended, their transactions rolled back) or `start`,
    as the user that owns the data directory, waiting until it is done."""
    run_as = (
        ["runuser", "-u", os.environ["OKASIO_PG_USER"], "--"]
        if os.environ.get("OKASIO_PG_USER")
        else []
    )
    data = os.environ["OKASIO_PG_DATA"]
    command = [pg_tool("pg_ctl"), "-D", data, "-w"]
    if action == "stop":
        command += ["-m", "fast", "stop"]
    else:
        command += ["-l", str(Path(data).parent / "log"), "-o", os.environ["OKASIO_PG_OPTIONS"]]
        command += ["start"]
    subprocess.run(run_as + command, check=True, timeout=60, stdout=subprocess.DEVNULL)


def database_url(name: str | None = None) -> str:
    """The test database's URL (or another database's on the same server)."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name or db['NAME']}"


def manage(*args: str, database: str | None = None, env: dict | None = None, **kwargs):
    """Run `manage.py ARGS` in a subprocess against the test database (or `database`)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**os.environ, "DATABASE_URL": database_url(database), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


# --- Load: a few threads calling the portal while a service fails -------------------------


class Load:
    """Threads calling `call(i)` in a loop until stopped; `results` holds what each returned."""

    def __init__(self, call, *, threads: int = 3) -> None:
        self.call = call
        self.results: list = []
        self._stop = threading.Event()
        self._counter = iter(range(10**9))
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                i = next(self._counter)
            result = self.call(i)
            with self._lock:
                self.results.append(result)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
