"""Django's PostgreSQL backend, whose connection check before reuse sends no query.

With CONN_HEALTH_CHECKS, Django checks a kept connection before each request reuses it by
sending `SELECT 1`: one round trip more on every request (#8: an intake makes nine). A
connection the server closed while it sat idle (a restart, a failover, an idle timeout)
says so on its socket: the server's "terminating connection" message, then end of file,
make it readable. So the check asks the socket instead, without waiting: readable while
idle, or closed by the driver after an error, means unusable, and Django reconnects.
A connection lost without a word (a network cut) fails its next query either way, as with
`SELECT 1`, which would wait for it to time out.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return not readable
