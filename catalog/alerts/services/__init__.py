from catalog.alerts.services.outbox import outbox_flush, outbox_send  # noqa: F401
from catalog.alerts.services.recipients import alerts_queue_for_crawl, crawl_health_record, digests_send  # noqa: F401
from catalog.alerts.services.subscriptions import (  # noqa: F401
    SubscriptionError,
    subscription_create,
    subscription_delete,
    subscription_resolve_target,
    unsubscribe_describe,
    unsubscribe_token,
    unsubscribe_with_token,
)
