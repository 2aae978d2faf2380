"""View SQL -> the datasets it reads, per dialect. Pure: no database."""

import pytest

from catalog.core.sqlnames import TableRef, dialect_for
from catalog.lineage.sql import (
    LineageParseError,
    case_sensitive,
    default_schema,
    fallback_schemas,
    view_upstreams,
)


def names(sql, dialect, schema, catalog=""):
    return sorted(ref.qualified_name for ref in view_upstreams(sql, dialect, schema, catalog))


def test_unqualified_names_take_the_views_schema_and_cte_names_are_not_datasets():
    sql = """
        WITH recent AS (SELECT order_id, customer_id FROM orders WHERE ordered_at > now() - interval '7 days'),
             totals AS (SELECT customer_id, count(*) AS n FROM recent GROUP BY 1)
        SELECT c.email, t.n FROM customers c JOIN totals t USING (customer_id)
        WHERE c.country IN (SELECT code FROM ref.countries)
    """
    assert names(sql, "postgres", "sales") == ["ref.countries", "sales.customers", "sales.orders"]


def test_postgres_viewdef_with_casts_and_derived_tables():
    sql = " SELECT o.order_id FROM (SELECT orders.order_id, orders.amount FROM sales.orders) o WHERE (o.amount > (100)::numeric);"
    assert names(sql, "postgres", "analytics") == ["sales.orders"]


def test_mysql_view_definition_as_information_schema_spells_it():
    sql = ("select `o`.`order_id` AS `order_id`,`c`.`email` AS `email` from (`shop`.`orders` `o` "
           "join `shop`.`Order Lines` `l` on(`l`.`Order ID` = `o`.`order_id`)) join `crm`.`customers` `c`")
    assert names(sql, "mysql", "shop") == ["crm.customers", "shop.Order Lines", "shop.orders"]


def test_whole_create_view_statements_as_duckdb_sqlite_and_snowflake_report_them():
    assert names('CREATE VIEW s.v AS WITH x AS (SELECT id FROM s."Mixed Case") SELECT * FROM x;', "duckdb", "s") == ["s.mixed case"]
    assert names("CREATE VIEW emails AS SELECT email FROM customers", "sqlite", "main") == ["main.customers"]
    sql = "create or replace view DB1.S1.V1 as select id from s1.t1 join t2 using (id) join OTHER_DB.X.T3 using (id)"
    assert names(sql, "snowflake", "S1", "DB1") == ["OTHER_DB.X.T3", "S1.T1", "S1.T2"]


def test_bigquery_project_of_the_source_is_dropped_and_unnest_is_not_a_table():
    sql = "SELECT a FROM `proj.sales.orders`, UNNEST(items) AS item JOIN other.t2 USING (a) JOIN `elsewhere.x.y` USING (a)"
    assert names(sql, "bigquery", "sales", "proj") == ["elsewhere.x.y", "other.t2", "sales.orders"]


def test_set_operations_and_table_functions():
    sql = "SELECT id FROM a UNION ALL SELECT id FROM b.c UNION SELECT g FROM generate_series(1, 3) AS g"
    assert names(sql, "postgres", "public") == ["b.c", "public.a"]


def test_redshift_late_binding_view():
    sql = "create view public.v as select id from spectrum.events with no schema binding"
    assert names(sql, "redshift", "public") == ["spectrum.events"]


@pytest.mark.parametrize("sql, message", [
    ("SELEC 1 FROM x", "Invalid expression / Unexpected token"),
    ("SELECT * FROM (", "line 1"),
    ("DROP TABLE x", "not a query"),
    ("", "no SQL"),
    ("SELECT 1; SELECT 2", "2 statements"),
])
def test_sql_that_does_not_parse_is_one_clear_line(sql, message):
    with pytest.raises(LineageParseError) as info:
        view_upstreams(sql, "postgres", "public")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_dialects_by_url_scheme():
    assert dialect_for("postgresql") == "postgres" and dialect_for("mariadb") == "mysql" and dialect_for("s3") is None
    assert TableRef("", "s", "t").qualified_name == "s.t" and TableRef("c", "s", "t").qualified_name == "c.s.t"


def test_postgres_view_sql_read_under_an_empty_search_path_keeps_schemas_and_quoted_case():
    """The connector reads view SQL with every name qualified; what is left unqualified is pg_catalog's."""
    sql = (' SELECT p.amount, r.revenue FROM ((public.payment p JOIN "Reporting"."Monthly Revenue" r ON (true))'
           ' JOIN "Other".Tab t ON (true)) WHERE (EXISTS ( SELECT 1 FROM pg_class));')
    schema = default_schema("postgresql", "Reporting")
    assert schema == "pg_catalog", "not the view's own schema: the connector qualified every other name"
    refs = view_upstreams(sql, "postgres", schema)
    assert [(r.qualified_name, r.implicit_schema) for r in refs] == [
        ("Other.tab", False), ("Reporting.Monthly Revenue", False), ("pg_catalog.pg_class", True), ("public.payment", False),
    ]


def test_each_engine_binds_unqualified_names_as_it_does_itself():
    assert default_schema("redshift", "sales") == "pg_catalog"
    for scheme in ("mysql", "mariadb", "duckdb", "sqlite", "snowflake", "bigquery"):
        assert default_schema(scheme, "s") == "s", scheme
    assert fallback_schemas("duckdb") == ("main",) and fallback_schemas("sqlite") == () and fallback_schemas("postgresql") == ()
    assert case_sensitive("postgresql") and case_sensitive("snowflake")
    assert not any(case_sensitive(s) for s in ("mysql", "duckdb", "sqlite", "redshift", "bigquery"))


def test_snowflake_names_bind_in_the_views_schema_and_database_and_quoted_ones_keep_their_case():
    sql = 'create view DB1.S1.V1 as select * from t2 join "lower_case" using (id) join S2.T3 using (id) join DB1.S1.T4 using (id)'
    refs = view_upstreams(sql, "snowflake", default_schema("snowflake", "S1"), "DB1")
    assert [(r.qualified_name, r.implicit_schema) for r in refs] == [
        ("S1.T2", True), ("S1.T4", False), ("S1.lower_case", True), ("S2.T3", False),
    ]


def test_a_table_named_both_with_and_without_its_schema_counts_as_named_with_it():
    refs = view_upstreams("SELECT * FROM t JOIN s.t AS u ON true", "duckdb", "s")
    assert [(r.qualified_name, r.implicit_schema) for r in refs] == [("s.t", False)]
