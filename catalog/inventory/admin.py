from django import forms
from django.contrib import admin

from catalog.inventory.models import Dataset, OwnerIdentity
from catalog.inventory.services import dataset_describe, owner_identity_map
from catalog.inventory.services.edit import MAX_DESCRIPTION


@admin.register(OwnerIdentity)
class OwnerIdentityAdmin(admin.ModelAdmin):
    list_display = ["name", "source", "user", "email"]
    list_filter = ["source"]
    search_fields = ["name", "email"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        """A mapping changed here goes through the service the owners page uses (search follows it)."""
        if not (change and set(form.changed_data) <= {"user", "email"}):
            super().save_model(request, obj, form, change)  # a new identity, or its name or source changed
        owner_identity_map(obj, user=obj.user, email=obj.email)


class DatasetAdminForm(forms.ModelForm):
    def clean_description(self):
        """The limit dataset_describe keeps, said on the form rather than failing the save."""
        description = self.cleaned_data.get("description") or ""
        if len(description.replace("\r\n", "\n").strip()) > MAX_DESCRIPTION:
            raise forms.ValidationError(f"A description is at most {MAX_DESCRIPTION:,} characters.")
        return description


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    form = DatasetAdminForm
    list_display = ["schema_name", "name", "kind", "source", "removed_at"]
    list_filter = ["source", "kind"]
    search_fields = ["name", "schema_name"]
    readonly_fields = [f.name for f in Dataset._meta.fields if f.name not in ("description",)]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        """The description, the one field editable here, is written by the service the dataset page uses."""
        if change:
            dataset_describe(obj, description=obj.description, user=request.user)
        else:
            super().save_model(request, obj, form, change)
