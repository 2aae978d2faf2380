from datetime import datetime, time, timedelta

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date

from catalog.core.export import csv_response, csv_url, wants_csv
from catalog.history import diff
from catalog.history.models import SchemaChange
from catalog.inventory.models import Dataset
from catalog.sources.models import Source


def _since(value: str):
    """'2024-05-01', '7d' or '24h' -> an aware datetime, or None."""
    value = (value or "").strip()
    if not value:
        return None
    if value[:-1].isdigit() and value[-1] in "dh":
        amount = int(value[:-1])
        return timezone.now() - (timedelta(days=amount) if value[-1] == "d" else timedelta(hours=amount))
    day = parse_date(value) if len(value) == 10 else None
    return timezone.make_aware(datetime.combine(day, time.min)) if day else None


def change_list(request):
    changes = SchemaChange.objects.select_related("source", "dataset")
    params = request.GET
    source, severity, kind = params.get("source", ""), params.get("severity", ""), params.get("kind", "")
    since_text = params.get("since", "")
    if source:
        changes = changes.filter(source__name=source)
    if severity in dict(SchemaChange.SEVERITY_CHOICES):
        changes = changes.filter(severity=severity)
    if kind in diff.LABELS:
        changes = changes.filter(kind=kind)
    since = _since(since_text)
    if since:
        changes = changes.filter(created_at__gte=since)
    if wants_csv(request):
        return csv_response("changes.csv", ["created_at", "source", "dataset", "severity", "kind", "column", "old", "new", "url"],
                            ((c.created_at, c.source.name, c.dataset_name, c.severity, c.kind, c.column, c.old_value, c.new_value,
                              request.build_absolute_uri(reverse("dataset-history", args=[c.dataset_id])))
                             for c in changes.order_by("-created_at", "-id").iterator(chunk_size=2000)))
    page = Paginator(changes.order_by("-created_at", "-id"), 50).get_page(params.get("page"))
    return render(request, "history/change_list.html", {
        "csv_url": csv_url(request),
        "page": page,
        "filters": {"source": source, "severity": severity, "kind": kind, "since": since_text},
        "bad_since": bool(since_text) and since is None,
        "sources": Source.objects.values_list("name", flat=True),
        "kinds": sorted(diff.LABELS.items(), key=lambda kv: kv[1]),
    })


def dataset_history(request, pk):
    dataset = get_object_or_404(Dataset.objects.select_related("source"), pk=pk)
    versions = list(dataset.versions.select_related("crawl").order_by("-number"))
    changes_by_version: dict[int | None, list[SchemaChange]] = {}
    for change in dataset.schema_changes.order_by("created_at", "id"):
        changes_by_version.setdefault(change.version_id, []).append(change)
    timeline = [{"version": v, "changes": changes_by_version.get(v.pk, [])} for v in versions]
    removals = changes_by_version.get(None, [])
    return render(request, "history/dataset_history.html", {
        "dataset": dataset, "timeline": timeline, "removals": removals, "versions": versions,
    })


def _rows(old: dict, new: dict):
    """Side-by-side rows: each column of either version, matched as the diff matches them."""
    pairs, removed, added = diff._match_columns(list(old.get("columns", [])), list(new.get("columns", [])))
    rows = []
    for before, after in pairs:
        fields_changed = {k for k in ("name", "type", "nullable", "default", "primary_key", "comment") if before.get(k) != after.get(k)}
        rows.append({"old": before, "new": after, "changed": fields_changed, "status": "changed" if fields_changed else "same",
                     "position": after.get("position", 0)})
    rows += [{"old": c, "new": None, "changed": set(), "status": "removed", "position": c.get("position", 0)} for c in removed]
    rows += [{"old": None, "new": c, "changed": set(), "status": "added", "position": c.get("position", 0)} for c in added]
    return sorted(rows, key=lambda r: (r["position"], r["status"]))


def dataset_diff(request, pk):
    dataset = get_object_or_404(Dataset.objects.select_related("source"), pk=pk)
    versions = list(dataset.versions.order_by("number"))
    if not versions:
        return render(request, "history/dataset_diff.html", {"dataset": dataset, "versions": [], "rows": []})
    by_number = {v.number: v for v in versions}

    def pick(name, default):
        try:
            return by_number.get(int(request.GET.get(name, "")), default)
        except ValueError:
            return default

    newest = versions[-1]
    new = pick("to", newest)
    old = pick("from", by_number.get(new.number - 1, versions[0]))
    changes = diff.diff_schemas(old.schema, new.schema)
    return render(request, "history/dataset_diff.html", {
        "dataset": dataset, "versions": versions, "old": old, "new": new, "rows": _rows(old.schema, new.schema), "changes": changes,
    })
