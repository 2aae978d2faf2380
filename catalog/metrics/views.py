"""Metric definition pages. Every write calls a service; the form's live check is an htmx partial of the same check."""

from __future__ import annotations

import difflib

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.core.export import csv_response, csv_url, wants_csv
from catalog.metrics.forms import MetricForm, initial_for
from catalog.metrics.models import MetricColumnUse, MetricDatasetUse, MetricDefinition, MetricTag
from catalog.metrics.services import (
    SAME_SQL_REASON,
    DuplicateMetric,
    MetricError,
    MetricPermissionError,
    metric_add_synonym,
    metric_check,
    metric_recheck,
    metric_register,
    metric_restore,
    metric_set_status,
    metric_update,
    metric_values,
    metric_watch,
)
from catalog.metrics.services.definitions import snapshot_of
from catalog.metrics.similarity import description_similarity, name_similarity
from catalog.metrics.sql import DIALECT_LABELS, format_sql
from catalog.sources.models import Source

PAGE_SIZE = 50


def _definition(name: str) -> MetricDefinition:
    return get_object_or_404(MetricDefinition.objects.select_related("source", "replaced_by"), name=name)


def metric_list(request):
    params = request.GET
    definitions = MetricDefinition.objects.for_list().annotate(dataset_count=Count("dataset_uses", distinct=True))
    status, owner, tag = params.get("status", "").strip(), params.get("owner", "").strip(), params.get("tag", "").strip()
    broken, q, origin = params.get("broken", "") == "1", params.get("q", "").strip(), params.get("origin", "").strip()
    if status in dict(MetricDefinition.STATUS_CHOICES):
        definitions = definitions.filter(status=status)
    if owner:
        definitions = definitions.filter(owners__username=owner)
    if tag:
        definitions = definitions.filter(tags__name=tag)
    if broken:
        definitions = definitions.filter(broken=True)
    if origin in dict(MetricDefinition.ORIGIN_CHOICES):
        definitions = definitions.filter(origin=origin)
    if q:
        definitions = definitions.filter(Q(name__icontains=q) | Q(title__icontains=q) | Q(synonyms__name__icontains=q)).distinct()
    if wants_csv(request):
        return csv_response("definitions.csv", ["name", "title", "status", "broken", "owners", "tags", "source", "dialect", "unit", "grain",
                                                "version", "updated_at", "sql", "url"],
                            ((d.name, d.title, d.status, d.broken, " ".join(u.get_username() for u in d.owners.all()),
                              " ".join(t.name for t in d.tags.all()), d.source.name if d.source else "", d.dialect, d.unit, d.grain,
                              d.version, d.updated_at, d.sql, request.build_absolute_uri(d.get_absolute_url()))
                             for d in definitions.select_related("source").order_by("name", "id")))
    page = Paginator(definitions.order_by("name", "id"), PAGE_SIZE).get_page(params.get("page"))
    owners = get_user_model().objects.filter(owned_metrics__isnull=False).distinct().order_by("username")
    return render(request, "metrics/metric_list.html", {
        "page": page, "filters": {"status": status, "owner": owner, "tag": tag, "broken": broken, "q": q, "origin": origin},
        "statuses": MetricDefinition.STATUS_CHOICES, "origins": MetricDefinition.ORIGIN_CHOICES,
        "owners": owners.values_list("username", flat=True), "tags": MetricTag.objects.values_list("name", flat=True),
        "broken_count": MetricDefinition.objects.filter(broken=True).count(),
        "csv_url": csv_url(request),
    })


def metric_detail(request, name):
    definition = get_object_or_404(
        MetricDefinition.objects.select_related("source", "replaced_by", "created_by").prefetch_related(
            "owners", "tags", "synonyms", "watchers", "replaces",
            Prefetch("dataset_uses", queryset=MetricDatasetUse.objects.select_related("dataset", "dataset__source")),
            Prefetch("column_uses", queryset=MetricColumnUse.objects.order_by("dataset_id", "column_name")),
        ),
        name=name,
    )
    columns_by_dataset: dict[int, list[MetricColumnUse]] = {}
    for use in definition.column_uses.all():
        columns_by_dataset.setdefault(use.dataset_id, []).append(use)
    datasets = [{"use": use, "dataset": use.dataset, "columns": columns_by_dataset.get(use.dataset_id, [])}
                for use in definition.dataset_uses.all()]
    user = request.user
    return render(request, "metrics/metric_detail.html", {
        "definition": definition,
        "datasets": datasets,
        "formatted_sql": format_sql(definition.sql),
        "dialect_label": DIALECT_LABELS.get(definition.dialect, definition.dialect),
        "versions": definition.versions.select_related("author").order_by("-number")[:50],
        "events": definition.events.select_related("user", "crawl").order_by("-created_at", "-id")[:50],
        "can_govern": definition.can_govern(user),
        "watching": user.is_authenticated and any(w.pk == user.pk for w in definition.watchers.all()),
        "statuses": MetricDefinition.STATUS_CHOICES,
    })


