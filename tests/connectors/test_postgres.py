import copy
import dataclasses
import uuid

import psycopg
import pytest

from catalog.connectors import ConnectorError, ExtractRequest, connector_for
from catalog.connectors.postgres import PostgresConnector
from catalog.connectors.types import type_family
from tests.shop import build_real_warehouse, build_shop


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    return warehouse


def _by_name(extraction):
    return {f"{d.schema}.{d.name}": d for d in extraction.datasets}


def test_extracts_every_kind_with_columns_comments_keys_and_owner(shop):
    extraction = connector_for(shop.url).extract()
    datasets = _by_name(extraction)
    assert set(datasets) == {
        "sales.customers", "sales.orders", "sales.Order Lines", "sales.events",
        "analytics.big_orders", "analytics.revenue_by_day", "scratch.tmp_import",
    }, "partitions fold into their parent"
    customers = datasets["sales.customers"]
    assert customers.kind == "table"
    assert customers.owner == "sales_team"
    assert customers.comment == "One row per customer who ever signed up"
    cols = {c.name: c for c in customers.columns}
    assert [c.name for c in customers.columns] == ["customer_id", "email", "country", "signed_up_at", "tags", "profile"]
    assert cols["customer_id"].is_primary_key and not cols["customer_id"].nullable
    assert cols["customer_id"].default == "GENERATED ALWAYS AS IDENTITY"
    assert cols["email"].comment == "Lower-cased at sign-up"
    assert cols["country"].data_type == "character(2)" and cols["country"].default == "'GB'::bpchar"
    assert cols["tags"].data_type == "text[]" and cols["tags"].nullable
    assert cols["profile"].data_type == "jsonb"
    lines = datasets["sales.Order Lines"]
    assert {c.name for c in lines.columns if c.is_primary_key} == {"Order ID", "Line"}
    assert datasets["sales.events"].kind == "partitioned_table"
    assert datasets["sales.events"].row_estimate == 500
    assert datasets["sales.events"].size_bytes > 0
    assert datasets["analytics.big_orders"].kind == "view"
    assert "sales.orders" in datasets["analytics.big_orders"].definition
    assert datasets["analytics.revenue_by_day"].kind == "materialized_view"
    assert all(d.native_id for d in datasets.values())


def test_schema_patterns_include_and_exclude(shop):
    extraction = connector_for(shop.url).extract(ExtractRequest(include=["sales", "analytics"], exclude=["analytics"]))
    assert {d.schema for d in extraction.datasets} == {"sales"}
    assert extraction.schemas == ["sales"]
    assert extraction.warnings == []


def test_a_pattern_that_matches_nothing_is_a_warning(shop):
    extraction = connector_for(shop.url).extract(ExtractRequest(include=["nope*"]))
    assert extraction.datasets == []
    assert "Schema pattern 'nope*' matched no schema" in extraction.warnings[0]
    assert "sales" in extraction.warnings[0]


def test_reads_in_a_read_only_transaction(shop):
    connector = connector_for(shop.url)
    with connector.connect() as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        with pytest.raises(Exception, match="read-only"):
            conn.execute("CREATE TABLE sales.nope (id int)")


def test_uses_a_few_bulk_queries_whatever_the_number_of_tables(pg, warehouse):
    warehouse.execute("CREATE SCHEMA many; " + " ".join(f"CREATE TABLE many.t{i} (id int primary key, v text);" for i in range(60)))
    with pg.log_statements_of("canon") as statements:
        extraction = connector_for(warehouse.url).extract()
    assert len(extraction.datasets) == 60
    # "statement: BEGIN ..." / "execute <unnamed>: SELECT ..." -> the first keyword
    words = [(s.split(":", 1)[1].split() or ["QUERY"])[0].upper() for s in statements]
    catalog_queries = [w for w in words if w not in ("BEGIN", "COMMIT", "FETCH", "CLOSE")]
    # schemas, empty search path, relations, write counters (freshness), search path back, user-defined types,
    # columns (streamed); on the second connection: the relations that have a size, their sizes. No table was
    # analyzed, so no pg_stats query (column profiles).
    assert len(catalog_queries) == 9, words
    assert words.count("FETCH") <= 2


