"""`field__any=keys`: a batch of keys as one parameter, for the sweeps.

Django's `__in` prepares, resolves and adapts every key of the list on its own: with 5,000
keys a batch and a dozen statements per batch, that was 60% of the time of deleting
prospects (cProfile). On PostgreSQL `__any` sends `field = ANY(%s)` with the list as one
array, which psycopg2 adapts in C; elsewhere (SQLite in development) it is a plain `IN`.
The keys must already be of the field's type (primary keys read from the database).
"""

from __future__ import annotations

from django.db.models import ForeignKey, IntegerField, Lookup


class Any(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        keys = list(self.rhs)
        placeholders = ", ".join(["%s"] * len(keys))
        return f"{lhs} IN ({placeholders})", [*lhs_params, *keys]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


def register() -> None:
    """Called once, by the retention app's ready()."""
    IntegerField.register_lookup(Any)  # primary keys (AutoField, BigAutoField) included
    ForeignKey.register_lookup(Any)
