"""The audit log in the admin: read only, for staff and superusers alike (no add, change or delete)."""

from django.contrib import admin

from auditlog.mixins import LogEntryAdminMixin
from catalog.audit.models import AuditEntry

if admin.site.is_registered(AuditEntry):  # django-auditlog's own admin, which lets a superuser cascade deletes
    admin.site.unregister(AuditEntry)


@admin.register(AuditEntry)
class AuditEntryAdmin(LogEntryAdminMixin, admin.ModelAdmin):
    date_hierarchy = "timestamp"
    list_display = ["created", "resource_url", "action", "msg_short", "actor_name", "origin"]
    list_filter = ["action", "origin"]
    search_fields = ["object_repr", "actor_name", "actor_email"]
    list_select_related = ["content_type"]
    readonly_fields = ["created", "resource_url", "action", "actor_name", "origin", "via", "remote_addr", "msg"]
    fieldsets = [(None, {"fields": ["created", "actor_name", "origin", "via", "remote_addr", "resource_url"]}),
                 ("Changes", {"fields": ["action", "msg"]})]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
