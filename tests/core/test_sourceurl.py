import psycopg
import pymysql
import pytest

from catalog.connectors import ConnectorError, connector_for
from catalog.core.sourceurl import InvalidSourceURL, parse_source_url, redact_url, scrub


def test_password_is_masked_and_the_rest_kept():
    url = "postgresql://analyst:s3cr%40t@db.example.com:5432/shop?sslmode=require"
    parsed = parse_source_url(url)
    assert parsed.password == "s3cr@t"
    assert parsed.redacted() == "postgresql://analyst:***@db.example.com:5432/shop?sslmode=require"
    assert "s3cr" not in redact_url(url)


def test_secret_query_parameters_are_masked():
    url = "snowflake://me@acct/db?warehouse=wh&password=hunter2&private_key=abc"
    shown = redact_url(url)
    assert "hunter2" not in shown and "abc" not in shown
    assert "warehouse=wh" in shown and "password=***" in shown


def test_secrets_lists_plain_and_encoded_forms():
    parsed = parse_source_url("postgresql://u:p%2Fw@h/db")
    assert set(parsed.secrets()) == {"p/w", "p%2Fw"}


@pytest.mark.parametrize("url, message", [
    ("", "empty"),
    ("localhost:5432/db", "no scheme"),
    ("postgresql://u:p@host:notaport/db", "port"),
    ("1abc://x", "not a valid URL scheme"),
])
def test_bad_urls_say_what_is_wrong_without_the_secret(url, message):
    with pytest.raises(InvalidSourceURL) as info:
        parse_source_url(url)
    assert message in str(info.value)
    assert "p@host" not in str(info.value)


def test_scrub_removes_known_secrets_and_url_passwords():
    text = "failed for postgresql://u:topsecret@h/db and token hunter2"
    cleaned = scrub(text, ["hunter2"])
    assert "topsecret" not in cleaned and "hunter2" not in cleaned
    assert "postgresql://u:***@h/db" in cleaned


def test_a_one_letter_password_neither_garbles_a_real_postgres_error_nor_shows_its_letters(pg):
    url = pg.url(password="a")
    with pytest.raises(psycopg.OperationalError) as raw:
        psycopg.connect(host=pg.host, port=pg.port, user=pg.user, password="a", dbname="postgres", connect_timeout=5)
    message = str(raw.value)
    assert "password authentication failed" in message
    assert scrub(message, parse_source_url(url).secrets()) == message
    with pytest.raises(ConnectorError) as info:
        connector_for(url, connect_timeout=5, statement_timeout=5).test()
    assert str(info.value) == f'password authentication failed for user "postgres" at {pg.host}:{pg.port}'


def test_a_one_letter_password_leaves_real_mariadb_errors_whole(mariadb):
    url = mariadb.url(password="a")
    with pytest.raises(pymysql.err.OperationalError) as raw:
        pymysql.connect(host=mariadb.host, port=mariadb.port, user="root", password="a", connect_timeout=5)
    message = str(raw.value)
    assert "Access denied for user 'root'" in message and "(using password: YES)" in message
    assert scrub(message, parse_source_url(url).secrets()) == message
    with pytest.raises(ConnectorError) as info:
        connector_for(url, connect_timeout=5, statement_timeout=5).test()
    assert str(info.value) == f'access denied for user "root" at {mariadb.host}:{mariadb.port} (wrong user name or password)'


@pytest.mark.parametrize("param", ["api_key", "apiKey", "sessionToken", "private_key", "client_secret", "password",
                                   "X-Amz-Security-Token", "credentials_json", "key"])
def test_secret_query_parameters_are_recognised_by_the_shape_of_their_name(param):
    url = f"s3://bucket/raw?endpoint_url=http://127.0.0.1:9000&region=eu-west-1&{param}=Zq8vLw3xT"
    parsed = parse_source_url(url)
    assert parsed.secrets() == ["Zq8vLw3xT"]
    assert parsed.redacted() == f"s3://bucket/raw?endpoint_url=http://127.0.0.1:9000&region=eu-west-1&{param}=***"
    assert "Zq8vLw3xT" not in scrub(f"GET {url} answered 403")


@pytest.mark.parametrize("param", ["sslmode", "sslkey", "ssl_key", "aws_access_key_id", "region", "warehouse", "token_uri",
                                   "primary_key", "password_hash", "api_key_id", "secret_name"])
def test_parameters_that_only_look_secret_stay_shown(param):
    assert parse_source_url(f"postgresql://h/db?{param}=visible").redacted() == f"postgresql://h/db?{param}=visible"


def test_secret_pairs_in_free_text_are_masked_as_whole_values():
    text = ('request failed: {"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIE", "client_email": "ci@example.com"} '
            "sessionToken: IQoJb3JpZ2lu token=abc.def; client_secret='two words' api_key=K1&limit=3 "
            "(using password: YES) primary_key=id at 12:30 http://host:9000/x")
    assert scrub(text) == (
        'request failed: {"private_key": "***", "client_email": "ci@example.com"} '
        "sessionToken: *** token=***; client_secret='***' api_key=***&limit=3 "
        "(using password: YES) primary_key=id at 12:30 http://host:9000/x")


def test_warnings_about_columns_and_tables_with_secret_looking_names_are_left_alone():
    text = "shop.users: column password_hash: type changed; sales.api_key: 3 file(s) left out; token_type: bearer"
    assert scrub(text) == text


def test_known_secrets_are_masked_as_tokens_not_as_letters_inside_words():
    # A short secret only where it stands alone; a long one anywhere, since no ordinary word contains it.
    assert scrub("user a: password authentication failed", ["a"]) == "user ***: password authentication failed"
    assert scrub('bad "pw" in pwd_file and in pw.', ["pw"]) == 'bad "***" in pwd_file and in ***.'
    assert scrub("value xHunter2xyzzy9x", ["Hunter2xyzzy9"]) == "value x***x"
    assert scrub("id Hunter2xyzzy9-copy", ["Hunter2xyzzy9"]) == "id ***-copy"
    assert scrub("p@ss! and p@ss!s", ["p@ss!"]) == "*** and ***s"