@pytest.mark.parametrize("make_url, expected", [
    (lambda pg, wh: f"postgresql://postgres:wrong@127.0.0.1:{pg.port}/{wh.name}", 'password authentication failed for user "postgres"'),
    (lambda pg, wh: pg.url("no_such_db"), 'database "no_such_db" does not exist'),
    (lambda pg, wh: "postgresql://u:pw@127.0.0.1:1/db", "could not connect to 127.0.0.1:1: connection refused"),
])
def test_connection_failures_are_one_clear_line_without_the_password(pg, warehouse, make_url, expected):
    url = make_url(pg, warehouse)
    with pytest.raises(ConnectorError) as info:
        connector_for(url).extract()
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert pg.password not in message and ":wrong@" not in message


def test_test_connection_names_the_server(shop):
    assert connector_for(shop.url).test().startswith("PostgreSQL 1")


def test_a_table_dropped_mid_read_does_not_break_the_crawl(warehouse):
    """The first snapshot sees a view whose relation vanishes before its definition is read."""
    build_shop(warehouse)
    connector = PostgresConnector(connector_for(warehouse.url).url)
    calls = {"n": 0}
    original = connector._extract

    def flaky(conn, *arguments):
        calls["n"] += 1
        if calls["n"] == 1:
            warehouse.execute("DROP TABLE scratch.tmp_import")
            import psycopg.errors
            raise psycopg.errors.UndefinedTable("relation with OID 1 does not exist")
        return original(conn, *arguments)

    connector._extract = flaky
    extraction = connector.extract()
    assert calls["n"] == 2
    assert "tmp_import" not in {d.name for d in extraction.datasets}


def test_defaults_generated_columns_and_sizes_as_the_server_states_them(warehouse):
    warehouse.execute("""
        CREATE SCHEMA s;
        CREATE TABLE s.gen (a int, b int GENERATED ALWAYS AS (a * 2) STORED, c serial,
                            d text DEFAULT lower('X'::text) || 'y', e int DEFAULT 7, f int GENERATED BY DEFAULT AS IDENTITY,
                            PRIMARY KEY (c, a));
        ALTER TABLE s.gen DROP COLUMN e;
        INSERT INTO s.gen (a) SELECT g FROM generate_series(1, 1000) g;
        CREATE VIEW s.v AS SELECT a FROM s.gen;
    """)
    datasets = _by_name(connector_for(warehouse.url).extract())
    columns = {c.name: c for c in datasets["s.gen"].columns}
    assert [c.name for c in datasets["s.gen"].columns] == ["a", "b", "c", "d", "f"]
    assert [c.position for c in datasets["s.gen"].columns] == [1, 2, 3, 4, 6]
    assert columns["b"].default == "GENERATED ALWAYS AS ((a * 2)) STORED"
    assert columns["c"].default == "nextval('s.gen_c_seq'::regclass)"
    assert columns["d"].default == "(lower('X'::text) || 'y'::text)"
    assert columns["f"].default == "GENERATED BY DEFAULT AS IDENTITY"
    assert {c.name for c in columns.values() if c.is_primary_key} == {"a", "c"}
    expected = warehouse.execute("SELECT pg_total_relation_size('s.gen')").fetchone()[0]
    assert datasets["s.gen"].size_bytes == expected > 8192
    assert datasets["s.v"].size_bytes is None


def test_sizes_are_read_when_the_role_may_open_only_one_connection(pg, warehouse):
    """Sizes are read on a second connection when there is one; without it, on the first."""
    build_shop(warehouse)
    role = f"one_conn_{warehouse.name}"
    warehouse.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw-one-conn' CONNECTION LIMIT 1")
    try:
        limited = connector_for(pg.url(warehouse.name, user=role, password="pw-one-conn")).extract()
        full = connector_for(warehouse.url).extract()
        assert {d.name: d.size_bytes for d in limited.datasets} == {d.name: d.size_bytes for d in full.datasets}
        assert _by_name(limited)["sales.events"].size_bytes > 0
    finally:
        warehouse.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")


def _forged(state, size):
    """The state a crawl keeps, with every remembered size replaced: a size read again shows."""
    forged = copy.deepcopy(state)
    mine = forged["postgres_sizes"]
    mine["tables"] = "\n".join(" ".join(line.split(" ")[:2] + [str(size)]) for line in mine["tables"].splitlines())
    return forged


