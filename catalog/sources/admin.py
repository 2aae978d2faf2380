from django.contrib import admin

from catalog.sources.models import Crawl, Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "engine", "url_display", "last_success_at"]
    # The encrypted URL is never shown; sources are added and edited on Canon's own pages.
    exclude = ["url_encrypted"]
    readonly_fields = ["engine", "url_display", "last_crawl", "last_success_at", "created_by"]


@admin.register(Crawl)
class CrawlAdmin(admin.ModelAdmin):
    list_display = ["source", "status", "started_at", "duration_s", "datasets_seen", "datasets_added", "datasets_changed", "datasets_removed"]
    list_filter = ["status", "source"]
    readonly_fields = [f.name for f in Crawl._meta.fields]
