select
    order_id,
    customer_id,
    amount,
    status,
    ordered_at
from {{ source('shop', 'orders') }}
where status <> 'test'
