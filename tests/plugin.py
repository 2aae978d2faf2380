"""Loaded with -p before Django's settings: starts PostgreSQL and points the catalog at it.

CANON_TEST_DB=sqlite keeps the catalog on a SQLite file (the embedded default);
the PostgreSQL server still runs, as the warehouse the tests crawl.
"""

import atexit
import os
import secrets
import tempfile

import pytest

from tests.harness import PostgresServer

_state = {}


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    if "--help" in args or "--version" in args:
        return
    var_dir = tempfile.mkdtemp(prefix="canon-test-var-")
    os.environ["CANON_VAR_DIR"] = var_dir
    from cryptography.fernet import Fernet

    os.environ["CANON_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    # The catalog on PostgreSQL with DEBUG off is a production start: it needs its secret key, and its
    # defaults (login required, no sources of server files, HTTPS only) are set here for a catalog that tests
    # read anonymously over plain HTTP on loopback, with the sources that open files on this machine (file://
    # folders, SQLite and DuckDB files) in their temporary folders: the suite's only CANON_FILE_ROOTS.
    # tests/test_settings.py checks the real defaults; tests/core/test_middleware.py, tests/test_api.py and
    # tests/sources/test_fileroots.py switch login and roots per test.
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["CANON_REQUIRE_LOGIN"] = "false"
    os.environ["CANON_FILE_ROOTS"] = tempfile.gettempdir()
    for https_only in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        os.environ[https_only] = "false"
    os.environ["SECURE_HSTS_SECONDS"] = "0"
    server = PostgresServer().start()
    atexit.register(server.stop)
    _state["postgres"] = server
    if os.environ.get("CANON_TEST_DB", "postgresql") == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/catalog.sqlite3"
    else:
        os.environ["DATABASE_URL"] = server.url("canon")


def postgres_server() -> PostgresServer:
    return _state["postgres"]


def pytest_report_header(config):
    server = _state.get("postgres")
    if server:
        catalog = "sqlite" if os.environ.get("CANON_TEST_DB") == "sqlite" else "postgresql"
        return [f"canon: PostgreSQL on 127.0.0.1:{server.port}, catalog database: {catalog}"]
