from django import template

from catalog.alerts.models import Subscription

register = template.Library()


@register.inclusion_tag("alerts/_watch.html", takes_context=True)
def watch_controls(context, dataset):
    """Watch / stop watching one dataset, for the person looking at it."""
    request = context["request"]
    user = request.user
    subscription = None
    is_owner = False
    if user.is_authenticated:
        subscription = Subscription.objects.filter(user=user, dataset=dataset).first()
        is_owner = bool(dataset.owner_id and dataset.owner.user_id == user.pk)
    watching = (subscription is not None and subscription.mode != Subscription.OFF) or (is_owner and subscription is None)
    return {"dataset": dataset, "user": user, "subscription": subscription, "watching": watching, "is_owner": is_owner,
            "request": request, "csrf_token": context.get("csrf_token")}
