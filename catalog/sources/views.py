from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.inventory.models import Dataset
from catalog.sources.forms import SourceEditForm, SourceForm
from catalog.sources.models import Crawl, Source
from catalog.sources.services import SourceError, source_crawl, source_create, source_test_connection, source_update


def source_list(request):
    sources = Source.objects.select_related("last_crawl").annotate(
        dataset_total=Count("datasets", filter=Q(datasets__removed_at__isnull=True))
    )
    return render(request, "sources/source_list.html", {"sources": sources})


def source_detail(request, name):
    source = get_object_or_404(Source.objects.select_related("last_crawl"), name=name)
    schemas = (
        Dataset.objects.present().filter(source=source).values("schema_name")
        .annotate(datasets=Count("id")).order_by("schema_name")
    )
    crawls = source.crawls.all()[:20]
    return render(request, "sources/source_detail.html", {"source": source, "schemas": schemas, "crawls": crawls})


def _test_and_report(request, url):
    ok, message = source_test_connection(url)
    (messages.success if ok else messages.error)(request, f"Connection {'ok' if ok else 'failed'}: {message}")
    return ok


@staff_member_required
def source_create_view(request):
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("action") == "test":
            _test_and_report(request, data["url"])
            # The form is shown again; the URL field is not echoed back (it may hold a password).
            form = SourceForm(initial={k: v for k, v in data.items() if k != "url"})
            return render(request, "sources/source_form.html", {"form": form, "creating": True})
        try:
            source = source_create(
                name=data["name"], url=data["url"], include=data["include_schemas"], exclude=data["exclude_schemas"],
                description=data["description"], user=request.user,
            )
        except SourceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Source {source.name} added. Crawl it to fill the catalog.")
            return redirect(source)
    return render(request, "sources/source_form.html", {"form": form, "creating": True})


@staff_member_required
def source_edit_view(request, name):
    source = get_object_or_404(Source, name=name)
    initial = {
        "include_schemas": ", ".join(source.include_schemas),
        "exclude_schemas": ", ".join(source.exclude_schemas),
        "description": source.description,
    }
    form = SourceEditForm(request.POST or None, source=source, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("action") == "test":
            _test_and_report(request, data["url"] or source.url)
            return render(request, "sources/source_form.html", {"form": form, "source": source})
        try:
            source_update(source, url=data["url"], include=data["include_schemas"], exclude=data["exclude_schemas"], description=data["description"])
        except SourceError as exc:
            form.add_error("url", str(exc))
        else:
            messages.success(request, "Source saved.")
            return redirect(source)
    return render(request, "sources/source_form.html", {"form": form, "source": source})


@staff_member_required
@require_POST
def source_test_view(request, name):
    source = get_object_or_404(Source, name=name)
    _test_and_report(request, source.url)
    return redirect(source)


@staff_member_required
@require_POST
def source_crawl_view(request, name):
    source = get_object_or_404(Source, name=name)
    crawl = source_crawl(source, trigger="web")
    if crawl.status == Crawl.FAILED:
        messages.error(request, crawl.summary())
    else:
        messages.success(request, crawl.summary())
    return redirect(source)
