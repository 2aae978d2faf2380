from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog.alerts.models import Subscription
from catalog.core.attention import attention_items
from catalog.core.decorators import staff_required
from catalog.core.export import csv_response, csv_url, wants_csv
from catalog.core.pagination import paginate_deferred, stable_ordering
from catalog.history.models import SchemaChange
from catalog.inventory.models import Column, Dataset, OwnerIdentity, SchemaDescription
from catalog.inventory.services.edit import EditError, column_describe, dataset_describe, owner_identity_map, schema_describe
from catalog.metrics.models import MetricDefinition
from catalog.sources.models import Crawl, Source

# Every ordering ends with the primary key, so that pages never overlap or skip rows;
# unknown sizes and row counts come last either way (stable_ordering).
SORTS = {
    "name": ("name", "schema_name", "id"),
    "-name": ("-name", "-schema_name", "-id"),
    "schema": ("schema_name", "name", "id"),
    "-schema": ("-schema_name", "-name", "-id"),
    "kind": ("kind", "name", "id"),
    "-kind": ("-kind", "-name", "-id"),
    "rows": ("row_estimate", "id"),
    "-rows": ("-row_estimate", "-id"),
    "size": ("size_bytes", "id"),
    "-size": ("-size_bytes", "-id"),
    "columns": ("column_count", "id"),
    "-columns": ("-column_count", "-id"),
    "first_seen": ("first_seen_at", "id"),
    "-first_seen": ("-first_seen_at", "-id"),
    # Reads in the last 30 days, from query history (catalog/usage); unknown usage last either way.
    "reads": (F("usage__queries_30").asc(nulls_last=True), "id"),
    "-reads": (F("usage__queries_30").desc(nulls_last=True), "-id"),
}
DEFAULT_SORT = "name"
# (label, sort key or None, direction of the first click, numeric column)
DATASET_COLUMNS = [
    ("Name", "name", "", False),
    ("Schema", "schema", "", False),
    ("Source", None, "", False),
    ("Kind", "kind", "", False),
    ("Owner", None, "", False),
    ("Columns", "columns", "-", True),
    ("Rows (est.)", "rows", "-", True),
    ("Size", "size", "-", True),
    ("First seen", "first_seen", "-", True),
    ("Reads (30 d)", "reads", "-", True),
]
PAGE_SIZE = 50
OWNER_PAGE_SIZE = 100


def home(request):
    present = Dataset.objects.present()
    totals = present.aggregate(datasets=Count("id"), columns=Sum("column_count"), rows=Sum("row_estimate"), bytes=Sum("size_bytes"))
    labels = dict(Dataset.KIND_CHOICES)
    kinds = [
        {"kind": row["kind"], "label": labels.get(row["kind"], row["kind"]), "n": row["n"]}
        for row in present.values("kind").annotate(n=Count("id")).order_by("-n", "kind")
    ]
    # Then what the team relies on: certified definitions, and the datasets most read (query history, 30 days), watched
    # and read by definitions.
    certified = MetricDefinition.objects.filter(status=MetricDefinition.CERTIFIED).order_by("broken", "title", "name")[:6]
    relied_on = (present.select_related("source")
                 .annotate(watchers=Count("subscriptions", filter=~Q(subscriptions__mode=Subscription.OFF), distinct=True),
                           readers=Count("metric_uses", distinct=True))
                 .annotate(reads=Coalesce("usage__queries_30", Value(0)))
                 .filter(Q(watchers__gt=0) | Q(readers__gt=0) | Q(reads__gt=0)).order_by("-reads", "-watchers", "-readers", "name")[:6])
    context = {
        "attention": attention_items(),
        "certified": certified,
        "relied_on": relied_on,
        "totals": totals,
        "source_count": Source.objects.count(),
        "schema_count": present.values("source_id", "schema_name").distinct().count(),
        "kinds": kinds,
        "recent_crawls": Crawl.objects.select_related("source").order_by("-started_at", "-id")[:10],
        "recent_datasets": present.select_related("source").order_by("-first_seen_at", "-id")[:8],
    }
    return render(request, "inventory/home.html", context)


