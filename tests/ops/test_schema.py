"""The schema the migrations build is the one the models describe, and it carries no index that only
repeats what a composite unique key already gives.

A single-column index on the leading column of a two-column unique key is never needed (the unique key's
index serves lookups by that column alone) and costs on every insert: a first launch writes a user, a
membership and a participant, each of which updated such an index. Worse, on a young database PostgreSQL
picked the single-column index for the launch's user lookup and then filtered every user of the platform.
"""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import UniqueConstraint, inspect


def test_the_migrated_schema_is_the_models_schema(app):
    from lti_tool.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert differences == []


def leading_columns_of_unique_keys(unique_keys) -> set[str]:
    return {columns[0] for columns in unique_keys if len(columns) > 1}


def test_no_index_repeats_the_leading_column_of_a_unique_key(app):
    from lti_tool.extensions import db

    redundant = []
    for table in db.metadata.sorted_tables:  # what the models declare
        leads = leading_columns_of_unique_keys(
            [[c.name for c in constraint.columns] for constraint in table.constraints
             if isinstance(constraint, UniqueConstraint)]
            + [[c.name for c in index.columns] for index in table.indexes if index.unique])
        redundant += [index.name for index in table.indexes
                      if not index.unique and len(index.columns) == 1 and next(iter(index.columns)).name in leads]
    with app.app_context():  # and what the migrations built
        inspector = inspect(db.engine)
        for name in inspector.get_table_names():
            leads = leading_columns_of_unique_keys(
                [u["column_names"] for u in inspector.get_unique_constraints(name)]
                + [i["column_names"] for i in inspector.get_indexes(name) if i["unique"]])
            redundant += [index["name"] for index in inspector.get_indexes(name)
                          if not index["unique"] and len(index["column_names"]) == 1
                          and index["column_names"][0] in leads]
    assert redundant == []
