import pytest

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
