"""catalog.connectors.lake.formats: CSV dialect detection and type spelling, on bytes. No store, no database."""

import pyarrow as pa
import pytest

from catalog.connectors.lake.formats import CsvDialect, arrow_family, arrow_type_text, detect_csv_dialect, schema_from_csv


def read(sample: bytes, dialect: CsvDialect | None = None):
    return schema_from_csv(sample, dialect or CsvDialect(delimiter=",", quote=""))


def names_and_types(schema) -> list[tuple[str, str]]:
    return [(c[0], c[1]) for c in schema.columns]


@pytest.mark.parametrize("sample, delimiter, quote", [
    (b"a;b;c;d\n1,5;2,7;x;y\n3,1;4,0;z;w\n", ";", '"'),  # decimal commas: a comma reading is one header field
    (b'city;note\n"Paris, FR";"a;b"\n"Rome, IT";plain\n', ";", '"'),  # quoted fields hold both delimiters
    (b'city,note\n"Paris; FR","a|b"\n"Rome; IT",plain\n', ",", '"'),
    (b'id,text\n1,"two\nlines; here"\n2,one\n', ",", '"'),  # a quoted line end is not a record end
    (b"name,amount\n'Smith, J',10\n'Doe, A',20\n", ",", "'"),
    (b"a|b\n1|2\n", "|", '"'),
    (b"a\tb\n1\t2\n", "\t", '"'),
    (b"id,name,score\n1,ann,3\n2,bob\n3,cy,5,extra\n4,di,6\n", ",", '"'),  # ragged, but most rows agree
    (b"amount\n1,5\n2,7\n", ";", '"'),  # one column of decimal commas is one column, not ragged pairs
    (b"only\n1\n2\n", ",", '"'),
])
def test_the_delimiter_and_quote_that_split_rows_evenly_win(sample, delimiter, quote):
    dialect = detect_csv_dialect(sample, "utf8")
    assert (dialect.delimiter, dialect.quote, dialect.ambiguous) == (delimiter, quote, "")


def test_a_semicolon_export_with_decimal_commas_reads_as_numbers():
    schema = read(b"id;amount;note\n1;1,5;paid\n2;2,75;late\n")
    assert names_and_types(schema) == [("id", "int64"), ("amount", "double"), ("note", "string")] and schema.notes == []
    point = read(b"id;amount\n1;1.5\n2;2.75\n")
    assert names_and_types(point) == [("id", "int64"), ("amount", "double")], "decimal points stay decimal points"


def test_an_ambiguous_sample_is_read_the_preferred_way_and_says_so():
    schema = read(b"a,b;c\n1,2;3\n")
    assert names_and_types(schema)[0] == ("a", "int64")
    [note] = schema.notes
    assert note.startswith("delimiter comma (','), detected: the sample also splits evenly on semicolon (2 fields)")
    assert "csv_delimiter" in note


def test_an_option_wins_over_detection_and_a_tsv_is_tabs():
    schema = read(b"a,b;c\n1,2;3\n", CsvDialect(delimiter=";", how="option"))
    assert names_and_types(schema) == [("a,b", "string"), ("c", "int64")] and schema.notes == []
    wrong = read(b"a;b;c\n1;2;3\n", CsvDialect(delimiter=",", how="option"))
    assert names_and_types(wrong) == [("a;b;c", "string")]
    tsv = schema_from_csv(b"a;b\tc\n1;2\t3\n", "\t")
    assert names_and_types(tsv) == [("a;b", "string"), ("c", "int64")]


def test_a_map_is_spelled_map_key_value_and_is_its_own_family():
    parquet_map = pa.map_(pa.string(), pa.field("tags", pa.int64()))
    assert arrow_type_text(pa.map_(pa.string(), pa.int64())) == "map<string, int64>"
    nested = pa.struct([pa.field("id", pa.int64(), nullable=False), ("m", pa.list_(pa.map_(pa.string(), pa.float64())))])
    assert arrow_type_text(nested) == "struct<id: int64 not null, m: list<item: map<string, double>>>"
    assert arrow_family(parquet_map) == "map" and arrow_family(pa.struct([("a", pa.int64())])) == "struct"
    assert arrow_family(pa.list_(pa.map_(pa.string(), pa.int64()))) == "array"
