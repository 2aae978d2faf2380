from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from catalog.alerts.models import OutboxMessage, Subscription, SubscriptionExclusion
from catalog.alerts.services import (
    SubscriptionError,
    UnsubscribeLinkExpired,
    exclusion_delete,
    outbox_failing_for,
    outbox_retry_now,
    subscription_create,
    subscription_delete,
    subscription_resolve_target,
    unsubscribe_describe,
    unsubscribe_links_reset,
    unsubscribe_with_token,
)
from catalog.inventory.models import Dataset
from catalog.sources.models import Source


def _back(request, fallback):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@login_required
def watching(request):
    exclusions = SubscriptionExclusion.objects.select_related("dataset")
    subscriptions = (Subscription.objects.filter(user=request.user).select_related("source", "dataset")
                     .prefetch_related(Prefetch("exclusions", queryset=exclusions))
                     .order_by("source__name", "schema_name", "dataset__name"))
    owned = (Dataset.objects.present().filter(owner__user=request.user).select_related("source")
             .exclude(subscriptions__user=request.user, subscriptions__dataset__isnull=False)[:200])
    return render(request, "alerts/watching.html", {
        "subscriptions": subscriptions, "owned": owned, "modes": Subscription.MODE_CHOICES,
        "mail_failing": outbox_failing_for(request.user),
    })


@login_required
@require_POST
def watch(request):
    """Watch a dataset (dataset=ID), a schema (source=NAME&schema=S) or a source (source=NAME), or a typed target."""
    data = request.POST
    try:
        if data.get("dataset"):
            dataset = get_object_or_404(Dataset, pk=data["dataset"])
            source, schema = dataset.source, dataset.schema_name
        elif data.get("target"):
            source, schema, dataset = subscription_resolve_target(data["target"].strip())
        else:
            source = get_object_or_404(Source, name=data.get("source", ""))
            schema, dataset = data.get("schema", ""), None
        subscription = subscription_create(
            user=request.user, source=source, schema_name=schema, dataset=dataset,
            mode=data.get("mode", Subscription.IMMEDIATE), breaking_only=data.get("breaking_only") in ("1", "on", "true"),
        )
    except SubscriptionError as exc:
        messages.error(request, str(exc))
    else:
        if subscription.mode == Subscription.OFF:
            messages.success(request, f"You will not hear about {subscription.target_label}.")
        else:
            messages.success(request, f"Watching {subscription.target_label} ({subscription.get_mode_display()}"
                                      f"{', breaking changes only' if subscription.breaking_only else ''}).")
    return _back(request, "watching")


@login_required
@require_POST
def unwatch(request, pk):
    subscription = get_object_or_404(Subscription, pk=pk, user=request.user)
    label = subscription.target_label
    subscription_delete(subscription)
    messages.success(request, f"Stopped watching {label}.")
    return _back(request, "watching")


@login_required
@require_POST
def exclusion_undo(request, pk):
    """Alert about a dataset again that the person had stopped from a source or schema subscription."""
    exclusion = get_object_or_404(SubscriptionExclusion.objects.select_related("subscription__source", "dataset"),
                                  pk=pk, subscription__user=request.user)
    exclusion_delete(exclusion)
    messages.success(request, f"Alerts for {exclusion.dataset.qualified_name} come again from your subscription to "
                              f"{exclusion.subscription.target_label}.")
    return _back(request, "watching")


@login_required
@require_POST
def unsubscribe_links_reset_view(request):
    unsubscribe_links_reset(request.user)
    messages.success(request, "The unsubscribe links in emails already sent to you no longer work; new emails carry new ones.")
    return redirect("watching")


# No login and no CSRF token: the signed token in the URL is the credential, and mail clients that offer
# one-click unsubscribe (RFC 8058) POST to the link without a form of ours.
@login_not_required  # also with CANON_REQUIRE_LOGIN on (catalog.core.middleware)
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """From an email: GET asks (link scanners open every link), POST stops what the signed token names."""
    try:
        if request.method == "POST":
            return render(request, "alerts/unsubscribed.html", {"stopped": unsubscribe_with_token(token)})
        target = unsubscribe_describe(token)
    except UnsubscribeLinkExpired:
        # Links sent before they carried a nonce, links whose nonce was replaced, and forged ones.
        return render(request, "alerts/unsubscribed.html", {"expired": True}, status=410)
    except SubscriptionError as exc:
        return render(request, "alerts/unsubscribed.html", {"error": str(exc)}, status=400)
    return render(request, "alerts/unsubscribe.html", {"target": target})


@staff_member_required
def outbox(request):
    status = request.GET.get("status", "unsent")
    items = OutboxMessage.objects.select_related("crawl__source").order_by("-created_at", "-id")
    if status == "unsent":
        items = items.exclude(status=OutboxMessage.SENT)
    elif status in dict(OutboxMessage.STATUS_CHOICES):
        items = items.filter(status=status)
    failing = OutboxMessage.objects.exclude(status=OutboxMessage.SENT).filter(attempts__gt=0).count()
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "alerts/outbox.html", {"page": page, "status": status, "failing": failing})


@staff_member_required
@require_POST
def outbox_retry(request, pk):
    message = get_object_or_404(OutboxMessage, pk=pk)
    if message.status == OutboxMessage.PENDING:
        if outbox_retry_now(message):
            messages.success(request, f"Sent to {message.recipient}.")
        else:
            messages.error(request, f"Still failing: {message.last_error}")
    return redirect("outbox")
