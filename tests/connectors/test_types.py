"""type_family across engines: native spellings as each engine's catalog reports them."""

import pytest

from catalog.connectors.types import FAMILIES, type_family

CASES = {
    "postgresql": [
        ("bigint", "integer"), ("integer", "integer"), ("smallint", "integer"), ("numeric(12,2)", "decimal"),
        ("double precision", "float"), ("real", "float"), ("character(2)", "text"), ("character varying(20)", "text"),
        ("text[]", "array"), ("jsonb", "json"), ("timestamp with time zone", "timestamp"),
        ("timestamp without time zone", "timestamp"), ("date", "date"), ("time without time zone", "time"),
        ("interval", "interval"), ("uuid", "uuid"), ("bytea", "binary"), ("boolean", "boolean"), ("bit varying(8)", "binary"),
        ("tsvector", "text"), ("int4range", "other"),
    ],
    "mysql": [
        ("int(11)", "integer"), ("int(10) unsigned", "integer"), ("bigint(20)", "integer"), ("mediumint(9)", "integer"),
        ("tinyint(1)", "boolean"), ("tinyint(4)", "integer"), ("bit(1)", "boolean"), ("bit(8)", "binary"),
        ("decimal(10,2)", "decimal"), ("double", "float"), ("float", "float"), ("varchar(255)", "text"),
        ("mediumtext", "text"), ("longtext", "text"), ("enum('new','paid')", "text"), ("set('a','b')", "text"),
        ("datetime(6)", "timestamp"), ("timestamp", "timestamp"), ("year(4)", "date"), ("time", "time"),
        ("json", "json"), ("longblob", "binary"), ("varbinary(16)", "binary"), ("point", "geo"), ("geometry", "geo"),
        ("inet6", "other"),
    ],
    "duckdb": [
        ("INTEGER", "integer"), ("UBIGINT", "integer"), ("UTINYINT", "integer"), ("HUGEINT", "integer"),
        ("DECIMAL(18,3)", "decimal"), ("DOUBLE", "float"), ("VARCHAR", "text"), ("BOOLEAN", "boolean"),
        ("TIMESTAMP WITH TIME ZONE", "timestamp"), ("TIMESTAMP_NS", "timestamp"), ("DATE", "date"),
        ("INTERVAL", "interval"), ("UUID", "uuid"), ("BLOB", "binary"), ("INTEGER[]", "array"), ("VARCHAR[3]", "array"),
        ("STRUCT(a INTEGER, b VARCHAR)", "struct"), ("STRUCT(a INTEGER)[]", "array"), ("MAP(VARCHAR, INTEGER)", "map"), ("MAP(VARCHAR, INTEGER)[]", "array"),
        ("UNION(num INTEGER, str VARCHAR)", "struct"), ("JSON", "json"), ("ENUM('a', 'b')", "text"), ("BIT", "boolean"),
    ],
    "parquet (arrow)": [
        ("map<string, int64>", "map"), ("map<string, struct<a: int64>>", "map"), ("list<element: map<string, int64>>", "array"),
        ("struct<a: int64, m: map<string, int64>>", "struct"), ("large_list<item: int64>", "array"),
    ],
    "sqlite": [
        ("INTEGER", "integer"), ("TEXT", "text"), ("REAL", "float"), ("NUMERIC", "decimal"), ("BLOB", "binary"),
        ("VARCHAR(20)", "text"), ("BOOLEAN", "boolean"), ("TIMESTAMP", "timestamp"), ("", "other"), ("WHATEVER", "other"),
    ],
    "snowflake": [
        ("NUMBER(38,0)", "integer"), ("NUMBER(10,2)", "decimal"), ("FLOAT", "float"), ("VARCHAR(16777216)", "text"),
        ("TEXT", "text"), ("BOOLEAN", "boolean"), ("TIMESTAMP_NTZ(9)", "timestamp"), ("TIMESTAMP_LTZ(9)", "timestamp"),
        ("TIMESTAMP_TZ(9)", "timestamp"), ("TIME(9)", "time"), ("DATE", "date"), ("VARIANT", "json"), ("OBJECT", "struct"),
        ("ARRAY", "array"), ("BINARY(8388608)", "binary"), ("GEOGRAPHY", "geo"), ("VECTOR(FLOAT, 256)", "array"),
    ],
    "bigquery": [
        ("INT64", "integer"), ("NUMERIC(10, 2)", "decimal"), ("BIGNUMERIC", "decimal"), ("FLOAT64", "float"), ("BOOL", "boolean"),
        ("STRING(100)", "text"), ("BYTES", "binary"), ("DATE", "date"), ("DATETIME", "timestamp"), ("TIMESTAMP", "timestamp"),
        ("TIME", "time"), ("JSON", "json"), ("GEOGRAPHY", "geo"), ("INTERVAL", "interval"), ("ARRAY<STRING>", "array"),
        ("STRUCT<id INT64, name STRING>", "struct"), ("ARRAY<STRUCT<a INT64>>", "array"), ("RANGE<DATE>", "other"),
    ],
    "redshift": [
        ("smallint", "integer"), ("bigint", "integer"), ("numeric(18,2)", "decimal"), ("double precision", "float"),
        ("character varying(256)", "text"), ("character(10)", "text"), ("boolean", "boolean"),
        ("timestamp without time zone", "timestamp"), ("timestamp with time zone", "timestamp"), ("timetz", "time"),
        ("super", "json"), ("varbyte(64)", "binary"), ("geometry", "geo"), ("hllsketch", "other"),
    ],
}


