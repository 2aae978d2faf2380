select event_id, customer_id, event_type, occurred_at
from {{ source('shop', 'events') }}
