"""The two commands as the Makefile writes them: `make run` installs what running needs and points email
links where it serves; `make test` installs the test tools too."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _make(*args: str, env_base_url: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "CANON_BASE_URL" and not k.startswith("MAKE")}
    if env_base_url is not None:
        env["CANON_BASE_URL"] = env_base_url
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True).stdout




def test_make_run_points_email_links_at_its_host_and_port_unless_told(tmp_path):
    makefile = (ROOT / "Makefile").read_text()
    # The rule as written for `run`: the same line the printing target below copies.
    assert "run: export CANON_BASE_URL ?= http://$(HOST):$(PORT)\n" in makefile
    probe = tmp_path / "probe.mk"
    probe.write_text(f"include {ROOT / 'Makefile'}\nprint-run-base-url: export CANON_BASE_URL ?= http://$(HOST):$(PORT)\n"
                     "print-run-base-url:\n\t@echo \"$$CANON_BASE_URL\"\n")
    assert _make("-f", str(probe), "print-run-base-url", "HOST=10.1.2.3", "PORT=9100").strip() == "http://10.1.2.3:9100"
    assert _make("-f", str(probe), "print-run-base-url").strip() == "http://127.0.0.1:8000"
    given = _make("-f", str(probe), "print-run-base-url", "HOST=10.1.2.3", env_base_url="https://canon.example.com")
    assert given.strip() == "https://canon.example.com"


def test_make_run_installs_only_what_running_needs():
    runtime = (ROOT / "requirements.txt").read_text()
    tests = (ROOT / "requirements-test.txt").read_text()
    for tool in ("pytest", "playwright", "schemathesis", "moto", "aiosmtpd", "import-linter"):
        assert f"\n{tool}" not in runtime and f"\n{tool}" in tests, tool
    assert "-r requirements.txt" in tests
    # A dry run from a tree whose virtualenv is older than its requirements shows what each target installs.
    planned_run = _make("-n", "-W", "requirements.txt", "run")
    assert "-r requirements.txt" in planned_run and "requirements-test.txt" not in planned_run
    planned_test = _make("-n", "-W", "requirements.txt", "test")
    assert "-r requirements.txt" in planned_test and "-r requirements-test.txt" in planned_test