@pytest.mark.parametrize(
    "engine, native, family",
    [(engine, native, family) for engine, cases in CASES.items() for native, family in cases],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_native_type_family(engine, native, family):
    assert type_family(native) == family, f"{engine}: {native!r}"


def test_every_family_is_a_known_one_and_unknown_is_other():
    for cases in CASES.values():
        for native, _ in cases:
            assert type_family(native) in FAMILIES
    assert type_family(None) == "other"
    assert type_family("  SOMETHING_NEW(3)  ") == "other"


def test_case_and_surrounding_space_do_not_matter():
    assert type_family("  Varchar(10) ") == type_family("VARCHAR(10)") == "text"


def test_replace_nul_reaches_every_string_and_warns_once_per_dataset():
    from catalog.connectors.base import NUL_WARNING, ColumnMeta, DatasetMeta, Extraction, replace_nul

    dirty = DatasetMeta(schema="s\x00", name="t", comment="c\x00", columns=[ColumnMeta("a\x00", "int", 1, default="x\x00")],
                        properties={"partitions": [{"k\x00": "v\x00"}], "n": 1}, schema_document=("{}", "f"))
    clean = DatasetMeta(schema="s", name="u", columns=[ColumnMeta("a", "int", 1)], properties={"n": 1})
    extraction = Extraction(datasets=[dirty, clean], schemas=["s\x00", "s"], warnings=["w\x00"],
                            state={"keys": {"p\x00.csv": ["x\x00"]}})
    assert replace_nul(extraction) == 1
    r = "\ufffd"
    assert (dirty.schema, dirty.comment, dirty.columns[0].name, dirty.columns[0].default) == (f"s{r}", f"c{r}", f"a{r}", f"x{r}")
    assert dirty.properties == {"partitions": [{f"k{r}": f"v{r}"}], "n": 1}
    assert dirty.warnings == [NUL_WARNING] and dirty.schema_document is None, "the document is made again from the clean text"
    assert clean.warnings == [] and clean.columns[0].name == "a"
    assert extraction.schemas == [f"s{r}", "s"] and extraction.warnings == [f"w{r}"]
    assert extraction.state == {"keys": {f"p{r}.csv": [f"x{r}"]}}
