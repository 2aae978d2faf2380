from django import template

from catalog.audit import present
from catalog.audit.models import AuditEntry

register = template.Library()


@register.inclusion_tag("audit/_history.html", takes_context=True)
def audit_history(context, obj, limit=10):
    """The object's latest audit entries (and those of what belongs to it), newest first."""
    entries = list(AuditEntry.objects.about(obj).select_related("content_type").order_by("-timestamp", "-id")[:limit + 1])
    request = context.get("request")
    label = f"{obj._meta.app_label}.{obj._meta.model_name}"
    return {"entries": [(e, present.summary(e), present.rows(e)) for e in entries[:limit]], "more": len(entries) > limit,
            "object_label": label, "object_id": obj.pk, "is_staff": bool(request and request.user.is_staff)}


@register.filter
def audit_summary(entry):
    return present.summary(entry)


@register.filter
def audit_rows(entry):
    return present.rows(entry)