def _sort_headers(sort: str) -> list[dict]:
    headers = []
    for label, key, first, numeric in DATASET_COLUMNS:
        header = {"label": label, "numeric": numeric, "key": key, "next": None, "state": ""}
        if key:
            if sort == key:
                header.update(state="ascending", next=f"-{key}")
            elif sort == f"-{key}":
                header.update(state="descending", next=key)
            else:
                header["next"] = f"{first}{key}"
        headers.append(header)
    return headers


def _param(params, name: str) -> str:
    # PostgreSQL text cannot hold NUL; no real name contains one.
    return params.get(name, "").replace("\x00", "").strip()


def dataset_list(request):
    params = request.GET
    show_removed = params.get("removed") == "1"
    datasets = Dataset.objects.filter(removed_at__isnull=not show_removed).select_related("source", "owner", "usage")
    source_name, schema, kind = _param(params, "source"), _param(params, "schema"), _param(params, "kind")
    q, owner_param = _param(params, "q"), _param(params, "owner")
    if source_name:
        datasets = datasets.filter(source__name=source_name)
    if schema:
        datasets = datasets.filter(schema_name=schema)
    if kind:
        datasets = datasets.filter(kind=kind)
    if q:
        datasets = datasets.filter(name__icontains=q)
    owner = None
    if owner_param.isdigit():
        owner = OwnerIdentity.objects.select_related("source").filter(pk=int(owner_param)).first()
        datasets = datasets.filter(owner_id=int(owner_param))
    sort = params.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    datasets = datasets.order_by(*stable_ordering(Dataset, SORTS[sort]))
    if wants_csv(request):
        return csv_response("datasets.csv", ["source", "schema", "name", "kind", "owner", "columns", "rows_estimate", "size_bytes",
                                             "first_seen_at", "last_changed_at", "removed_at", "url"],
                            ((d.source.name, d.schema_name, d.name, d.kind, d.owner.name if d.owner else "", d.column_count,
                              d.row_estimate, d.size_bytes, d.first_seen_at, d.last_changed_at, d.removed_at,
                              request.build_absolute_uri(d.get_absolute_url())) for d in datasets.iterator(chunk_size=2000)))
    page = paginate_deferred(datasets, params.get("page"), PAGE_SIZE)
    context = {
        "csv_url": csv_url(request),
        "page": page,
        "sort": sort,
        "headers": _sort_headers(sort),
        "filters": {"source": source_name, "schema": schema, "kind": kind, "q": q, "removed": show_removed},
        "owner": owner,
        "owner_param": owner_param if owner else "",
        "sources": Source.objects.order_by("name").values_list("name", flat=True),
        "kinds": Dataset.KIND_CHOICES,
    }
    return render(request, "inventory/dataset_list.html", context)


def dataset_detail(request, pk):
    dataset = get_object_or_404(Dataset.objects.select_related("source", "owner", "owner__user", "description_updated_by"), pk=pk)
    if wants_csv(request):  # its columns
        return csv_response(f"{dataset.source.name}.{dataset.qualified_name}.columns.csv".replace("/", "_").replace('"', "_"),
                            ["position", "name", "data_type", "type_family", "nullable", "default", "primary_key", "generated",
                             "comment", "description"],
                            ((c.position, c.name, c.data_type, c.type_family, c.nullable, c.default, c.is_primary_key, c.generated,
                              c.comment, c.description) for c in dataset.columns.order_by("position")))
    columns = list(dataset.columns.order_by("position"))
    editing_column = request.GET.get("edit_column") if request.user.is_authenticated else None
    return render(request, "inventory/dataset_detail.html", {
        "dataset": dataset,
        "columns": columns,
        "properties": sorted(dataset.properties.items()) if isinstance(dataset.properties, dict) else [],
        "warnings": dataset.warnings if isinstance(dataset.warnings, list) else [],
        "editing": request.GET.get("edit") == "description" and request.user.is_authenticated,
        "editing_column": editing_column,
        "csv_url": csv_url(request),
    })


