"""Who is writing, and from where: one context per request, task or command, read when an entry is written.

The web sets it in a middleware (AuditContextMiddleware) with the request itself, read only when an entry is
written, so an API request's token user (DRF authenticates inside the view, and sets the request's user then)
is the actor; Celery tasks get theirs from the task signals (apps.py); a management command, run from a
shell with none set, is recognised by its command line. Anything else is "system".
"""

from __future__ import annotations

import getpass
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

WEB, API, TOKEN, ADMIN, COMMAND, TASK, SYSTEM = "web", "api", "token", "admin", "command", "task", "system"

_current: ContextVar[dict | None] = ContextVar("canon_audit_context", default=None)


@contextmanager
def audit_context(*, origin: str, actor=None, via: str = "", request=None, **extra):
    """Writes inside are recorded as made by actor (a user, or None), from origin, through via; extra
    (a reason, say) goes with each entry's additional data."""
    token = _current.set({"origin": origin, "actor": actor, "via": via, "request": request, "extra": extra})
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def audit_extra(**extra):
    """Add to the current context's extra data (kept on every entry written inside)."""
    context = dict(_current.get() or _process_default())
    context["extra"] = {**context.get("extra", {}), **extra}
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)


def _process_default() -> dict:
    argv = sys.argv or [""]
    if Path(argv[0]).name in ("manage.py", "django-admin") and len(argv) > 1:
        try:
            shell_user = getpass.getuser()
        except (KeyError, OSError):
            shell_user = ""
        return {"origin": COMMAND, "actor": None, "via": f"manage.py {argv[1]}", "request": None,
                "extra": {"shell_user": shell_user} if shell_user else {}}
    return {"origin": SYSTEM, "actor": None, "via": "", "request": None, "extra": {}}


def current() -> dict:
    """The context resolved now: origin, actor (a user or None), via, remote_addr, extra."""
    context = _current.get() or _process_default()
    origin, actor, via, remote_addr = context["origin"], context["actor"], context["via"], None
    request = context.get("request")
    if request is not None:
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            actor = user
        match = getattr(request, "resolver_match", None)
        if match is not None and match.app_name == "admin":
            origin = ADMIN
        elif (match is not None and (match.url_name or "").startswith("api")) or request.path.startswith("/api/"):
            # DRF's TokenAuthentication sets the request's auth to the token; a session leaves it None.
            origin = TOKEN if getattr(request, "auth", None) is not None else API
        else:
            origin = WEB
        via = f"{request.method} {request.path}"[:200]
        remote_addr = request.META.get("REMOTE_ADDR") or None
    return {"origin": origin, "actor": actor, "via": via, "remote_addr": remote_addr, "extra": dict(context.get("extra", {}))}


def has_person() -> bool:
    """A person (or their token) or a command someone ran is behind the writes now, not a schedule."""
    resolved = current()
    return resolved["actor"] is not None or resolved["origin"] == COMMAND


def from_context(kwargs: dict) -> None:
    """Fill an audit entry's who and from where (the keyword arguments of its creation) from the context."""
    resolved = current()
    actor = resolved["actor"]
    if actor is not None and getattr(actor, "pk", None) is not None:
        kwargs.setdefault("actor", actor)
        kwargs.setdefault("actor_email", getattr(actor, "email", "") or None)
        kwargs.setdefault("actor_name", actor.get_username())
    elif resolved["extra"].get("shell_user"):
        kwargs.setdefault("actor_name", f"{resolved['extra']['shell_user']} (shell)")
    kwargs.setdefault("origin", resolved["origin"])
    kwargs.setdefault("via", resolved["via"])
    kwargs.setdefault("remote_addr", resolved["remote_addr"])
    extra = {k: v for k, v in resolved["extra"].items() if k != "shell_user"}
    if extra:
        kwargs["additional_data"] = {**(kwargs.get("additional_data") or {}), **extra}


_task_tokens: dict[str, object] = {}


def task_started(task_id=None, task=None, **kwargs) -> None:
    """Celery's task_prerun: writes of a task are recorded as the task's (a person's, if one started it
    and it runs eagerly inside their request, stays theirs)."""
    outer = _current.get()
    if outer is not None and outer.get("request") is not None:
        return
    _task_tokens[task_id] = _current.set({"origin": TASK, "actor": None, "via": getattr(task, "name", "") or "",
                                          "request": None, "extra": {}})


def task_finished(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _current.reset(token)
