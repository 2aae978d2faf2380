"""Real servers for the tests, started on loopback in temporary directories.

PostgreSQL refuses to run as root, so as root its files belong to, and its
processes run as, the 'postgres' user (or CANON_TEST_PG_USER).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]), reverse=True)
    if found:
        return found[0]
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (Debian package 'postgresql'); run `make test`, which installs it")
    return path


class PostgresServer:
    """A throwaway PostgreSQL cluster: password auth on TCP, fsync off."""

    def __init__(self, options: list[str] | None = None):
        self.options = list(options or [])  # extra server settings, e.g. "-c pg_stat_statements.max=120000" for a benchmark
        self.password = secrets.token_hex(12)
        self.user = "postgres"
        self.port = free_port()
        self.host = "127.0.0.1"
        self.base = Path(tempfile.mkdtemp(prefix="canon-pg-"))
        self.data = self.base / "data"
        self.run_as = os.environ.get("CANON_TEST_PG_USER", "postgres") if os.geteuid() == 0 else None

    def _run(self, args: list[str], **kwargs):
        if self.run_as:
            args = ["runuser", "-u", self.run_as, "--", *args]
        return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)

    def start(self) -> "PostgresServer":
        pwfile = self.base / "pw"
        pwfile.write_text(self.password + "\n")
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            for path in (self.base, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run([_pg_bin("initdb"), "-D", str(self.data), "-U", self.user, f"--pwfile={pwfile}", "--auth-local=trust",
                   "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"])
        options = (f"-p {self.port} -c listen_addresses={self.host} -k {self.base} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB "
                   # Statements of connections named 'canon' (the connector) are logged, so tests can count them.
                   "-c log_line_prefix='%a|' -c log_min_duration_statement=-1 "
                   # Query history for the usage tests (Debian's postgresql ships the extension).
                   "-c shared_preload_libraries=pg_stat_statements " + " ".join(self.options))
        self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.base / "log"), "-w", "-t", "60", "start"])
        return self

    def stop(self) -> None:
        try:
            self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        except (subprocess.CalledProcessError, FileNotFoundError):
            pass
        shutil.rmtree(self.base, ignore_errors=True)

    @property
    def log_path(self) -> Path:
        return self.base / "log"

    def log_statements_of(self, application_name: str):
        """A context manager yielding a list, filled on exit with the statements that application ran."""
        import contextlib

        @contextlib.contextmanager
        def capture():
            with self.connect() as conn:
                conn.execute(f"ALTER SYSTEM SET log_statement = 'all'")
                conn.execute("SELECT pg_reload_conf()")
            start = self.log_path.stat().st_size
            found: list[str] = []
            try:
                yield found
            finally:
                with self.connect() as conn:
                    conn.execute("ALTER SYSTEM RESET log_statement")
                    conn.execute("SELECT pg_reload_conf()")
                with open(self.log_path, encoding="utf-8", errors="replace") as log:
                    log.seek(start)
                    found.extend(
                        line.split("LOG:", 1)[1].strip() for line in log
                        if line.startswith(application_name + "|") and ("statement:" in line or "execute " in line)
                    )

        return capture()

    def url(self, database: str = "postgres", *, user: str | None = None, password: str | None = None) -> str:
        return f"postgresql://{user or self.user}:{password if password is not None else self.password}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, user=self.user, password=self.password, dbname=database, autocommit=True)

    def create_database(self, name: str) -> str:
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class MariaDBServer:
    """A throwaway MariaDB server: its own data directory, a free loopback port and a socket.

    As root the server runs as the 'mysql' user (or CANON_TEST_MYSQL_USER), which owns the
    directory. The root account gets a password and is reached over TCP like any client.
    """

    def __init__(self, options: list[str] | None = None):
        self.options = list(options or [])  # extra mariadbd options, e.g. larger caches for a benchmark
        self.password = secrets.token_hex(12)
        self.user = "root"
        self.host = "127.0.0.1"
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="canon-mariadb-"))
        self.data = self.base / "data"
        self.socket = self.base / "mariadb.sock"
        self.run_as = os.environ.get("CANON_TEST_MYSQL_USER", "mysql") if os.geteuid() == 0 else None
        self.process: subprocess.Popen | None = None

    def start(self) -> "MariaDBServer":
        for name in ("mariadb-install-db", "mariadbd"):
            if not (shutil.which(name) or os.path.exists(f"/usr/sbin/{name}")):
                raise RuntimeError(f"MariaDB's {name} is not installed (Debian package 'mariadb-server'); run `make test`, which installs it")
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        install = [shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db", "--no-defaults", f"--datadir={self.data}",
                   "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"]
        if self.run_as:
            install.append(f"--user={self.run_as}")
        subprocess.run(install, check=True, capture_output=True, text=True)
        server = [shutil.which("mariadbd") or "/usr/sbin/mariadbd", "--no-defaults", f"--datadir={self.data}",
                  f"--port={self.port}", f"--bind-address={self.host}", f"--socket={self.socket}",
                  f"--pid-file={self.base / 'mariadb.pid'}", f"--log-error={self.base / 'error.log'}",
                  "--skip-name-resolve", "--innodb-buffer-pool-size=256M", "--innodb-flush-log-at-trx-commit=0",
                  "--innodb-doublewrite=0", "--skip-log-bin", "--max-connections=200", "--character-set-server=utf8mb4",
                  "--table-definition-cache=4000", "--open-files-limit=20000",
                  "--performance-schema=ON"]  # statement digests, the query history the usage tests read
        if self.run_as:
            server.append(f"--user={self.run_as}")
        server += self.options
        self.process = subprocess.Popen(server, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.port, timeout=60)
        except RuntimeError:
            log = (self.base / "error.log").read_text(errors="replace")[-2000:] if (self.base / "error.log").exists() else ""
            self.stop()
            raise RuntimeError(f"MariaDB did not start: {log}") from None
        # Fresh install: root@localhost has no password and is reached through the socket.
        import pymysql

        conn = pymysql.connect(unix_socket=str(self.socket), user="root", autocommit=True)
        with conn.cursor() as cur:
            cur.execute("CREATE OR REPLACE USER 'root'@'127.0.0.1' IDENTIFIED BY %s", (self.password,))
            cur.execute("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION")
            cur.execute("ALTER USER 'root'@'localhost' IDENTIFIED BY %s", (self.password,))
        conn.close()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "", *, user: str | None = None, password: str | None = None, scheme: str = "mysql") -> str:
        return f"{scheme}://{user or self.user}:{password if password is not None else self.password}@{self.host}:{self.port}/{database}"

    def connect(self, database: str | None = None):
        import pymysql

        return pymysql.connect(host=self.host, port=self.port, user=self.user, password=self.password, database=database,
                               autocommit=True, charset="utf8mb4")

    def execute(self, sql: str, database: str | None = None) -> None:
        """Run ';'-separated statements (none may contain ';' inside a literal)."""
        conn = self.connect(database)
        try:
            with conn.cursor() as cur:
                for statement in (s.strip() for s in sql.split(";\n")):
                    if statement.strip().rstrip(";"):
                        cur.execute(statement.rstrip(";"))
        finally:
            conn.close()


# moto_server as it is, except that it scans its own package for service names once instead of on
# every request (about 5 ms a request), and does not log every request: loading 100,000 objects for
# the benchmark takes many minutes less.
_MOTO_LAUNCH = (
    "import logging; logging.getLogger('werkzeug').setLevel(logging.WARNING); "
    "import moto.backends as b; names = tuple(b.list_of_moto_modules()); b.list_of_moto_modules = lambda: names; "
    "from moto.server import main; main()"
)


class MotoServer:
    """A real S3 HTTP API on loopback (moto_server), for the S3 connector's tests and benchmark.

    Requests are not authenticated until `require_auth()` is called; from then on moto checks
    signatures and IAM policies, so access-denied paths are exercised for real.
    """

    region = "us-east-1"
    access_key = "testing"
    secret_key = "testing-secret"

    def __init__(self):
        self.host = "127.0.0.1"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = Path(tempfile.mkstemp(prefix="canon-moto-", suffix=".log")[1])

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "MotoServer":
        import sys

        env = {**os.environ, "AWS_DEFAULT_REGION": self.region}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _MOTO_LAUNCH, "-H", self.host, "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env,
            )
        try:
            wait_for_port(self.port, timeout=60)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"moto_server did not start: {self.log.read_text(errors='replace')[-2000:]}") from None
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        self.log.unlink(missing_ok=True)

    def client(self, service: str = "s3", *, access_key: str | None = None, secret_key: str | None = None, pool: int = 10):
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            service, endpoint_url=self.endpoint, region_name=self.region,
            aws_access_key_id=access_key or self.access_key, aws_secret_access_key=secret_key or self.secret_key,
            config=Config(s3={"addressing_style": "path"}, max_pool_connections=pool, retries={"max_attempts": 2}),
        )

    def url(self, bucket: str, prefix: str = "", *, access_key: str | None = None, secret_key: str | None = None) -> str:
        from urllib.parse import quote

        path = f"/{prefix.strip('/')}" if prefix.strip("/") else ""
        user = f"{quote(access_key or self.access_key, safe='')}:{quote(secret_key or self.secret_key, safe='')}@"
        return f"s3://{user}{bucket}{path}?endpoint_url={self.endpoint}&region={self.region}"

    def reset(self) -> None:
        """Forget every bucket, user and policy."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=30).read()

    def require_auth(self, enabled: bool = True) -> None:
        """Make moto verify signatures and IAM policies (or stop doing so)."""
        import urllib.request

        count = b"0" if enabled else b"inf"
        # A form content type would hide the body from moto: send it as plain bytes.
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset-auth", data=count, method="POST",
                                         headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(request, timeout=30).read()