def _form_page(request, form, *, definition=None, result=None, blocked=None):
    """The form again; `blocked`: why nothing was saved (a DuplicateMetric, or the form's errors), said at the top."""
    return render(request, "metrics/metric_form.html", {
        "form": form, "definition": definition, "result": result, "blocked": blocked,
        "typed_name": (form.data.get("name") or "").strip() if form.is_bound else "",
    })


@login_required
def metric_create(request):
    sources = Source.objects.order_by("name")
    if request.method != "POST":
        initial = {"dialect": "postgres", "format": "number"}
        for key in ("name", "title", "sql", "dialect", "source"):
            if request.GET.get(key):
                initial[key] = request.GET[key]
        return _form_page(request, MetricForm(initial=initial, sources=sources))
    form = MetricForm(request.POST, sources=sources)
    form.is_valid()
    data = form.service_data()
    try:
        definition = metric_register(user=request.user, data=data, message=request.POST.get("message", ""),
                                     force=request.POST.get("force") in ("on", "1", "true"), reason=request.POST.get("reason", ""))
    except (MetricError, DuplicateMetric) as exc:
        if isinstance(exc, MetricError):
            form.apply_errors(exc.errors)
        return _form_page(request, form, result=metric_check(data), blocked=exc)
    messages.success(request, f"Registered {definition.name} as a draft (version 1).")
    return redirect(definition)


@login_required
def metric_edit(request, name):
    definition = _definition(name)
    if not definition.can_govern(request.user):
        raise PermissionDenied(f"Only the owners of {definition.name} or staff can edit it.")
    sources = Source.objects.order_by("name")
    if request.method != "POST":
        return _form_page(request, MetricForm(initial=initial_for(definition), sources=sources), definition=definition)
    form = MetricForm(request.POST, sources=sources)
    form.is_valid()
    data = form.service_data()
    version = definition.version
    try:
        metric_update(definition, user=request.user, data=data, message=request.POST.get("message", ""),
                      force=request.POST.get("force") in ("on", "1", "true"), reason=request.POST.get("reason", ""))
    except (MetricError, DuplicateMetric) as exc:
        if isinstance(exc, MetricError):
            form.apply_errors(exc.errors)
        definition.refresh_from_db()
        return _form_page(request, form, definition=definition, result=metric_check(data, instance=definition), blocked=exc)
    except MetricPermissionError as exc:
        raise PermissionDenied(str(exc)) from None
    if definition.version == version:
        messages.info(request, "Nothing changed: no new version.")
    else:
        messages.success(request, f"Saved version {definition.version} of {definition.name}.")
    return redirect(definition)


@login_required
@require_POST
def metric_check_view(request):
    """The form's live panel: parse errors with line and column, what the SQL reads, and look-alikes. Saves nothing.

    Only people who can write a definition need it, so it needs a login like the form does: reading SQL
    costs CPU (bounded, see metric_check_sql), and an anonymous visitor has no form to check."""
    instance = MetricDefinition.objects.filter(name=request.POST.get("instance", "")).first() if request.POST.get("instance") else None
    form = MetricForm(request.POST, sources=Source.objects.order_by("name"))
    data = form.service_data()
    result = metric_check(data, instance=instance)
    return render(request, "metrics/_check.html", {"result": result, "typed_name": (data.get("name") or "").strip(),
                                                   "definition": instance})


def _fail(request, exc, definition):
    if isinstance(exc, MetricPermissionError):
        raise PermissionDenied(str(exc))
    messages.error(request, str(exc))
    return redirect(definition)


@login_required
@require_POST
def metric_status_view(request, name):
    definition = _definition(name)
    try:
        metric_set_status(definition, user=request.user, status=request.POST.get("status", ""),
                          replaced_by=request.POST.get("replaced_by", "").strip() or None, note=request.POST.get("note", ""))
    except (MetricError, MetricPermissionError) as exc:
        return _fail(request, exc, definition)
    messages.success(request, f"{definition.name} is now {definition.status}.")
    return redirect(definition)


@login_required
@require_POST
def metric_watch_view(request, name):
    definition = _definition(name)
    watching = request.POST.get("watch", "1") == "1"
    metric_watch(definition, user=request.user, watching=watching)
    messages.success(request, f"You {'now watch' if watching else 'no longer watch'} {definition.name}.")
    return redirect(definition)


@login_required
@require_POST
def metric_synonym_view(request, name):
    definition = _definition(name)
    synonym = request.POST.get("synonym", "")
    try:
        metric_add_synonym(definition, user=request.user, synonym=synonym)
    except (MetricError, MetricPermissionError) as exc:
        return _fail(request, exc, definition)
    messages.success(request, f"Added {synonym.strip()} as a synonym of {definition.name}.")
    return redirect(definition)


@login_required
@require_POST
def metric_restore_view(request, name, number):
    definition = _definition(name)
    try:
        metric_restore(definition, user=request.user, number=number)
    except (MetricError, MetricPermissionError) as exc:
        return _fail(request, exc, definition)
    messages.success(request, f"Restored version {number} as version {definition.version}.")
    return redirect(definition)


