select
    c.customer_id,
    c.email,
    c.country,
    c.signed_up_at,
    c.churned_at
from {{ source('shop', 'customers') }} as c
