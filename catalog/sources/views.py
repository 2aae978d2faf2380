import json

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog.alerts.models import Subscription
from catalog.core import crypto
from catalog.core.decorators import staff_required
from catalog.core.sourceurl import InvalidSourceURL, parse_source_url
from catalog.inventory.models import Dataset
from catalog.sources.forms import SourceEditForm, SourceForm, options_text
from catalog.sources.models import Crawl, Source
from catalog.sources.schedules import (
    ScheduleError,
    schedule_of,
    source_schedule_clear,
    source_schedule_describe,
    source_schedule_set,
)
from catalog.crawls.services import crawl_enqueue
from catalog.sources.services import (
    SourceError,
    SourceOptionsError,
    source_create,
    source_delete,
    source_delete_preview,
    source_test_connection,
    source_update,
)

CRAWL_HISTORY = 20


def source_list(request):
    sources = Source.objects.select_related("last_crawl").annotate(
        dataset_total=Count("datasets", filter=Q(datasets__removed_at__isnull=True))
    )
    failed_only = request.GET.get("status") == Crawl.FAILED
    if failed_only:  # the home page's "Failing sources" count links here
        sources = sources.filter(last_crawl__status=Crawl.FAILED)
    return render(request, "sources/source_list.html", {"sources": sources, "failed_only": failed_only})


def source_detail(request, name):
    source = get_object_or_404(Source.objects.select_related("last_crawl", "schedule"), name=name)
    schemas = (
        Dataset.objects.present().filter(source=source).values("schema_name")
        .annotate(datasets=Count("id")).order_by("schema_name")
    )
    crawls = source.crawls.select_related("started_by")[:CRAWL_HISTORY]
    active = source.crawls.filter(status__in=Crawl.ACTIVE).order_by("-started_at").first()
    held = source.last_crawl if source.last_crawl and source.last_crawl.status == Crawl.HELD else None
    last = source.last_crawl
    retry_at = last.retry_at if last and last.status == Crawl.FAILED and last.retry_at and last.retry_at > timezone.now() else None
    watching, schedule = None, schedule_of(source)
    if request.user.is_authenticated:
        watching = Subscription.objects.filter(user=request.user, source=source, schema_name="", dataset__isnull=True).first()
    return render(request, "sources/source_detail.html", {
        "source": source, "schemas": schemas, "crawls": crawls, "active_crawl": active, "held_crawl": held, "retry_at": retry_at,
        "schedule": source_schedule_describe(source), "watching": watching,
        "options_json": json.dumps(source.options, ensure_ascii=False, sort_keys=True),
        # The form shows the schedule as it is: its interval in minutes, or its cron.
        "has_schedule": schedule is not None,
        "schedule_every": schedule.every_seconds // 60 if schedule and schedule.every_seconds and schedule.every_seconds % 60 == 0 else "",
        "schedule_cron": schedule.cron if schedule else "",
    })


# A URL typed into a source form is kept, encrypted, in the session: the form is shown again
# (after "Test connection" or an error) without the password, and an empty box means "the URL
# I typed before". Opening the form afresh forgets it.
def _url_key(source_name: str | None) -> str:
    return f"canon.source-form-url:{source_name or ''}"


def _remembered_url(request, key: str) -> str:
    token = request.session.get(key)
    if not token:
        return ""
    try:
        return crypto.decrypt(token)
    except crypto.DecryptionError:
        request.session.pop(key, None)
        return ""


def _remember_typed_url(request, key: str) -> str:
    """The URL to use: the one typed now, else the one typed before, else ''.

    Only a URL that parses is kept: its masked form is shown again, and a text that does
    not parse cannot be masked reliably (nor used)."""
    typed = request.POST.get("url", "").strip()
    if typed:
        try:
            parse_source_url(typed)
        except InvalidSourceURL:
            request.session.pop(key, None)
        else:
            request.session[key] = crypto.encrypt(typed)
        return typed
    return _remembered_url(request, key)


def _masked(url: str) -> str:
    try:
        return parse_source_url(url).redacted()
    except InvalidSourceURL:
        return ""


def _test_and_report(request, url):
    ok, message = source_test_connection(url)
    (messages.success if ok else messages.error)(request, f"Connection {'ok' if ok else 'failed'}: {message}")
    return ok


def _test_stored_or(request, source: Source, url: str):
    """Test the URL typed now, else the stored one (which cannot be read if the key changed)."""
    if not url:
        try:
            url = source.url
        except crypto.DecryptionError as exc:
            messages.error(request, f"Connection failed: {exc}")
            return False
    return _test_and_report(request, url)


def _posted(request, *fields) -> dict:
    return {field: request.POST.get(field, "") for field in fields}


