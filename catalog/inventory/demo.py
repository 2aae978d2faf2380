"""A small company's warehouse, as a SQLite file, for the embedded default's demo."""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path

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
        conn.commit()
    finally:
        conn.close()
    return path
