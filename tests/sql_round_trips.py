"""Count the SQL an engine sends while a block runs: statements, and round trips to the server.

    with SqlRoundTrips(engine) as sql:
        client.post("/lti/launch", ...)
    assert sql.statements == 8, sql.report()

``statements`` counts what goes through a cursor (SELECT, INSERT …, SET …). ``round_trips`` adds the
transaction control a PostgreSQL server answers too: each BEGIN (psycopg sends it before a transaction's
first statement) and each COMMIT or ROLLBACK. SQLite has no server, but the same events are counted so
that the two databases can be compared. Only this thread's SQL is counted unless ``all_threads``.
``compiled`` lists the statements SQLAlchemy compiled for the block instead of taking them from its cache.
"""
from __future__ import annotations

import threading

from sqlalchemy import event
from sqlalchemy.engine.default import CACHE_HIT


class SqlRoundTrips:
    def __init__(self, engine, *, all_threads: bool = False):
        self.engine = engine
        self.all_threads = all_threads
        self.thread = threading.get_ident()
        self.log: list[str] = []  # statements, and "BEGIN" / "COMMIT" / "ROLLBACK", in order
        self.compiled: list[str] = []  # statements compiled anew rather than found in the compiled cache
        self._hooks = {
            "before_cursor_execute": self._statement,
            "begin": lambda conn: self._control("BEGIN"),
            "commit": lambda conn: self._control("COMMIT"),
            "rollback": lambda conn: self._control("ROLLBACK"),
        }

    def _mine(self) -> bool:
        return self.all_threads or threading.get_ident() == self.thread

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if self._mine():
            self.log.append(" ".join(statement.split()))
            if context.compiled is not None and context.cache_hit is not CACHE_HIT:  # (raw SQL compiles nothing)
                self.compiled.append(self.log[-1])

    def _control(self, what: str) -> None:
        if self._mine():
            self.log.append(what)

    def __enter__(self) -> "SqlRoundTrips":
        for name, hook in self._hooks.items():
            event.listen(self.engine, name, hook)
        return self

    def __exit__(self, *exc) -> None:
        for name, hook in self._hooks.items():
            event.remove(self.engine, name, hook)

    @property
    def statement_list(self) -> list[str]:
        return [s for s in self.log if s not in ("BEGIN", "COMMIT", "ROLLBACK")]

    @property
    def statements(self) -> int:
        return len(self.statement_list)

    @property
    def round_trips(self) -> int:
        """Statements plus BEGIN, COMMIT and ROLLBACK. A BEGIN whose transaction sent nothing (a session
        that only opened a connection) is not sent by psycopg, so it is not counted."""
        trips, pending_begin = 0, False
        for entry in self.log:
            if entry == "BEGIN":
                pending_begin = True
                continue
            if entry in ("COMMIT", "ROLLBACK"):
                if pending_begin:  # nothing ran in it: psycopg sends neither BEGIN nor COMMIT
                    pending_begin = False
                    continue
                trips += 1
                continue
            if pending_begin:
                trips += 1
                pending_begin = False
            trips += 1
        return trips

    def reset(self) -> None:
        self.log.clear()
        self.compiled.clear()

    def report(self) -> str:
        """The log, one entry a line, shortened: for assertion messages."""
        return "\n".join(entry[:160] for entry in self.log)
