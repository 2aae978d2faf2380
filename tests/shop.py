"""A small company's warehouse in PostgreSQL, awkward on purpose (quoted mixed-case
names, partitions, a materialized view, odd types, comments)."""

SHOP_SQL = r"""
CREATE ROLE sales_team NOLOGIN;
CREATE SCHEMA sales;
CREATE SCHEMA analytics;
CREATE SCHEMA scratch;
CREATE TABLE sales.customers (
    customer_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    country char(2) NOT NULL DEFAULT 'GB',
    signed_up_at timestamptz NOT NULL DEFAULT now(),
    tags text[],
    profile jsonb
);
COMMENT ON TABLE sales.customers IS 'One row per customer who ever signed up';
COMMENT ON COLUMN sales.customers.email IS 'Lower-cased at sign-up';
ALTER TABLE sales.customers OWNER TO sales_team;
CREATE TABLE sales.orders (
    order_id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES sales.customers,
    amount numeric(12, 2) NOT NULL,
    status varchar(20) DEFAULT 'placed',
    ordered_at timestamp without time zone
);
CREATE TABLE sales."Order Lines" (
    "Order ID" bigint NOT NULL,
    "Line" int NOT NULL,
    "unitPrice" double precision,
    PRIMARY KEY ("Order ID", "Line")
);
CREATE TABLE sales.events (
    event_id bigint NOT NULL,
    occurred_on date NOT NULL,
    payload jsonb
) PARTITION BY RANGE (occurred_on);
CREATE TABLE sales.events_2024 PARTITION OF sales.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE sales.events_2025 PARTITION OF sales.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO sales.events SELECT g, DATE '2024-06-01' + (g % 300), '{}' FROM generate_series(1, 500) g;
CREATE VIEW analytics.big_orders AS SELECT order_id, amount FROM sales.orders WHERE amount > 100;
CREATE MATERIALIZED VIEW analytics.revenue_by_day AS SELECT ordered_at::date AS day, sum(amount) AS revenue FROM sales.orders GROUP BY 1;
CREATE TABLE scratch.tmp_import (line text);
ANALYZE;
"""


def build_shop(warehouse) -> None:
    # Roles are cluster-wide: create once, tolerate the next test's attempt.
    exists = warehouse.execute("SELECT 1 FROM pg_roles WHERE rolname = 'sales_team'").fetchone()
    sql = SHOP_SQL.replace("CREATE ROLE sales_team NOLOGIN;", "") if exists else SHOP_SQL
    warehouse.execute(sql)
