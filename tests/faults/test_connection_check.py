"""A kept database connection is checked before reuse by reading its socket, not by a query
(okasio_privacy/postgresql): a connection the server ended is seen at once and replaced,
and a healthy one costs no round trip (#8)."""

from __future__ import annotations

import time

import psycopg2
import pytest
from django.db import close_old_connections, connection

from rights.models import DataSubjectRequest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL backend's check")
    connection.ensure_connection()
    yield
    connection.close()


def _from_elsewhere(sql: str, pid: int):
    """Run `sql` about the session `pid` on a connection of its own; return its first row."""
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute(sql, [pid])
            return cursor.fetchone()
    finally:
        other.close()


def test_a_healthy_connection_is_usable_without_a_query(postgresql):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'the last query'")
    assert connection.is_usable()
    # The server's view of this session: its last statement is still ours, not a SELECT 1.
    pid = connection.connection.get_backend_pid()
    last = _from_elsewhere("SELECT query FROM pg_stat_activity WHERE pid = %s", pid)
    assert last == ("SELECT 'the last query'",)


def test_a_connection_the_server_ended_is_replaced_before_the_next_request(postgresql, client):
    old_pid = connection.connection.get_backend_pid()
    # What a restart or an idle timeout does to a session: the server ends it.
    _from_elsewhere("SELECT pg_terminate_backend(%s)", old_pid)
    deadline = time.monotonic() + 10  # the server's goodbye reaches the socket
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not connection.is_usable()

    # The next request checks the kept connection, drops it and connects again: no error.
    close_old_connections()  # what a server does as each request starts (the client skips it)
    response = client.post(
        "/api/v1/requests/",
        {"kind": "access", "email": "p@example.fr", "language": "en"},
        content_type="application/json",
    )
    assert response.status_code == 202
    assert DataSubjectRequest.objects.filter(email="p@example.fr").exists()
    assert connection.connection.get_backend_pid() != old_pid