def _flush_statistics(warehouse):
    warehouse.execute("SELECT pg_stat_force_next_flush()")
    warehouse.execute("SELECT 1")


def test_a_size_is_read_again_only_when_its_table_may_have_changed(warehouse):
    warehouse.execute("""
        CREATE SCHEMA s;
        CREATE TABLE s.written (id int PRIMARY KEY, v text);
        CREATE TABLE s.reindexed (id int PRIMARY KEY, v text);
        CREATE TABLE s.untouched (id int PRIMARY KEY, v text);
        INSERT INTO s.reindexed SELECT g, 'x' FROM generate_series(1, 100) g;
        CREATE VIEW s.v AS SELECT 1 AS x;
    """)
    _flush_statistics(warehouse)
    connector = connector_for(warehouse.url)
    first = connector.extract()
    assert len(first.state["postgres_sizes"]["tables"].splitlines()) == 3  # tables only

    request = ExtractRequest(previous_state=_forged(first.state, 1))
    warehouse.execute("INSERT INTO s.written SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g")
    warehouse.execute("REINDEX TABLE s.reindexed")
    _flush_statistics(warehouse)
    sizes = {d.name: d.size_bytes for d in connector.extract(request).datasets}
    real = dict(warehouse.execute("SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relnamespace = 's'::regnamespace").fetchall())
    assert sizes == {"written": real["written"], "reindexed": real["reindexed"], "untouched": 1, "v": None}
    assert real["written"] > 100_000

    stale = _forged(first.state, 1)
    stale["postgres_sizes"]["read_at"] -= 2 * 24 * 3600  # every size is read again at least once a day
    assert {d.name: d.size_bytes for d in connector.extract(ExtractRequest(previous_state=stale)).datasets}["untouched"] == real["untouched"]


def test_without_statistics_every_size_is_read(warehouse):
    warehouse.execute("CREATE SCHEMA s; CREATE TABLE s.t (id int PRIMARY KEY)")
    connector = connector_for(warehouse.url)
    first = connector.extract()
    warehouse.execute(f'ALTER DATABASE "{warehouse.name}" SET track_counts = off')
    second = connector.extract(ExtractRequest(previous_state=_forged(first.state, 1)))
    assert second.datasets[0].size_bytes == first.datasets[0].size_bytes > 1
    assert second.state["postgres_sizes"]["tables"] == ""


def _knowing(extraction):
    """The request a crawl service makes after `extraction` was applied."""
    return ExtractRequest(previous_state=extraction.state,
                          known={d.native_id: (d.schema, d.name, d.schema_signature) for d in extraction.datasets})


def test_the_columns_of_relations_the_catalog_knows_unchanged_are_not_read_again(pg, shop):
    connector = connector_for(shop.url)
    first = connector.extract()
    assert all(len(d.schema_signature) == 32 for d in first.datasets)
    assert len({d.schema_signature for d in first.datasets}) == len(first.datasets)
    with pg.log_statements_of("canon") as statements:
        second = connector.extract(_knowing(first))
    assert all(d.columns_skipped and d.columns == [] for d in second.datasets)
    # The server's digests give the signatures the streamed columns gave.
    assert [d.schema_signature for d in second.datasets] == [d.schema_signature for d in first.datasets]
    assert not any("format_type" in s and "attnum::text" in s for s in statements), "no column was sent"
    # Everything else is read as always.
    assert [(d.name, d.kind, d.owner, d.comment, d.size_bytes) for d in second.datasets] == [
        (d.name, d.kind, d.owner, d.comment, d.size_bytes) for d in first.datasets
    ]


