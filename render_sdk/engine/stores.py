"""Which store the engine's ``db`` setting selects (``--db``, ``RENDER_WORKFLOWS_DB``).

Apart from the storage interface (store.py), which every store imports: only this module knows
every store.
"""

from __future__ import annotations

from render_sdk.engine.store import Store, StoreOpenError, is_postgres_url


def make_store(db: str, durable: bool = True) -> Store:
    """The store for the engine's ``db`` setting: a PostgreSQL URL, a SQLite file or
    ``:memory:``. Nothing is opened yet; a PostgreSQL URL without the driver installed is a
    :class:`StoreOpenError`."""
    if is_postgres_url(db):
        try:
            from render_sdk.engine.store_postgres import PostgresStore
        except ImportError as exc:
            raise StoreOpenError(
                f"a PostgreSQL database needs the postgres extra ({exc.name or exc} is not "
                "installed): install render_sdk[postgres]"
            ) from None
        return PostgresStore(db, durable=durable)
    from render_sdk.engine.store_sqlite import SQLiteStore

    return SQLiteStore(db, durable=durable)
