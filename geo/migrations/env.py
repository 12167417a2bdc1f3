"""Alembic environment: the URL comes from the caller (geo.infra.db.upgrade), never from a file.

The migrations (hand-written SQL) are the one truth of the schema: partitions, triggers,
expression and partial indexes included. There are no ORM models and no target metadata, so
autogenerate proposes nothing; every enumeration a CHECK holds is spelled once in Python and
held equal to it by tests/geo/infra/test_enums.py."""

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=None, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