def test_a_role_allowed_one_connection_gets_the_same_answers_on_it(pg, shop):
    """Column digests and sizes are read on connections of their own while the extracting one works; a role the
    server allows a single connection has them read on the extracting one, with the same answers."""
    role = f"solo_{uuid.uuid4().hex[:8]}"
    shop.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'solo-pw' CONNECTION LIMIT 1")
    try:
        url = f"postgresql://{role}:solo-pw@{pg.host}:{pg.port}/{shop.name}"
        with psycopg.connect(url), pytest.raises(psycopg.OperationalError, match="too many connections"):
            psycopg.connect(url)  # the premise: no second connection for this role
        solo = connector_for(url)
        first = solo.extract()
        second = solo.extract(_knowing(first))
        assert all(d.columns_skipped for d in second.datasets), "the digests were read, on the one connection"
        everyone = connector_for(shop.url).extract()
        assert [(d.name, d.schema_signature, d.size_bytes) for d in second.datasets] == [
            (d.name, d.schema_signature, d.size_bytes) for d in everyone.datasets]
        shop.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
        third = _by_name(solo.extract(_knowing(second)))
        assert [n for n, d in third.items() if not d.columns_skipped] == ["sales.customers"]
        assert "phone" in [c.name for c in third["sales.customers"].columns]
    finally:
        shop.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
        shop.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize("change, changed", [
    ("ALTER TABLE sales.customers ALTER COLUMN country TYPE varchar(3)", "sales.customers"),
    ("ALTER TABLE sales.customers ALTER COLUMN tags SET NOT NULL", "sales.customers"),
    ("ALTER TABLE sales.customers ALTER COLUMN country SET DEFAULT 'FR'", "sales.customers"),
    ("ALTER TABLE sales.customers ALTER COLUMN country DROP DEFAULT", "sales.customers"),
    ("COMMENT ON COLUMN sales.customers.email IS 'Not lower-cased any more'", "sales.customers"),
    ("COMMENT ON COLUMN sales.customers.email IS NULL", "sales.customers"),
    ("ALTER TABLE sales.customers RENAME COLUMN email TO email_address", "sales.customers"),
    ("ALTER TABLE sales.customers ADD COLUMN phone text", "sales.customers"),
    ("ALTER TABLE sales.customers DROP COLUMN tags", "sales.customers"),
    ("ALTER TABLE sales.customers ALTER COLUMN customer_id DROP IDENTITY", "sales.customers"),
    ('ALTER TABLE sales."Order Lines" DROP CONSTRAINT "Order Lines_pkey"', "sales.Order Lines"),
    ("COMMENT ON TABLE sales.customers IS 'Every customer'", "sales.customers"),
    ("CREATE OR REPLACE VIEW analytics.big_orders AS SELECT order_id, amount FROM sales.orders WHERE amount > 1000", "analytics.big_orders"),
    # The views' SQL names the table: they change with it.
    ("ALTER TABLE sales.orders RENAME TO purchases", ("sales.purchases", "analytics.big_orders", "analytics.revenue_by_day")),
    ("ALTER TABLE sales.events ADD COLUMN source text", "sales.events"),
])
def test_any_change_to_a_schema_has_its_columns_read_again(shop, change, changed):
    connector = connector_for(shop.url)
    first = connector.extract()
    request = _knowing(first)
    shop.execute(change)
    second = _by_name(connector.extract(request))
    changed = {changed} if isinstance(changed, str) else set(changed)
    assert {name for name, d in second.items() if not d.columns_skipped} == changed
    fresh = _by_name(connector_for(shop.url).extract())
    for name in changed:
        assert second[name].columns == fresh[name].columns and second[name].columns
        assert second[name].schema_signature == fresh[name].schema_signature
        if name in _by_name(first):  # a renamed table is read for its new name; its signature may stay
            assert fresh[name].schema_signature != _by_name(first)[name].schema_signature
    # Known again, as the crawl that read it leaves it, it is skipped again: the digest agrees with the stream.
    third = _by_name(connector.extract(_knowing(connector.extract())))
    assert all(d.columns_skipped for d in third.values())


def test_every_column_is_read_again_at_least_once_a_day(shop):
    connector = connector_for(shop.url)
    first = connector.extract()
    request = _knowing(first)
    assert first.state["postgres_columns_read_at"] > 0
    skipped = connector.extract(request)
    assert all(d.columns_skipped for d in skipped.datasets)
    assert skipped.state["postgres_columns_read_at"] == first.state["postgres_columns_read_at"], "a partial read is not a full one"
    stale = copy.deepcopy(first.state)
    stale["postgres_columns_read_at"] -= 2 * 24 * 3600
    again = connector.extract(dataclasses.replace(request, previous_state=stale))
    assert not any(d.columns_skipped for d in again.datasets)
    assert [d.columns for d in again.datasets] == [d.columns for d in first.datasets]
    assert again.state["postgres_columns_read_at"] > stale["postgres_columns_read_at"]


