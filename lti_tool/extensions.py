"""Flask extensions, created unbound and initialised in ``create_app``."""
from flask_babel import Babel
from flask_caching import Cache
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
import time

from sqlalchemy import MetaData, event
from sqlalchemy.exc import DisconnectionError
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
