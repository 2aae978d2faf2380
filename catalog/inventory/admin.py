from django.contrib import admin

from catalog.inventory.models import Dataset, OwnerIdentity


@admin.register(OwnerIdentity)
class OwnerIdentityAdmin(admin.ModelAdmin):
    list_display = ["name", "source", "user", "email"]
    list_filter = ["source"]
    search_fields = ["name", "email"]
    autocomplete_fields = ["user"]


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["schema_name", "name", "kind", "source", "removed_at"]
    list_filter = ["source", "kind"]
    search_fields = ["name", "schema_name"]
    readonly_fields = [f.name for f in Dataset._meta.fields if f.name not in ("description",)]
    show_full_result_count = False