def test_the_crawl_service_prepares_every_dataset_once_its_columns_are_read(shop):
    connector = connector_for(shop.url)
    prepared = []
    prepare = lambda datasets: prepared.append({f"{d.schema}.{d.name}": [c.name for c in d.columns] for d in datasets})  # noqa: E731
    extraction = connector.extract(ExtractRequest(prepare=prepare))
    assert prepared == [{f"{d.schema}.{d.name}": [c.name for c in d.columns] for d in extraction.datasets}]
    assert prepared[0]["sales.customers"][:2] == ["customer_id", "email"], "columns are complete and in order by then"


@pytest.fixture
def real(warehouse):
    build_real_warehouse(warehouse)
    return warehouse


def test_a_real_warehouse_every_kind_across_schemas(real):
    datasets = _by_name(connector_for(real.url).extract())
    assert {name: d.kind for name, d in datasets.items()} == {
        "public.payment": "table", "reporting.payment": "table", "billing.Invoice": "table",
        "billing.ledger": "partitioned_table", "billing.rates": "foreign_table",
        "Reporting.Monthly Revenue": "view", "Reporting.payments_by_invoice": "view",
        "Reporting.ledger_totals": "materialized_view", "billing.open_invoices": "view", "billing.paid": "view",
        "public.revenue_summary": "view",
    }


def test_view_sql_names_every_table_with_its_schema_whatever_the_search_path(real):
    """pg_get_viewdef leaves out the schema of what the session's search path finds; the crawl's path is empty."""
    datasets = _by_name(connector_for(real.url).extract())
    assert "FROM public.payment" in datasets["Reporting.Monthly Revenue"].definition
    assert 'public.payment p' in datasets["Reporting.payments_by_invoice"].definition
    assert 'JOIN billing."Invoice" i' in datasets["Reporting.payments_by_invoice"].definition
    assert "FROM billing.ledger" in datasets["Reporting.ledger_totals"].definition, "materialized views too"
    assert 'FROM (billing."Invoice" i' in datasets["billing.open_invoices"].definition
    assert "FROM public.payment" in datasets["billing.paid"].definition
    assert 'FROM "Reporting"."Monthly Revenue" r' in datasets["public.revenue_summary"].definition
    # The columns are read under the session's own search path again: types keep the spelling they always had.
    assert {c.name: c.data_type for c in datasets["public.payment"].columns}["paid_in"] == "year"


def test_domains_enums_and_composites_take_their_family_from_what_they_are(real):
    payment = {c.name: c for c in _by_name(connector_for(real.url).extract())["public.payment"].columns}
    # The family the catalog files: the connector's, or (empty) the one the crawl service derives from the name.
    shown = {name: (c.data_type, c.type_family or type_family(c.data_type)) for name, c in payment.items()}
    assert shown["paid_in"] == ("year", "integer"), "a domain named year over integer is an integer, not a date"
    assert shown["customer_id"] == ('"bıgınt"', "integer")
    assert shown["paid_recently"] == ("recent_year", "integer"), "a domain over a domain: down to the base type"
    assert shown["code"] == ("billing.short_code", "text")
    assert shown["rating"] == ("mpaa_rating", "text"), "an enum is text"
    assert shown["total"] == ("billing.amount", "struct")
    assert shown["ratings"] == ("mpaa_rating[]", "array")
    assert shown["years"] == ("year[]", "array")
    assert shown["totals"] == ("billing.amount[]", "array")
    assert shown["amount"] == ("numeric(5,2)", "decimal")
    assert payment["amount"].type_family == "" and payment["years"].type_family == "", "built-in types and arrays go by their name"


def test_identity_and_generated_columns_say_so(real):
    datasets = _by_name(connector_for(real.url).extract())
    payment = {c.name: c for c in datasets["public.payment"].columns}
    assert payment["payment_id"].generated == "identity"
    assert payment["amount_cents"].generated == "stored"
    assert payment["amount"].generated == ""
    invoice = {c.name: c for c in datasets["billing.Invoice"].columns}
    assert invoice["Invoice ID"].generated == "identity" and invoice["Invoice ID"].default == "GENERATED BY DEFAULT AS IDENTITY"
