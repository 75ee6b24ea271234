"""Flask extensions, created unbound and initialised in ``create_app``."""
from flask_babel import Babel
from flask_caching import Cache
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
import logging
import time

from sqlalchemy import MetaData, event
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints so Alembic can alter and drop them on PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


log = logging.getLogger(__name__)
db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
cache = Cache()
babel = Babel()


def ping_idle_connections(engine, after_seconds: float) -> None:
    """Test a pooled connection before use only when it sat idle ``after_seconds`` or more.

    ``pool_pre_ping`` costs a round trip on every checkout, i.e. on every request; a connection in
    steady use is alive, and one that idled (through a database restart, a firewall's idle timeout)
    is pinged and, when dead, replaced before the request sees it. A connection that dies while in
    use fails that statement and SQLAlchemy then replaces every pooled connection.
    """
    @event.listens_for(engine, "checkin")
    def _idle_from(dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < after_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as e:  # noqa: BLE001 - any failure means the connection is unusable
            raise DisconnectionError(f"pooled connection lost while idle: {e}") from e


def rollback_or_close() -> None:
    """Roll back; when the server has already dropped the connection the rollback fails too: then the
    session is closed (its connection goes back to the pool, which discards a dead one)."""
    try:
        db.session.rollback()
    except SQLAlchemyError as e:
        log.warning("rollback failed, closing the session: %s", e)
        db.session.close()


def _writes_in_with(compiled) -> bool:
    """A compiled SELECT that writes in its WITH (the launch's used nonce, a first launch's user and
    membership: WITH … INSERT … RETURNING)."""
    return any(isinstance(cte.element, UpdateBase) for cte in (getattr(compiled, "ctes", None) or ()))


def commit_read_only_transactions(engine) -> None:
    """On PostgreSQL, end a transaction that only ran SELECTs with COMMIT instead of ROLLBACK.

    The two are the same to the database, but psycopg drops every statement it has prepared on the
    server at each ROLLBACK (and sends DEALLOCATE ALL, one more round trip). Every request that only
    read (most page views; with Redis, every OIDC login) ended in ROLLBACK, so nothing stayed prepared
    and PostgreSQL parsed and planned each statement anew. A transaction that wrote anything (a SELECT
    whose WITH holds an INSERT, UPDATE or DELETE included), ran anything but a SELECT built with
    SQLAlchemy, or failed is still rolled back.
    """
    if engine.dialect.name != "postgresql":
        return
    from psycopg.pq import TransactionStatus
    from sqlalchemy.sql import CompoundSelect, Select

    @event.listens_for(engine, "begin")
    def _only_reads_so_far(conn):
        conn.info["rml_only_read"] = True

    @event.listens_for(engine, "before_cursor_execute")
    def _note_anything_else(conn, cursor, statement, parameters, context, executemany):
        if conn.info.get("rml_only_read"):
            compiled = getattr(context, "compiled", None)
            if compiled is None or not isinstance(compiled.statement, (Select, CompoundSelect)) \
                    or _writes_in_with(compiled):
                conn.info["rml_only_read"] = False

    @event.listens_for(engine, "rollback")
    def _commit_what_only_read(conn):
        # A connection the server dropped is invalidated: leave it to the rollback (Connection.info would
        # try to reconnect inside the transaction and raise PendingRollbackError instead).
        if conn.invalidated or not conn.info.pop("rml_only_read", False):
            return
        dbapi_connection = conn.connection.dbapi_connection
        if dbapi_connection is not None and dbapi_connection.info.transaction_status == TransactionStatus.INTRANS:
            try:
                dbapi_connection.commit()  # the rollback that follows then finds no transaction to end
            except Exception:  # noqa: BLE001 - a broken connection: the rollback deals with it as before
                pass
