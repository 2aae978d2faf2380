from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.inventory.models import Column, Dataset, OwnerIdentity
from catalog.inventory.services.edit import EditError, column_describe, dataset_describe, owner_identity_map
from catalog.sources.models import Crawl, Source

SORTS = {
    "name": ("name", "schema_name"),
    "-name": ("-name", "-schema_name"),
    "schema": ("schema_name", "name"),
    "-schema": ("-schema_name", "-name"),
    "rows": ("row_estimate", "id"),
    "-rows": ("-row_estimate", "id"),
    "size": ("size_bytes", "id"),
    "-size": ("-size_bytes", "id"),
    "columns": ("column_count", "id"),
    "-columns": ("-column_count", "id"),
    "first_seen": ("first_seen_at", "id"),
    "-first_seen": ("-first_seen_at", "id"),
}
PAGE_SIZE = 50


def home(request):
    present = Dataset.objects.present()
    totals = present.aggregate(datasets=Count("id"), columns=Sum("column_count"), rows=Sum("row_estimate"), bytes=Sum("size_bytes"))
    context = {
        "totals": totals,
        "source_count": Source.objects.count(),
        "schema_count": present.values("source_id", "schema_name").distinct().count(),
        "kinds": present.values("kind").annotate(n=Count("id")).order_by("-n"),
        "recent_crawls": Crawl.objects.select_related("source").order_by("-started_at")[:10],
        "recent_datasets": present.select_related("source").order_by("-first_seen_at", "-id")[:8],
    }
    return render(request, "inventory/home.html", context)


def dataset_list(request):
    params = request.GET
    show_removed = params.get("removed") == "1"
    datasets = Dataset.objects.filter(removed_at__isnull=not show_removed).select_related("source", "owner")
    source_name, schema, kind, q = params.get("source", ""), params.get("schema", ""), params.get("kind", ""), params.get("q", "").strip()
    if source_name:
        datasets = datasets.filter(source__name=source_name)
    if schema:
        datasets = datasets.filter(schema_name=schema)
    if kind:
        datasets = datasets.filter(kind=kind)
    if q:
        datasets = datasets.filter(name__icontains=q)
    sort = params.get("sort", "name")
    datasets = datasets.order_by(*SORTS.get(sort, SORTS["name"]))
    page = Paginator(datasets, PAGE_SIZE).get_page(params.get("page"))
    context = {
        "page": page,
        "sort": sort if sort in SORTS else "name",
        "filters": {"source": source_name, "schema": schema, "kind": kind, "q": q, "removed": show_removed},
        "sources": Source.objects.values_list("name", flat=True),
        "kinds": Dataset.KIND_CHOICES,
    }
    return render(request, "inventory/dataset_list.html", context)


def dataset_detail(request, pk):
    dataset = get_object_or_404(Dataset.objects.select_related("source", "owner", "owner__user", "description_updated_by"), pk=pk)
    columns = dataset.columns.order_by("position")
    return render(request, "inventory/dataset_detail.html", {
        "dataset": dataset,
        "columns": columns,
        "editing": request.GET.get("edit") == "description" and request.user.is_authenticated,
        "editing_column": request.GET.get("edit_column") if request.user.is_authenticated else None,
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


@login_required
@require_POST
def column_describe_view(request, pk, column_id):
    column = get_object_or_404(Column, pk=column_id, dataset_id=pk)
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
        .annotate(dataset_total=Count("datasets"))
        .order_by("source__name", "name")
    )
    page = Paginator(identities, 100).get_page(request.GET.get("page"))
    users = get_user_model().objects.filter(is_active=True).order_by("username") if request.user.is_staff else []
    return render(request, "inventory/owner_list.html", {"page": page, "users": users})


@staff_member_required
@require_POST
def owner_map_view(request, pk):
    identity = get_object_or_404(OwnerIdentity, pk=pk)
    user_id = request.POST.get("user") or None
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        owner_identity_map(identity, user=user, email=request.POST.get("email", ""))
    except EditError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Owner {identity.name} mapped.")
    return redirect("owner-list")
