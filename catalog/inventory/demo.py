"""A small company's warehouse, as a SQLite file, for the embedded default's demo."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA = """
CREATE TABLE customers (
    customer_id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    country_code CHAR(2) NOT NULL DEFAULT 'GB',
    signed_up_at TIMESTAMP NOT NULL,
    marketing_opt_in BOOLEAN NOT NULL DEFAULT 0,
    churned_at TIMESTAMP
);
CREATE TABLE products (
    product_id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    unit_price NUMERIC(10, 2) NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1
);
CREATE TABLE orders (
    order_id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(customer_id),
    ordered_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL DEFAULT 'placed',
    currency CHAR(3) NOT NULL DEFAULT 'EUR',
    total_amount NUMERIC(12, 2) NOT NULL
);
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders(order_id),
    line_number INTEGER NOT NULL,
    product_id INTEGER NOT NULL REFERENCES products(product_id),
    quantity INTEGER NOT NULL DEFAULT 1,
    unit_price NUMERIC(10, 2) NOT NULL,
    PRIMARY KEY (order_id, line_number)
);
CREATE TABLE payments (
    payment_id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(order_id),
    paid_at TIMESTAMP NOT NULL,
    method TEXT NOT NULL,
    amount NUMERIC(12, 2) NOT NULL,
    refunded BOOLEAN NOT NULL DEFAULT 0
);
CREATE TABLE product_events (
    event_id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers(customer_id),
    event_name TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    page_path TEXT,
    properties JSON
);
CREATE VIEW paid_orders AS
    SELECT o.order_id, o.customer_id, o.ordered_at, o.total_amount, p.paid_at, p.method
    FROM orders o JOIN payments p ON p.order_id = o.order_id
    WHERE NOT p.refunded;
CREATE VIEW monthly_revenue AS
    SELECT strftime('%Y-%m', p.paid_at) AS month, sum(p.amount) AS revenue, count(DISTINCT o.customer_id) AS paying_customers
    FROM payments p JOIN orders o ON o.order_id = p.order_id
    WHERE NOT p.refunded GROUP BY 1;
CREATE VIEW weekly_active_customers AS
    SELECT strftime('%Y-%W', occurred_at) AS week, count(DISTINCT customer_id) AS active_customers
    FROM product_events GROUP BY 1;
"""

COUNTRIES = ["GB", "FR", "DE", "ES", "NL", "IE", "PT"]
CATEGORIES = ["coffee", "tea", "equipment", "subscription"]
EVENTS = ["page_view", "add_to_cart", "checkout_started", "search", "login"]


def build_demo_warehouse(path: Path, *, customers: int = 400, seed: int = 7) -> Path:
    """(Re)write the demo warehouse at path. Deterministic for a given seed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SCHEMA)
        start = date(2025, 1, 1)
        conn.executemany(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (i, f"customer{i}@example.com", f"Customer {i}", rng.choice(COUNTRIES),
                 str(start + timedelta(days=rng.randrange(300))), rng.random() < 0.4,
                 str(start + timedelta(days=300 + rng.randrange(60))) if rng.random() < 0.1 else None)
                for i in range(1, customers + 1)
            ],
        )
        conn.executemany(
            "INSERT INTO products VALUES (?, ?, ?, ?, ?, ?)",
            [(i, f"SKU-{i:04d}", f"Product {i}", rng.choice(CATEGORIES), round(rng.uniform(3, 90), 2), True) for i in range(1, 41)],
        )
        orders, items, payments = [], [], []
        for order_id in range(1, customers * 3 + 1):
            customer = rng.randrange(1, customers + 1)
            day = start + timedelta(days=rng.randrange(360))
            lines = [(rng.randrange(1, 41), rng.randrange(1, 4), round(rng.uniform(3, 90), 2)) for _ in range(rng.randrange(1, 4))]
            total = round(sum(q * p for _, q, p in lines), 2)
            orders.append((order_id, customer, str(day), "paid", "EUR", total))
            items += [(order_id, n + 1, prod, q, p) for n, (prod, q, p) in enumerate(lines)]
            payments.append((order_id, order_id, str(day), rng.choice(["card", "paypal", "bank_transfer"]), total, rng.random() < 0.03))
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", orders)
        conn.executemany("INSERT INTO order_items VALUES (?, ?, ?, ?, ?)", items)
        conn.executemany("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?)", payments)
        conn.executemany(
            "INSERT INTO product_events VALUES (?, ?, ?, ?, ?, ?)",
            [(i, rng.randrange(1, customers + 1), rng.choice(EVENTS), str(start + timedelta(days=rng.randrange(360))),
              f"/shop/{rng.choice(CATEGORIES)}", "{}") for i in range(1, customers * 10 + 1)],
        )
        # Someone's snapshot before a migration, never dropped: the same orders, twice (the Duplicates page).
        conn.execute("CREATE TABLE orders_backup_2024 (order_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, "
                     "ordered_at TIMESTAMP NOT NULL, status TEXT NOT NULL DEFAULT 'placed', currency CHAR(3) NOT NULL DEFAULT 'EUR', "
                     "total_amount NUMERIC(12, 2) NOT NULL)")
        conn.execute("INSERT INTO orders_backup_2024 SELECT * FROM orders")
        conn.execute("ANALYZE")  # row counts in sqlite_stat1, as the connector reads them
        conn.commit()
    finally:
        conn.close()
    return path