@login_required
@require_POST
def dataset_describe_view(request, pk):
    dataset = get_object_or_404(Dataset, pk=pk)
    try:
        dataset_describe(dataset, description=request.POST.get("description", ""), user=request.user)
    except EditError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Description saved.")
    return redirect(dataset)


SCHEMA_DATASETS = 500  # listed on a schema's page; the dataset list filtered to the schema shows every one


def schema_detail(request, name, schema):
    """One schema of a source: what people wrote about it, its datasets, their owners, its recent changes.
    POST (logged in): save the description."""
    source = get_object_or_404(Source, name=name)
    datasets = Dataset.objects.present().filter(source=source, schema_name=schema)
    known = Dataset.objects.filter(source=source, schema_name=schema).exists()  # removed ones too: their page links here
    if not known and not SchemaDescription.objects.filter(source=source, schema_name=schema).exists():
        raise Http404("No such schema in this source.")
    note = SchemaDescription.objects.filter(source=source, schema_name=schema).select_related("updated_by").first()
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        try:
            schema_describe(source, schema, description=request.POST.get("description", ""), user=request.user)
        except EditError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Description saved.")
        return redirect(request.path)
    totals = datasets.aggregate(datasets=Count("id"), columns=Sum("column_count"), rows=Sum("row_estimate"), bytes=Sum("size_bytes"))
    owners = (OwnerIdentity.objects.filter(datasets__in=datasets).select_related("user")
              .annotate(owned=Count("datasets")).order_by("-owned", "name"))
    changes = (SchemaChange.objects.filter(source=source, dataset__schema_name=schema).select_related("dataset")
               .order_by("-created_at", "-id")[:20])
    return render(request, "inventory/schema_detail.html", {
        "source": source, "schema": schema, "note": note, "editing": request.GET.get("edit") == "description",
        "datasets": datasets.select_related("owner").order_by("name")[:SCHEMA_DATASETS], "totals": totals,
        "owners": owners, "changes": changes,
        "list_url": f"{reverse('dataset-list')}?{urlencode({'source': source.name, 'schema': schema})}",
        "changes_url": f"{reverse('change-list')}?{urlencode({'source': source.name})}",
    })


@login_required
@require_POST
def column_describe_view(request, pk, column_id):
    column = get_object_or_404(Column.objects.select_related("dataset"), pk=column_id, dataset_id=pk)
    try:
        column_describe(column, description=request.POST.get("description", ""), user=request.user)
    except EditError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Description of {column.name} saved.")
    return redirect(f"{column.dataset.get_absolute_url()}#col-{column.pk}")


def owner_list(request):
    identities = (
        OwnerIdentity.objects.select_related("source", "user")
        .annotate(dataset_total=Count("datasets", filter=Q(datasets__removed_at__isnull=True)))
        .order_by("source__name", "name", "id")
    )
    page = Paginator(identities, OWNER_PAGE_SIZE).get_page(request.GET.get("page"))
    users = list(get_user_model().objects.filter(is_active=True).order_by("username")) if request.user.is_staff else []
    return render(request, "inventory/owner_list.html", {"page": page, "users": users})


@staff_required
@require_POST
def owner_map_view(request, pk):
    identity = get_object_or_404(OwnerIdentity, pk=pk)
    page = request.POST.get("page", "")
    back = reverse("owner-list") + (f"?page={page}" if page.isdigit() else "") + f"#owner-{identity.pk}"
    # A username, picked from the page's one list of people (a select per row repeated every user on every row).
    username = request.POST.get("person", "").strip()
    user = None
    if username:
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}, is_active=True).first()
        if user is None:
            messages.error(request, f"Owner {identity.name} not mapped: no such person ({username}).")
            return redirect(back)
    try:
        owner_identity_map(identity, user=user, email=request.POST.get("email", ""))
    except EditError as exc:
        messages.error(request, f"Owner {identity.name} not mapped: {exc}")
    else:
        who = " and ".join(filter(None, [user.get_username() if user else "", identity.email])) or "nobody"
        messages.success(request, f"Owner {identity.name} mapped to {who}.")
    return redirect(back)
