from celery import shared_task

from catalog.audit.services import audit_prune


@shared_task(name="canon.audit_prune")
def audit_prune_task() -> int:
    return audit_prune()
