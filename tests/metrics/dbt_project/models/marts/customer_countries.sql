-- Customers still with us, by country: a model built as a table that reads a crawled table directly, and only
-- some of its columns (not email, not signed_up_at). Canon's lineage reads its compiled SQL (tests/metrics/test_dbt.py).
select
    c.customer_id,
    upper(c.country) as country_code
from {{ source('shop', 'customers') }} as c
where c.churned_at is null
