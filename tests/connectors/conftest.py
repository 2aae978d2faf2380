import uuid

import pytest

from tests.harness import MariaDBServer


@pytest.fixture(scope="session")
def mariadb():
    """One MariaDB server for the session, started the first time a test asks for it."""
    server = MariaDBServer().start()
    yield server
    server.stop()


@pytest.fixture
def mariadb_database(mariadb):
    """A fresh, empty database name on the MariaDB server; dropped afterwards."""
    name = f"wh_{uuid.uuid4().hex[:10]}"
    mariadb.execute(f"CREATE DATABASE `{name}`")
    yield name
    mariadb.execute(f"DROP DATABASE IF EXISTS `{name}`")
