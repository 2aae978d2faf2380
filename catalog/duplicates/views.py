"""The Duplicates page, and the decision form it and each dataset's panel post to."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from catalog.duplicates.models import Decision, DuplicateGroup
from catalog.duplicates.selectors import copies_cost, describe_groups, filter_groups, groups_queryset
from catalog.duplicates.services import DecisionError, duplicate_decide
from catalog.inventory.models import Dataset
from catalog.sources.models import Source

PAGE_SIZE = 25


def _int(value, *, low: int, high: int):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def duplicate_list(request):
    params = request.GET
    kind = params.get("kind", "") if params.get("kind", "") in dict(DuplicateGroup.KIND_CHOICES) else ""
    # No database stores a NUL character in a name: one in the query string finds nothing, rather than failing.
    source = params.get("source", "").replace("\x00", "")[:100]
    min_score = _int(params.get("min_score"), low=0, high=100)
    q = params.get("q", "").replace("\x00", "").strip()[:200]
    groups = filter_groups(groups_queryset(), kind=kind, source=source, min_score=min_score, q=q)
    page = Paginator(groups, PAGE_SIZE).get_page(params.get("page"))
    described, _ = describe_groups(page.object_list)
    all_totals = copies_cost(groups)  # every copy the filters keep, not only this page's
    return render(request, "duplicates/duplicate_list.html", {
        "page": page, "groups": described, "totals": all_totals,
        "filters": {"kind": kind, "source": source, "min_score": "" if min_score is None else min_score, "q": q},
        "kinds": DuplicateGroup.KIND_CHOICES, "sources": Source.objects.values_list("name", flat=True),
        "prices": sorted(all_totals["prices"].items()), "verdicts": Decision.VERDICT_CHOICES,
    })


@login_required
@require_POST
def duplicate_decide_view(request):
    dataset = get_object_or_404(Dataset, pk=_int(request.POST.get("dataset"), low=1, high=2**63 - 1) or 0)
    other = get_object_or_404(Dataset, pk=_int(request.POST.get("other"), low=1, high=2**63 - 1) or 0)
    original_id = _int(request.POST.get("original"), low=1, high=2**63 - 1)
    original = {dataset.pk: dataset, other.pk: other}.get(original_id) if original_id else None
    try:
        duplicate_decide(dataset, other, verdict=request.POST.get("verdict", ""), user=request.user,
                         reason=request.POST.get("reason", ""), original=original)
    except DecisionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Recorded for {dataset.qualified_name} and {other.qualified_name}.")
    following = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(following, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(following)
    return redirect("duplicate-list")
