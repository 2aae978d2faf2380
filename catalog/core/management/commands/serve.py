"""The embedded default in one command: the web server, plus a Celery worker with beat
embedded, as a child process. No Redis: the broker is a folder under var/celery/.

Stopping this command (Ctrl-C, SIGTERM, SIGHUP) stops the worker too; if this
process is killed outright, the kernel sends the worker SIGTERM (Linux). If the worker
dies, the web server stops as well, so nothing keeps running half-working.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

WORKER_STOP_TIMEOUT = 30


def worker_command(loglevel: str = "INFO") -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "catalog", "worker", "-B",
        "-Q", "crawl,notify,index,celery", "--concurrency", "1", "--loglevel", loglevel,
        "--hostname", "canon-embedded@%h",
        # Beat's schedules and their last runs live in the database (catalog/beat reads no state file); the
        # flag only names this beat's file, by which tests/core/test_serve.py tells its processes apart.
        "--schedule", str(settings.VAR_DIR / "celery" / "beat-schedule"),
        # One worker and no Redis: no worker-to-worker chatter, which on the folder broker
        # would leave a queue of undelivered events behind for every past worker.
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the parent dies (Linux), and its own process group,
    so a terminal's Ctrl-C reaches only the parent, which stops the worker once, warmly."""
    os.setsid()
    try:
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Command(BaseCommand):
    help = "Run Canon: web server on HOST:PORT with a Celery worker and beat in a child process (the embedded default)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default=f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}",
                            help="HOST:PORT to serve on (default $HOST:$PORT, else 127.0.0.1:8000)")
        parser.add_argument("--no-worker", action="store_true", help="web server only (workers and beat run elsewhere)")
        parser.add_argument("--worker-loglevel", default="INFO")

    def handle(self, *args, addrport, no_worker, worker_loglevel, **options):
        self._check_free(addrport)
        self._worker_died = False
        worker = None if no_worker else self._start_worker(worker_loglevel)
        stopping = threading.Event()

        def interrupt(signum, frame):
            raise KeyboardInterrupt

        previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
        if worker is not None:
            threading.Thread(target=self._watch_worker, args=(worker, stopping), daemon=True, name="watch-worker").start()
        try:
            # insecure_serving: serve /static/ with DEBUG off too; this is the single-machine default.
            call_command("runserver", addrport, use_reloader=False, use_threading=True, insecure_serving=True)
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            stopping.set()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if worker is not None:
                self._stop_worker(worker)
        if self._worker_died:
            raise CommandError(f"the Celery worker exited with code {worker.returncode}")

    def _check_free(self, addrport: str) -> None:
        """Fail before starting anything if the address is taken (runserver would os._exit)."""
        host, _, port = addrport.rpartition(":")
        host = (host or "127.0.0.1").strip("[]")
        try:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((host, int(port)))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot serve on {addrport}: {exc}") from None

    def _start_worker(self, loglevel: str) -> subprocess.Popen:
        (settings.VAR_DIR / "celery").mkdir(parents=True, exist_ok=True)
        command = worker_command(loglevel)
        self.stdout.write(f"starting the Celery worker and beat: {' '.join(command[1:])}")
        try:
            return subprocess.Popen(command, cwd=settings.BASE_DIR, preexec_fn=_die_with_parent)
        except OSError as exc:
            raise CommandError(f"could not start the Celery worker: {exc}") from None

    def _watch_worker(self, worker: subprocess.Popen, stopping: threading.Event) -> None:
        worker.wait()
        if not stopping.is_set():
            self._worker_died = True
            self.stderr.write(f"the Celery worker exited (code {worker.returncode}); stopping the web server too")
            os.kill(os.getpid(), signal.SIGTERM)

    def _stop_worker(self, worker: subprocess.Popen) -> None:
        if worker.poll() is not None:
            return
        worker.send_signal(signal.SIGTERM)  # warm shutdown: a running task finishes or is given back
        try:
            worker.wait(timeout=WORKER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.stderr.write(f"the Celery worker did not stop within {WORKER_STOP_TIMEOUT}s; killing it")
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
