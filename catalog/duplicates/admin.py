from django.contrib import admin

from catalog.duplicates.models import StoragePrice


@admin.register(StoragePrice)
class StoragePriceAdmin(admin.ModelAdmin):
    """Per-engine storage prices people set; the Duplicates page costs copies with them (else CANON_STORAGE_PRICES)."""

    list_display = ("engine", "usd_per_gb_month")
