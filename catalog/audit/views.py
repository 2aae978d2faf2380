from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from rest_framework.exceptions import ValidationError

from catalog.audit import present
from catalog.audit.filters import AuditFilter
from catalog.audit.models import AuditEntry
from catalog.core.decorators import staff_required


@staff_required
def audit_list(request):
    """Every audit entry, newest first, filtered by who, from where, what kind of object, what action and since when."""
    entries = AuditEntry.objects.select_related("content_type").order_by("-timestamp", "-id")
    filterset, error = AuditFilter(request.GET, queryset=entries), ""
    try:
        shown = filterset.qs if filterset.is_valid() else entries.none()
        page = Paginator(shown, 50).get_page(request.GET.get("page"))
    except ValidationError as exc:
        error = " ".join(str(m) for m in exc.detail.values())
        page = Paginator(entries.none(), 50).get_page(1)
    return render(request, "audit/audit_list.html", {
        "page": page, "entries": [(e, present.summary(e), present.rows(e)) for e in page],
        "filters": {k: request.GET.get(k, "") for k in ("actor", "origin", "kind", "action", "since", "object")},
        "error": error or " ".join(m for messages in filterset.errors.values() for m in messages),
        "origins": AuditEntry.ORIGIN_CHOICES, "kinds": present.KINDS,
        "actions": AuditEntry.Action.choices, "keep_days": settings.CANON_AUDIT_KEEP_DAYS,
    })
