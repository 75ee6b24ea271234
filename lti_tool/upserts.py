"""INSERT … ON CONFLICT on PostgreSQL and SQLite alike: the launch path's upserts and the shared cache's.

Each statement is built once per shape and run with its values as parameters: building it anew on every
launch cost more CPU than running it.
"""
from __future__ import annotations

from sqlalchemy import bindparam, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_for(dialect: str):
    """The dialect's ``insert`` construct (both have ``on_conflict_do_nothing`` / ``_do_update``)."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


_STATEMENTS: dict[tuple, object] = {}


def upsert_statement(dialect: str, table, keys: tuple, names: tuple, *, keep_existing: bool = False,
                     returning=True, rows: int | None = None):
    """INSERT … ON CONFLICT (keys) DO UPDATE SET names [RETURNING …]. ``keep_existing``: a value given
    as None leaves the stored one as it is.

    ``table``: a Table, or a mapped class for an ORM-enabled statement (``returning`` the class then gives
    the upserted objects, in the session). ``returning``: True for the row's id, False for nothing, or an
    expression to return instead (build it once, at module level: it is part of the statement's shape).
    ``rows``: a multi-row INSERT of that many rows, whose parameters are named ``<column>_<row>`` (see
    ``row_parameters``); None for one row whose parameters are the column names.
    """
    shape = (dialect, table, keys, names, keep_existing, returning, rows)
    if shape not in _STATEMENTS:
        insert = insert_for(dialect)(table)
        table = getattr(table, "__table__", table)
        if rows is not None:
            values = [{name: bindparam(f"{name}_{i}", type_=table.c[name].type) for name in (*keys, *names)}
                      for i in range(rows)]
            # One row as a dict, not a list of one: SQLAlchemy caches the compiled form of a single-row
            # VALUES but compiles a multi-row one anew on every execution.
            insert = insert.values(values[0] if rows == 1 else values)
        statement = insert.on_conflict_do_update(index_elements=list(keys),
                                                 set_=conflict_updates(insert, table, names, keep_existing))
        if returning is True:
            statement = statement.returning(table.c.id)
        elif returning is not False:
            statement = statement.returning(returning)
        _STATEMENTS[shape] = statement
    return _STATEMENTS[shape]


def conflict_updates(insert, table, names: tuple, keep_existing: bool = False) -> dict:
    """The SET of an INSERT's ON CONFLICT DO UPDATE: each of ``names`` takes the inserted value; with
    ``keep_existing`` a value given as None leaves the stored one as it is."""
    return {k: func.coalesce(insert.excluded[k], table.c[k]) if keep_existing else insert.excluded[k]
            for k in names}


def row_parameters(rows: list[dict]) -> dict:
    """The parameters of ``upsert_statement(…, rows=len(rows))``: ``{"<column>_<row>": value}``."""
    return {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}
