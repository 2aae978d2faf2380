select
    o.order_id,
    o.customer_id,
    o.amount,
    o.status,
    o.ordered_at,
    o.amount > 100 as is_large
from {{ ref('stg_orders') }} as o
