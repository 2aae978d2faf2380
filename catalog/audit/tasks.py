from catalog.audit.services import audit_prune
from catalog.celery import app


@app.task(name="canon.audit_prune")
def audit_prune_task() -> int:
    return audit_prune()