class RedisServer:
    """A throwaway Redis (Debian redis-server) on a free loopback port: no persistence, its own temp dir."""

    def __init__(self):
        self.host = "127.0.0.1"
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="canon-redis-"))
        self.process: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(binary):
            raise RuntimeError("redis-server is not installed (Debian package 'redis-server'); run `make test`, which installs it")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", self.host, "--dir", str(self.base), "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--protected-mode", "yes", "--logfile", str(self.base / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(self.port, timeout=20)
            self._wait_ready()
        except RuntimeError:
            log = (self.base / "redis.log").read_text(errors="replace")[-2000:] if (self.base / "redis.log").exists() else ""
            self.stop()
            raise RuntimeError(f"Redis did not start: {log}") from None
        return self

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.create_connection((self.host, self.port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return
            time.sleep(0.1)
        raise RuntimeError("Redis does not answer PING")

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.base, ignore_errors=True)


class SMTPServer:
    """A real SMTP server (aiosmtpd) on a free loopback port, in this process, keeping what it receives.

    stop() closes the port, so senders get "connection refused" as from a server that is down;
    start() again listens on the same port. `messages` holds email.message.EmailMessage objects.
    """

    def __init__(self, port: int | None = None):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.messages: list = []
        self.envelopes: list[tuple[str, list[str]]] = []
        import threading

        self._lock = threading.Lock()
        self._controller = None

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def start(self) -> "SMTPServer":
        from aiosmtpd.controller import Controller

        if self._controller is not None:
            return self
        self._controller = Controller(self, hostname=self.host, port=self.port, ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def url(self) -> str:
        """For EMAIL_URL (django-environ)."""
        return f"smtp://{self.host}:{self.port}"

    def received(self) -> list:
        with self._lock:
            return list(self.messages)

    def wait_for(self, count: int = 1, timeout: float = 20.0) -> list:
        """The messages once at least `count` arrived; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received()
            if len(got) >= count:
                return got
            time.sleep(0.1)
        raise AssertionError(f"expected {count} message(s) at the SMTP server within {timeout}s, got {len(self.received())}")
