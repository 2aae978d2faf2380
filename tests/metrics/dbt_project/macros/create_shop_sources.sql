{#- The shop's operational tables (the sources), made on run start with a few rows, so that
    `dbt build` runs offline against an empty DuckDB file. In a real project they are replicated. -#}
{% macro create_shop_sources() %}
create schema if not exists sales;
create or replace table sales.customers (customer_id bigint, email varchar, country varchar, signed_up_at timestamp, churned_at timestamp);
insert into sales.customers values
    (1, 'ana@example.com', 'PT', timestamp '2024-01-03 09:00', null),
    (2, 'bo@example.com', 'SE', timestamp '2024-01-05 10:30', timestamp '2024-03-01 00:00'),
    (3, 'cy@example.com', 'GB', timestamp '2024-02-11 16:45', null);
create or replace table sales.orders (order_id bigint, customer_id bigint, amount decimal(12, 2), status varchar, ordered_at timestamp);
insert into sales.orders values
    (10, 1, 45.00, 'paid', timestamp '2024-01-04 12:00'),
    (11, 1, 180.00, 'paid', timestamp '2024-01-09 08:15'),
    (12, 3, 99.90, 'paid', timestamp '2024-02-12 18:00'),
    (13, 2, 1.00, 'test', timestamp '2024-01-06 11:00');
create or replace table sales.events (event_id bigint, customer_id bigint, event_type varchar, occurred_at timestamp);
insert into sales.events values
    (100, 1, 'login', timestamp '2024-01-03 09:05'),
    (101, 1, 'page_view', timestamp '2024-01-04 11:58'),
    (102, 2, 'login', timestamp '2024-01-05 10:31'),
    (103, 3, 'login', timestamp '2024-02-11 16:50');
{% endmacro %}
