from catalog.alerts.services.outbox import Email, outbox_failing_for, outbox_flush, outbox_queue, outbox_retry_now, outbox_send  # noqa: F401
from catalog.alerts.services.owners import owners_tell  # noqa: F401
from catalog.alerts.services.recipients import alerts_queue_for_crawl, crawl_health_record, digests_send  # noqa: F401
from catalog.alerts.services.subscriptions import (  # noqa: F401
    SubscriptionError,
    UnsubscribeLinkExpired,
    UnsubscribeTarget,
    exclusion_create,
    exclusion_delete,
    subscription_create,
    subscription_delete,
    subscription_resolve_target,
    unsubscribe_describe,
    unsubscribe_keys_get,
    unsubscribe_links_reset,
    unsubscribe_token,
    unsubscribe_with_token,
)
