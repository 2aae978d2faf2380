from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from catalog.core.decorators import staff_required
from catalog.inventory.models import Dataset
from catalog.quality.models import Freshness
from catalog.quality.profiling import column_sensitive_set, profile_alerts_set, sampling_set
from catalog.quality.selectors import readers_of
from catalog.quality.services import CadenceRefused, freshness_cadence, freshness_cadence_set
from catalog.sources.models import Source

PAGE_SIZE = 50


def stale_list(request):
    """Stale datasets, the latest first to go stale last: how late each is and what reads it."""
    rows = Freshness.objects.stale().select_related("dataset__source", "dataset__owner").order_by("stale_since", "dataset_id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    readers = readers_of([f.dataset_id for f in page])
    now = timezone.now()
    items = []
    for f in page:
        cadence = freshness_cadence(f)
        items.append({"freshness": f, "dataset": f.dataset, "late": now - f.stale_since, "readers": readers.get(f.dataset_id, []),
                      "cadence": cadence.describe() if cadence else ""})
    return render(request, "quality/stale_list.html", {"page": page, "items": items})


@login_required
@require_POST
def freshness_cadence_view(request, pk):
    dataset = get_object_or_404(Dataset, pk=pk)
    try:
        f = freshness_cadence_set(dataset, request.POST.get("cadence", ""), user=request.user)
    except CadenceRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Cadence set: {f.cadence_text}." if f.cadence_text else "Cadence cleared: Canon learns it from the changes it sees.")
    return redirect(f"{dataset.get_absolute_url()}#freshness")


@login_required
@require_POST
def column_sensitive_view(request, pk):
    dataset = get_object_or_404(Dataset, pk=pk)
    column = request.POST.get("column", "")
    if not dataset.columns.filter(name=column).exists():
        messages.error(request, f"{dataset.qualified_name} has no column {column!r}.")
    else:
        wanted = request.POST.get("sensitive") == "1"
        now = column_sensitive_set(dataset, column, wanted, user=request.user)
        messages.success(request, f"{column} is sensitive: its profile shows counts, never values." if now
                         else f"{column} is no longer marked sensitive: the next profiles keep values.")
    return redirect(f"{dataset.get_absolute_url()}#profiles")


@login_required
@require_POST
def profile_alerts_view(request):
    wanted = request.POST.get("wanted") == "1"
    profile_alerts_set(request.user, wanted)
    messages.success(request, "You will hear about jumps in column profiles of the datasets you hear about." if wanted
                     else "No more emails about jumps in column profiles.")
    target = request.POST.get("next", "")
    return redirect(target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) and target.startswith("/") else "/")


@staff_required
@require_POST
def sampling_view(request, name):
    source = get_object_or_404(Source, name=name)
    try:
        policy = sampling_set(source, enabled=request.POST.get("enabled") == "1",
                              budget_seconds=float(request.POST.get("budget_seconds") or 30),
                              percent=float(request.POST.get("percent") or 1))
    except ValueError as exc:
        messages.error(request, str(exc) if "between" in str(exc) else "The budget and the sample are numbers.")
    else:
        messages.success(request, f"Sampled profiles {'on' if policy.enabled else 'off'} for {source.name}.")
    return redirect(f"{source.get_absolute_url()}#sampling")
