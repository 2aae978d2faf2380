"""Settings as a production start and the embedded default see them, each in a fresh process
with only the environment the README documents (nothing from the test suite's own settings)."""

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]

SHOW = """
import json
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in [
    "SECRET_KEY", "CANON_PRODUCTION", "CANON_REQUIRE_LOGIN", "CANON_FILE_ROOTS", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER"]}))
"""


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8", **env}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


@pytest.fixture
def production_env(pg, tmp_path) -> dict:
    """The environment of README's "Running in production"."""
    return {
        "DATABASE_URL": pg.url("canon"),
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "EMAIL_URL": "smtp+tls://canon:mail-password@smtp.example.com:587",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CANON_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "CANON_BASE_URL": "https://canon.example.com",
        "ALLOWED_HOSTS": "canon.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://canon.example.com",
        "CANON_VAR_DIR": str(tmp_path / "var"),
    }


def test_a_production_start_without_secret_key_refuses_with_a_clear_message(production_env, tmp_path):
    del production_env["SECRET_KEY"]
    done = manage(production_env, "check")
    assert done.returncode == 1
    assert done.stderr.startswith("Canon cannot start: SECRET_KEY is not set. Canon runs in production"), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "var" / "secret.key").exists(), "production never falls back to a key of its own"


def test_check_deploy_is_clean_for_the_documented_production_settings(production_env):
    done = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0 and "System check identified no issues" in done.stdout + done.stderr, done.stderr[-3000:]
    assert "security." not in done.stdout + done.stderr


def test_production_defaults_close_the_catalog_and_serve_https_only(production_env):
    done = manage(production_env, "shell", "--no-imports", "-c", SHOW)
    assert done.returncode == 0, done.stderr[-2000:]
    shown = json.loads(done.stdout)
    assert shown["SECRET_KEY"] == production_env["SECRET_KEY"]
    assert shown["CANON_PRODUCTION"] is True and shown["CANON_REQUIRE_LOGIN"] is True
    assert shown["CANON_FILE_ROOTS"] == []
    assert shown["SECURE_SSL_REDIRECT"] and shown["SESSION_COOKIE_SECURE"] and shown["CSRF_COOKIE_SECURE"]
    assert shown["SECURE_HSTS_SECONDS"] > 0 and shown["SECURE_PROXY_SSL_HEADER"] is None

    behind_proxy = {**production_env, "CANON_REQUIRE_LOGIN": "false", "CANON_FILE_ROOTS": "/srv/lake,/mnt/exports",
                    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https", "SECURE_HSTS_SECONDS": "31536000"}
    shown = json.loads(manage(behind_proxy, "shell", "--no-imports", "-c", SHOW).stdout)
    assert shown["CANON_REQUIRE_LOGIN"] is False and shown["CANON_FILE_ROOTS"] == ["/srv/lake", "/mnt/exports"]
    assert shown["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"] and shown["SECURE_HSTS_SECONDS"] == 31536000


def test_the_embedded_default_makes_its_own_secret_key_once_and_stays_open(tmp_path):
    var = tmp_path / "var"
    first = manage({"CANON_VAR_DIR": str(var)}, "shell", "--no-imports", "-c", SHOW)
    assert first.returncode == 0, first.stderr[-2000:]
    shown = json.loads(first.stdout)
    key_file = var / "secret.key"
    assert shown["SECRET_KEY"] == key_file.read_text().strip() and len(shown["SECRET_KEY"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert shown["SECRET_KEY"] != "canon-embedded-default-not-for-production"
    assert json.loads(manage({"CANON_VAR_DIR": str(var)}, "shell", "--no-imports", "-c", SHOW).stdout)["SECRET_KEY"] == shown["SECRET_KEY"]
    assert json.loads(manage({"CANON_VAR_DIR": str(tmp_path / "other")}, "shell", "--no-imports", "-c", SHOW).stdout)["SECRET_KEY"] != shown["SECRET_KEY"]
    assert shown["CANON_PRODUCTION"] is False and shown["CANON_REQUIRE_LOGIN"] is False
    assert shown["CANON_FILE_ROOTS"] == [str(var / "demo" / "lake"), str(var / "demo" / "shop.sqlite")]  # what the demo reads
    assert not shown["SECURE_SSL_REDIRECT"] and not shown["SESSION_COOKIE_SECURE"] and shown["SECURE_HSTS_SECONDS"] == 0


def test_debug_with_a_server_database_is_not_production(production_env, tmp_path):
    del production_env["SECRET_KEY"]
    shown = json.loads(manage({**production_env, "DEBUG": "true"}, "shell", "--no-imports", "-c", SHOW).stdout)
    assert shown["CANON_PRODUCTION"] is False and shown["SECRET_KEY"] == (tmp_path / "var" / "secret.key").read_text().strip()


def test_a_production_command_makes_no_folder(production_env, tmp_path):
    """Settings read the environment and nothing else: a command that needs no file (check) leaves the disk as it was,
    and the embedded default makes var/ only for the key it keeps there."""
    done = manage(production_env, "check")
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (tmp_path / "var").exists()
    embedded = tmp_path / "embedded"
    assert manage({"CANON_VAR_DIR": str(embedded)}, "check").returncode == 0
    assert sorted(p.name for p in embedded.iterdir()) == ["secret.key"]


def test_starting_a_command_imports_no_heavy_module(production_env):
    """Drivers, data-file readers and cloud clients load with the connector that needs them (the registry imports
    it when a source of its scheme is crawled), never to start a process, load the apps or the URLconf."""
    show = ("import sys, json; import catalog.urls; "
            "print(json.dumps(sorted(m for m in ('pandas', 'pyarrow', 'boto3', 'botocore', 'duckdb', 'snowflake', 'pymysql', "
            "'google.cloud') if m in sys.modules)))")
    done = manage(production_env, "shell", "--no-imports", "-c", show)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == []
