"""INSERT … ON CONFLICT on PostgreSQL and SQLite alike: the launch path's upserts and the shared cache's.

Each statement is built once per shape and run with its values as parameters: building it anew on every
launch cost more CPU than running it.
"""
from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_for(dialect: str):
    """The dialect's ``insert`` construct (both have ``on_conflict_do_nothing`` / ``_do_update``)."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


_STATEMENTS: dict[tuple, object] = {}


def upsert_statement(dialect: str, table, keys: tuple, names: tuple, *, keep_existing: bool = False,
                     returning: bool = True):
    """INSERT … ON CONFLICT (keys) DO UPDATE SET names [RETURNING id]. ``keep_existing``: a value given
    as None leaves the stored one as it is."""
    shape = (dialect, table.name, keys, names, keep_existing, returning)
    if shape not in _STATEMENTS:
        insert = insert_for(dialect)(table)
        update = {k: func.coalesce(insert.excluded[k], table.c[k]) if keep_existing else insert.excluded[k]
                  for k in names}
        statement = insert.on_conflict_do_update(index_elements=list(keys), set_=update)
        _STATEMENTS[shape] = statement.returning(table.c.id) if returning else statement
    return _STATEMENTS[shape]