@staff_required
def source_create_view(request):
    key = _url_key(None)
    if request.method != "POST":
        request.session.pop(key, None)
        return render(request, "sources/source_form.html", {"form": SourceForm(), "creating": True})
    url = _remember_typed_url(request, key)
    remembered = _masked(url) if url else ""
    if request.POST.get("action") == "test":
        if url:
            _test_and_report(request, url)
        else:
            messages.error(request, "Type the source's URL to test the connection.")
        form = SourceForm(initial=_posted(request, "name", "include_schemas", "exclude_schemas", "description", "options"),
                          remembered_url_display=remembered)
        return render(request, "sources/source_form.html", {"form": form, "creating": True})
    form = SourceForm(request.POST, remembered_url_display=remembered)
    if form.is_valid():
        data = form.cleaned_data
        try:
            source = source_create(
                name=data["name"], url=url, include=data["include_schemas"], exclude=data["exclude_schemas"],
                description=data["description"], options=data["options"], user=request.user,
            )
        except SourceError as exc:
            form.add_error("options" if isinstance(exc, SourceOptionsError) else None, str(exc))
        else:
            request.session.pop(key, None)
            messages.success(request, f"Source {source.name} added. Crawl it to fill the catalog.")
            return redirect(source)
    return render(request, "sources/source_form.html", {"form": form, "creating": True})


@staff_required
def source_delete_view(request, name):
    """GET: what deleting the source takes with it, named and counted. POST: delete it."""
    source = get_object_or_404(Source, name=name)
    if request.method == "POST":
        removed, _ = source_delete_preview(source)
        datasets = dict(removed).get("datasets", 0)
        source_delete(source)
        messages.success(request, f"Source {name} deleted, with the {datasets} dataset{'s' if datasets != 1 else ''} crawled from it.")
        return redirect("source-list")
    removed, unlinked = source_delete_preview(source)
    return render(request, "sources/source_delete.html", {"source": source, "removed": removed, "unlinked": unlinked})


@staff_required
def source_edit_view(request, name):
    source = get_object_or_404(Source, name=name)
    key = _url_key(source.name)
    if request.method != "POST":
        request.session.pop(key, None)
        initial = {
            "include_schemas": ", ".join(source.include_schemas),
            "exclude_schemas": ", ".join(source.exclude_schemas),
            "description": source.description,
            "options": options_text(source.options),
        }
        return render(request, "sources/source_form.html", {"form": SourceEditForm(source=source, initial=initial), "source": source})
    url = _remember_typed_url(request, key)  # empty: keep the stored URL
    remembered = _masked(url) if url else ""
    if request.POST.get("action") == "test":
        _test_stored_or(request, source, url)
        form = SourceEditForm(source=source, initial=_posted(request, "include_schemas", "exclude_schemas", "description", "options"),
                              remembered_url_display=remembered)
        return render(request, "sources/source_form.html", {"form": form, "source": source})
    form = SourceEditForm(request.POST, source=source, remembered_url_display=remembered)
    if form.is_valid():
        data = form.cleaned_data
        try:
            source_update(source, url=url or None, include=data["include_schemas"], exclude=data["exclude_schemas"],
                          description=data["description"], options=data["options"])
        except SourceError as exc:
            form.add_error("options" if isinstance(exc, SourceOptionsError) else "url", str(exc))
        else:
            request.session.pop(key, None)
            messages.success(request, "Source saved.")
            return redirect(source)
    return render(request, "sources/source_form.html", {"form": form, "source": source})


@staff_required
@require_POST
def source_test_view(request, name):
    source = get_object_or_404(Source, name=name)
    _test_stored_or(request, source, "")
    return redirect(source)


@staff_required
@require_POST
def source_crawl_view(request, name):
    """Queue a crawl for a worker; the source page follows its progress."""
    source = get_object_or_404(Source, name=name)
    crawl = crawl_enqueue(source, trigger="web", user=request.user)
    messages.info(request, f"Crawl #{crawl.pk} of {source.name} is {crawl.get_status_display()}; this page follows it.")
    return redirect(source)


@staff_required
@require_POST
def source_confirm_removal_view(request, name):
    """A person confirms what a held crawl would remove: crawl again, allowed to remove."""
    source = get_object_or_404(Source, name=name)
    crawl = crawl_enqueue(source, trigger="confirmed", allow_mass_removal=True, user=request.user)
    messages.info(request, f"Crawl #{crawl.pk} will apply the removals.")
    return redirect(source)


@staff_required
@require_POST
def source_schedule_view(request, name):
    source = get_object_or_404(Source, name=name)
    every, cron = request.POST.get("every_minutes", "").strip(), request.POST.get("cron", "").strip()
    try:
        if request.POST.get("action") == "off" or not (every or cron):
            source_schedule_clear(source)
        else:
            source_schedule_set(source, every_minutes=every or None, cron=cron or None)
    except ScheduleError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Schedule: {source_schedule_describe(source)}.")
    return redirect(source)