# The shop's next release, as its migration would ship it: one column renamed (the churn definition reads it, so
# that definition breaks), one dropped (breaking), one added (not breaking). The demo crawls before and after.
DEMO_RELEASE = """
ALTER TABLE customers RENAME COLUMN churned_at TO cancelled_at;
ALTER TABLE products DROP COLUMN active;
ALTER TABLE orders ADD COLUMN discount_amount NUMERIC(12, 2) NOT NULL DEFAULT 0;
"""


def apply_demo_release(path: Path) -> None:
    """Ship DEMO_RELEASE to the demo warehouse at path."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(DEMO_RELEASE)
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()


LATE_FOLDER = "finance/exchange_rates"  # the demo's late data: its files were last written days ago


def age_demo_lake(root: Path, *, days: int = 3) -> None:
    """Date the files of LATE_FOLDER `days` back, as if the feed had stopped (the demo's stale dataset)."""
    moment = time.time() - days * 86400
    for path in (Path(root) / LATE_FOLDER).rglob("*"):
        if path.is_file():
            os.utime(path, (moment, moment))


def build_demo_lake(root: Path, *, seed: int = 7) -> Path:
    """(Re)write a small data lake of files under root, for the demo's `demo-lake` source.

    - sales/orders: Parquet, partitioned by day (dt=...), with a _SUCCESS marker per day;
    - product/events: Parquet, partitioned by day and platform; the newest day's files carry a
      new column (app_version), so the dataset shows a schema merge and which files differ;
    - marketing/campaign_clicks: gzip-compressed JSON Lines, partitioned by month;
    - finance/exchange_rates: CSV files, one per year;
    - finance/budget: a TSV file.
    """
    root = Path(root)
    if root.exists():
        shutil.rmtree(root)
    rng = random.Random(seed)
    start = date(2025, 3, 1)

    def write(relative: str, data: bytes) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def parquet(table: pa.Table) -> bytes:
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        return sink.getvalue().to_pybytes()

    for offset in range(7):
        day = start + timedelta(days=offset)
        rows = 40
        orders = pa.table({
            "order_id": pa.array(range(offset * 1000, offset * 1000 + rows), pa.int64()),
            "customer_id": pa.array([rng.randrange(1, 400) for _ in range(rows)], pa.int64()),
            "ordered_at": pa.array([f"{day}T{rng.randrange(8, 22):02d}:{rng.randrange(60):02d}:00" for _ in range(rows)]).cast(pa.timestamp("s")),
            "currency": pa.array(["EUR"] * rows),
            "total_amount": pa.array([round(rng.uniform(5, 200), 2) for _ in range(rows)], pa.float64()),
        })
        write(f"sales/orders/dt={day}/part-00000.parquet", parquet(orders))
        write(f"sales/orders/dt={day}/_SUCCESS", b"")
        for platform in ("web", "ios", "android"):
            events = {
                "event_id": pa.array(range(rows), pa.int64()),
                "customer_id": pa.array([rng.randrange(1, 400) for _ in range(rows)], pa.int64()),
                "event_name": pa.array([rng.choice(EVENTS) for _ in range(rows)]),
                "occurred_at": pa.array([f"{day}T{rng.randrange(24):02d}:00:00" for _ in range(rows)]).cast(pa.timestamp("s")),
            }
            if offset == 6:  # the newest day: the apps started sending their version
                events["app_version"] = pa.array(["2.4.0"] * rows)
            write(f"product/events/dt={day}/platform={platform}/part-00000.parquet", parquet(pa.table(events)))

    for month in ("2025-01", "2025-02", "2025-03"):
        lines = "".join(
            '{"click_id": %d, "campaign": "%s", "channel": "%s", "clicked_at": "%s-%02dT10:00:00", "cost_eur": %.2f}\n'
            % (i, rng.choice(["spring-sale", "newsletter", "brand"]), rng.choice(["email", "search", "social"]), month,
               rng.randrange(1, 28), rng.uniform(0.1, 2))
            for i in range(60)
        )
        write(f"marketing/campaign_clicks/month={month}/clicks.jsonl.gz", gzip.compress(lines.encode(), mtime=0))

    for year in (2024, 2025):
        rates = "date,currency,rate_to_eur\n" + "".join(
            f"{year}-{m:02d}-01,{c},{rng.uniform(0.5, 1.5):.4f}\n" for m in range(1, 13) for c in ("USD", "GBP", "CHF"))
        write(f"finance/exchange_rates/rates_{year}.csv", rates.encode())
    budget = "department\tquarter\tbudget_eur\n" + "".join(
        f"{d}\t2025-Q{q}\t{rng.randrange(10, 90) * 1000}\n" for d in ("marketing", "engineering", "support") for q in range(1, 5))
    write("finance/budget/budget_2025.tsv", budget.encode())
    return root
