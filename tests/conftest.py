import uuid

import pytest

from tests.harness import RedisServer
from tests.plugin import postgres_server


@pytest.fixture(scope="session")
def pg():
    return postgres_server()


@pytest.fixture(scope="module")
def redis_server():
    """A Redis of the test module's own (the broker for beat's and the worker's tests)."""
    server = RedisServer().start()
    yield server
    server.stop()


class Warehouse:
    """A fresh PostgreSQL database to crawl, with a superuser connection to shape it."""

    def __init__(self, server, name):
        self.server, self.name = server, name
        self.url = server.url(name)
        self._conn = None

    def execute(self, sql: str, params=None):
        if self._conn is None:
            self._conn = self.server.connect(self.name)
        return self._conn.execute(sql, params)

    def close(self):
        if self._conn is not None:
            self._conn.close()


@pytest.fixture
def warehouse(pg):
    name = f"wh_{uuid.uuid4().hex[:10]}"
    pg.create_database(name)
    wh = Warehouse(pg, name)
    yield wh
    wh.close()
    pg.drop_database(name)


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("ana", "ana@example.com", "pw-ana-123", is_staff=True)


@pytest.fixture
def plain_user(django_user_model):
    return django_user_model.objects.create_user("bo", "bo@example.com", "pw-bo-123")


@pytest.fixture(scope="session")
def mariadb():
    """One MariaDB server for the session, started the first time a test asks for it."""
    from tests.harness import MariaDBServer

    server = MariaDBServer().start()
    yield server
    server.stop()


@pytest.fixture
def mariadb_database(mariadb):
    """A fresh, empty database on the MariaDB server; dropped afterwards."""
    name = f"wh_{uuid.uuid4().hex[:10]}"
    mariadb.execute(f"CREATE DATABASE `{name}`")
    yield name
    mariadb.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture(scope="session")
def moto():
    """One moto_server (a real S3 HTTP API) on loopback for the session, started on first use."""
    from tests.harness import MotoServer

    server = MotoServer().start()
    yield server
    server.stop()
