"""The backup drill (`make drill`): dump, erase someone, restore the dump, and erase them
again from the erasure ledger; the audit chain still verifies. On separate databases of the
private PostgreSQL (the test database is untouched), with the tools and commands an
operator uses: pg_dump, pg_restore, and manage.py dumpdata, loaddata, reapply_erasures and
audit_verify (README, "Restoring a backup").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from tests.faults.conftest import database_url, manage, needs_services, pg_tool

pytestmark = needs_services


def _pg(tool: str, *args: str) -> None:
    from django.db import connection

    db = connection.settings_dict
    where = ["-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"]]
    subprocess.run([pg_tool(tool), *where, *args], check=True, timeout=120, capture_output=True)


def _step(database: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.drill_steps", *args],
        env={**os.environ, **LOCAL, "DATABASE_URL": database_url(database)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# Tasks in-process and a local cache: nothing of the drill goes through the shared Redis
# (and its emails are sent nowhere).
LOCAL = {"REDIS_URL": "", "EMAIL_URL": "dummymail://"}


def _manage(database: str, *args: str) -> subprocess.CompletedProcess:
    done = manage(*args, database=database, env=LOCAL)
    assert done.returncode == 0, done.stderr
    return done


def test_it_erases_again_after_a_restore_and_the_audit_chain_still_verifies(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    live, restored = f"okasio_drill_{suffix}", f"okasio_restored_{suffix}"
    backup, ledger = tmp_path / "okasio.dump", tmp_path / "erasure-ledger.json"
    opposition = tmp_path / "opposition-list.json"
    _pg("createdb", live)
    try:
        _manage(live, "migrate", "--no-input", "-v", "0")
        reference = _step(live, "seed")
        _step(live, "unsubscribe", "carol@example.fr")

        # The nightly backup, then an erasure and unsubscribes the backup does not know about.
        _pg("pg_dump", "--format=custom", f"--file={backup}", live)
        _step(live, "erase", reference)
        assert json.loads(_step(live, "people")) == ["bob@example.fr"]
        _step(live, "unsubscribe", "bob@example.fr")
        _step(live, "consent", "carol@example.fr")  # her entry leaves the list...
        _step(live, "unsubscribe", "carol@example.fr")  # ...and comes back with a new id

        # Restoring: keep the ledger and the opposition list of the database being
        # replaced, restore the dump...
        _manage(live, "dumpdata", "rights.ErasureLedger", f"--output={ledger}")
        _manage(
            live,
            "dumpdata",
            "consent.OppositionEntry",
            "--natural-primary",
            f"--output={opposition}",
        )
        _pg("createdb", restored)
        _pg("pg_restore", "--no-owner", f"--dbname={restored}", str(backup))
        assert json.loads(_step(restored, "people")) == ["alice@example.fr", "bob@example.fr"]
        assert json.loads(_step(restored, "opposed", "bob@example.fr")) is False

        # ...load them into it (the list by subject and channel, whatever the ids: the
        # restored database's entry for Carol is updated), and erase again whoever the
        # ledger names.
        _manage(restored, "loaddata", str(opposition))
        assert json.loads(_step(restored, "opposed", "bob@example.fr")) is True  # B9, B11
        assert json.loads(_step(restored, "opposed", "carol@example.fr")) is True
        _manage(restored, "loaddata", str(ledger))
        again = _manage(restored, "reapply_erasures")
        assert "erased 1 restored record(s)" in again.stdout
        assert json.loads(_step(restored, "people")) == ["bob@example.fr"]
        assert "erased 0" in _manage(restored, "reapply_erasures").stdout  # idempotent
        verified = _manage(restored, "audit_verify")
        assert verified.stdout.startswith("OK:")
        assert _manage(live, "audit_verify").stdout.startswith("OK:")
    finally:
        for name in (live, restored):
            _pg("dropdb", "--if-exists", "--force", name)
