"""Alembic environment for the CineBlend app store.

Run through :mod:`recsys.store.migrate`, which passes an open connection (already inside the
transaction that serialises concurrent upgrades) as ``config.attributes["connection"]``. For a
developer creating a new revision, ``sqlalchemy.url`` on the config is used instead, e.g.::

    python -c "from recsys.store.migrate import alembic_config; from alembic import command; \
command.revision(alembic_config('sqlite:///data/app.db'), 'add x', autogenerate=True)"
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from recsys.store.engine import make_engine, write_transaction
from recsys.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs table copies for most ALTERs
        compare_type=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=metadata,
            literal_binds=True,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("Pass a connection or set sqlalchemy.url on the Alembic config.")
    engine = make_engine(url)
    try:
        with write_transaction(engine) as conn:
            _run(conn)
    finally:
        engine.dispose()


_main()
