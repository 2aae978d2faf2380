import django_filters
from django.db.models import Q
from rest_framework.exceptions import ValidationError

from catalog.audit import present
from catalog.audit.models import AuditEntry
from catalog.history.views import _since


class SinceFilter(django_filters.CharFilter):
    def filter(self, qs, value):
        since = _since(value)
        if value and since is None:
            raise ValidationError({"since": "Use a date (2024-05-01) or a span (7d, 24h)."})
        return qs.filter(timestamp__gte=since) if since else qs


class ObjectFilter(django_filters.CharFilter):
    """app_label.model:id: the object and what belongs to it (as on its page)."""

    def filter(self, qs, value):
        if not value:
            return qs
        label, _, pk = value.rpartition(":")
        app_label, _, model = label.partition(".")
        if not (app_label and model and pk.isdigit()):
            raise ValidationError({"object": "Name an object as app_label.model:id, such as inventory.dataset:12."})
        return qs.filter(Q(content_type__app_label=app_label, content_type__model=model, object_id=int(pk))
                         | Q(parent_type=label, parent_id=int(pk)))


class AuditFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_name", help_text="The user name of who wrote")
    origin = django_filters.ChoiceFilter(choices=AuditEntry.ORIGIN_CHOICES)
    kind = django_filters.ChoiceFilter(field_name="content_type__model", choices=present.KINDS, help_text="The kind of object")
    action = django_filters.ChoiceFilter(choices=AuditEntry.Action.choices)
    since = SinceFilter(help_text="A date (2024-05-01) or a span (7d, 24h)")
    object = ObjectFilter(help_text="app_label.model:id, such as inventory.dataset:12: the object and what belongs to it")

    class Meta:
        model = AuditEntry
        fields = ["actor", "origin", "kind", "action", "since", "object"]
