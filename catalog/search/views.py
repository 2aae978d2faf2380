"""The results page and the suggestions the search box shows while typing."""

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from catalog.search.api import SearchSuggestionSerializer
from catalog.search.engine import KIND_LABELS, search
from catalog.search.plan import FACETS, Filters

PAGE_SIZE = 20
MAX_PAGES = 25  # ranking keeps the best few hundred candidates
SUGGESTIONS = 8
FACET_TITLES = {"kind": "Kind", "source": "Source", "schema": "Schema", "owner": "Owner", "tag": "Tag", "status": "Status"}


def _page_number(value) -> int:
    try:
        return min(max(int(value), 1), MAX_PAGES)
    except (TypeError, ValueError):
        return 1


def _link(q: str, filters: dict[str, str], **changes) -> str:
    params = {"q": q, **filters}
    for name, value in changes.items():
        if value:
            params[name] = value
        else:
            params.pop(name, None)
    return "?" + urlencode(params)


@require_GET
def search_page(request):
    q = (request.GET.get("q") or "").replace("\x00", "").strip()[:200]
    filters = Filters.from_params(request.GET)
    page = _page_number(request.GET.get("page"))
    results = search(q, filters=filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    active = filters.active()
    facets = []
    for name in FACETS:
        values = results.facets.get(name, [])
        chosen = active.get(name, "")
        if not values and not chosen:
            continue
        entries = [{"value": value, "label": KIND_LABELS.get(value, value) if name == "kind" else value, "count": count,
                    "active": value == chosen, "url": _link(q, active, **{name: "" if value == chosen else value})}
                   for value, count in values]
        if chosen and not any(e["active"] for e in entries):
            entries.insert(0, {"value": chosen, "label": KIND_LABELS.get(chosen, chosen) if name == "kind" else chosen, "count": 0,
                               "active": True, "url": _link(q, active, **{name: ""})})
        facets.append({"name": name, "title": FACET_TITLES[name], "values": entries})
    context = {
        "q": q, "results": results, "facets": facets, "page": page,
        "active_filters": [{"name": FACET_TITLES[n], "value": KIND_LABELS.get(v, v) if n == "kind" else v, "url": _link(q, active, **{n: ""})}
                           for n, v in active.items()],
        "previous_url": _link(q, active, page=str(page - 1) if page > 2 else "") if page > 1 else "",
        "next_url": _link(q, active, page=str(page + 1)) if results.has_more and page < MAX_PAGES else "",
        "first_rank": (page - 1) * PAGE_SIZE + 1,
    }
    return render(request, "search/results.html", context)


@require_GET
def suggest(request):
    """A few best results while typing: names only, unless they find too little."""
    q = (request.GET.get("q") or "").replace("\x00", "").strip()[:200]
    results = search(q, limit=SUGGESTIONS, text=False, facets=False, typing=True)
    if len(results.hits) < 3:
        results = search(q, limit=SUGGESTIONS, facets=False, typing=True)
    return JsonResponse({
        "query": q,
        "results": SearchSuggestionSerializer(results.hits, many=True).data,
        "more_url": reverse("search") + "?" + urlencode({"q": q}),
    })
