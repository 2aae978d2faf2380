"""Pages of long lists that stay fast deep into the list.

A deep page (OFFSET 75,000) costs what the database does for every skipped row. Joined
rows (source, owner) make that several times dearer, so a page is found on the bare
table first (ids only, the ORDER BY and filters as given), and only its rows are then
read with their relations: one more query, whatever the page.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import F
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination


def _rows_in_order(queryset, ids: list) -> list:
    rows = queryset.order_by().in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows]


def paginate_deferred(queryset, page_number, per_page: int) -> Page:
    """Like Paginator(queryset, per_page).get_page(page_number), with the rows read by id."""
    page = Paginator(queryset.prefetch_related(None).values_list("pk", flat=True), per_page).get_page(page_number)
    page.object_list = _rows_in_order(queryset, list(page.object_list))
    return page


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class CatalogPagination(PageNumberPagination):
    """Every list endpoint's pages: ?page=, and ?page_size= up to MAX_PAGE_SIZE (a larger one is
    served as MAX_PAGE_SIZE; zero, a negative or a non-number is the default), in the OpenAPI schema."""

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_size_query_description = f"Results per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE})."


class DeferredJoinPagination(CatalogPagination):
    """CatalogPagination that finds the page's ids first, then reads those rows."""

    def paginate_queryset(self, queryset, request, view=None):
        ids = super().paginate_queryset(queryset.prefetch_related(None).values_list("pk", flat=True), request, view)
        if ids is None:
            return None
        return _rows_in_order(queryset, list(ids))


def _nullable(model, path: str) -> bool:
    """Whether ordering by this field, or this path across relations (usage__queries_30), can meet NULL: a null
    field, or a relation on the way that can be missing (a reverse one-to-one, a nullable foreign key)."""
    for part in path.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if field.null or (field.is_relation and (field.auto_created and not field.concrete)):
            return True
        if not field.is_relation:
            return False
        model = field.related_model
    return False


def stable_ordering(model, terms) -> list:
    """An ORDER BY that pages can rely on: unknown values (NULL) last in both directions, and
    the primary key last of all, so that rows with equal values never swap between pages."""
    ordering = []
    for term in terms:
        if isinstance(term, str):
            name = term.lstrip("-")
            nullable = _nullable(model, name)
            if nullable:
                term = F(name).desc(nulls_last=True) if term.startswith("-") else F(name).asc(nulls_last=True)
        ordering.append(term)
    if not any(isinstance(t, str) and t.lstrip("-") in ("id", "pk") for t in ordering):
        ordering.append("id")
    return ordering


class StableOrderingFilter(OrderingFilter):
    """?ordering= as DRF reads it, made stable for pagination (see stable_ordering)."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if ordering and request.query_params.get(self.ordering_param):
            return stable_ordering(queryset.model, ordering)
        return ordering  # the view's default, already unique
