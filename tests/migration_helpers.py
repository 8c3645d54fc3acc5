"""Running the project's migrations back and forth inside a test, to check what a data
migration does to rows stored before it (the test must use a transactional database)."""

import contextlib

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """Migrate the test database to `targets`; returns the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@contextlib.contextmanager
def migrated_back_to(targets):
    """The models as of `targets`, the database migrated back there; forward again after."""
    try:
        yield migrate(targets)
    finally:
        migrate_to_latest()


def migrate_to_latest():
    """Migrate the test database forward to the project's latest migrations."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