@login_required
@require_POST
def metric_recheck_view(request, name):
    definition = _definition(name)
    try:
        metric_recheck(definition, user=request.user)
    except (MetricError, MetricPermissionError) as exc:
        return _fail(request, exc, definition)
    messages.success(request, "Checked the SQL against the catalog as it is now." if not definition.broken
                     else "Still broken: " + "; ".join(definition.broken_reasons))
    return redirect(definition)


# ---------------------------------------------------------------- comparing

FIELD_LABELS = [("title", "Title"), ("description", "Description"), ("dialect", "Dialect"), ("source", "Source"),
                ("time_dimension", "Time dimension"), ("grain", "Grain"), ("unit", "Unit"), ("format", "Format"),
                ("owners", "Owners"), ("tags", "Tags"), ("synonyms", "Synonyms")]


def _show(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return "—" if value in (None, "") else str(value)


def _sql_diff(left: str, right: str) -> list[dict]:
    """Side-by-side rows of two SQL texts (formatted first, so layout does not count as a change)."""
    a, b = format_sql(left).splitlines(), format_sql(right).splitlines()
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        span = max(i2 - i1, j2 - j1)
        for k in range(span):
            old = a[i1 + k] if i1 + k < i2 else None
            new = b[j1 + k] if j1 + k < j2 else None
            rows.append({"old": old, "new": new, "tag": tag})
    return rows


def _fields(snapshot: dict) -> dict:
    return {key: _show(snapshot.get(key)) for key, _ in FIELD_LABELS}


def metric_versions(request, name):
    definition = _definition(name)
    versions = list(definition.versions.select_related("author").order_by("-number"))
    numbers = [v.number for v in versions]

    def pick(param, default):
        value = request.GET.get(param, "")
        return int(value) if value.isdigit() and int(value) in numbers else default

    newest = numbers[0] if numbers else 0
    new_number = pick("to", newest)
    old_number = pick("from", max([n for n in numbers if n < new_number], default=new_number))
    by_number = {v.number: v for v in versions}
    old, new = by_number.get(old_number), by_number.get(new_number)
    rows = []
    if old and new:
        left, right = _fields(old.snapshot), _fields(new.snapshot)
        rows = [{"label": label, "old": left[key], "new": right[key], "changed": left[key] != right[key]} for key, label in FIELD_LABELS]
        rows.insert(0, {"label": "Name", "old": old.snapshot.get("name"), "new": new.snapshot.get("name"),
                        "changed": old.snapshot.get("name") != new.snapshot.get("name")})
    return render(request, "metrics/metric_versions.html", {
        "definition": definition, "versions": versions, "old": old, "new": new, "rows": rows,
        "sql_rows": _sql_diff(old.snapshot.get("sql", ""), new.snapshot.get("sql", "")) if old and new else [],
        "can_govern": definition.can_govern(request.user),
        "old_label": f"version {old.number}" if old else "", "new_label": f"version {new.number}" if new else "",
    })


def metric_compare(request):
    """Two definitions side by side: fields, SQL, what they read, and why they look alike."""
    names = MetricDefinition.objects.order_by("name").values_list("name", flat=True)
    a_name, b_name = request.GET.get("a", "").strip(), request.GET.get("b", "").strip()
    context = {"names": names, "a_name": a_name, "b_name": b_name}
    if a_name and b_name:
        pair = {d.name: d for d in MetricDefinition.objects.filter(name__in=[a_name, b_name]).select_related("source").prefetch_related(
            "owners", "tags", "synonyms", Prefetch("dataset_uses", queryset=MetricDatasetUse.objects.select_related("dataset")),
            "column_uses")}
        a, b = pair.get(a_name), pair.get(b_name)
        if a is None or b is None:
            messages.error(request, f"There is no definition named {a_name if a is None else b_name}.")
        else:
            left, right = _fields(snapshot_of(metric_values(a))), _fields(snapshot_of(metric_values(b)))
            likeness = []
            if a.fingerprint and a.fingerprint == b.fingerprint:
                likeness.append(SAME_SQL_REASON)
            elif a.signature and a.signature == b.signature:
                likeness.append("the same aggregate over the same columns with the same filters")
            similarity = max(name_similarity(a.name, b.name), name_similarity(a.title, b.title))
            if similarity >= 0.84:
                likeness.append(f"close names ({similarity:.0%})")
            text_similarity = description_similarity(a.description, b.description)
            if text_similarity >= 0.55:
                likeness.append(f"similar descriptions ({text_similarity:.0%})")
            a_columns = {(u.dataset_id, u.column_name) for u in a.column_uses.all()}
            b_columns = {(u.dataset_id, u.column_name) for u in b.column_uses.all()}
            context.update({
                "a": a, "b": b,
                "rows": [{"label": label, "old": left[key], "new": right[key], "changed": left[key] != right[key],
                          "markdown": key == "description"}
                         for key, label in FIELD_LABELS],
                "sql_rows": _sql_diff(a.sql, b.sql), "likeness": likeness,
                "shared_datasets": sorted({u.dataset_name for u in a.dataset_uses.all()} & {u.dataset_name for u in b.dataset_uses.all()}),
                "shared_columns": len(a_columns & b_columns),
            })
    return render(request, "metrics/metric_compare.html", context)
