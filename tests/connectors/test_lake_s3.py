"""S3 only: credentials in the URL, and what a bucket can refuse (moto checks IAM for real)."""

import json

import pytest

from catalog.connectors import ConnectorError, ExtractRequest, connector_for
from catalog.core.sourceurl import parse_source_url, redact_url
from tests.connectors.lake_support import S3Lake, by_name, csv_bytes, parquet_bytes
from tests.harness import free_port


def test_the_secret_and_secret_parameters_are_masked():
    url = "s3://AKIAEXAMPLE:wJalr%2FXUtn%2BFEMI@sales-lake/raw/orders?endpoint_url=http://127.0.0.1:9000&region=eu-west-1"
    parsed = parse_source_url(url)
    assert (parsed.username, parsed.password, parsed.host, parsed.path) == ("AKIAEXAMPLE", "wJalr/XUtn+FEMI", "sales-lake", "/raw/orders")
    assert redact_url(url) == "s3://AKIAEXAMPLE:***@sales-lake/raw/orders?endpoint_url=http://127.0.0.1:9000&region=eu-west-1"
    query = "s3://bucket/p?aws_access_key_id=AK&aws_secret_access_key=S3CR3T&aws_session_token=T0K3N&region=us-east-1"
    shown = redact_url(query)
    assert "S3CR3T" not in shown and "T0K3N" not in shown and "aws_access_key_id=AK" in shown
    assert set(parse_source_url(query).secrets()) >= {"S3CR3T", "T0K3N"}


@pytest.fixture
def bucket(moto, request):
    import uuid

    return S3Lake(moto, f"lake-{uuid.uuid4().hex[:12]}")


def test_a_missing_bucket_fails_the_crawl_clearly(moto):
    connector = connector_for(moto.url("no-such-bucket"))
    with pytest.raises(ConnectorError) as failed:
        connector.extract()
    assert str(failed.value) == "listing s3://no-such-bucket/: the bucket does not exist"
    with pytest.raises(ConnectorError, match="does not exist"):
        connector.test()


def test_an_endpoint_that_is_down_fails_fast_and_clearly():
    port = free_port()
    connector = connector_for(f"s3://KEY:TOPSECRET@bucket/raw?endpoint_url=http://127.0.0.1:{port}&region=us-east-1",
                              connect_timeout=2, statement_timeout=5)
    with pytest.raises(ConnectorError) as failed:
        connector.extract()
    message = str(failed.value)
    assert message == f"could not connect to the S3 endpoint http://127.0.0.1:{port}: nothing answered"
    assert "TOPSECRET" not in message


@pytest.fixture
def iam(moto, bucket):
    """A crawler user whose policy denies reading objects under secret/; moto enforces it while the test runs."""
    client = moto.client("iam")
    name = f"crawler-{bucket.bucket}"
    client.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket.bucket}/secret/*"},
    ]}
    client.put_user_policy(UserName=name, PolicyName="crawl", PolicyDocument=json.dumps(policy))
    key = client.create_access_key(UserName=name)["AccessKey"]

    class Access:
        access_key, secret_key = key["AccessKeyId"], key["SecretAccessKey"]

        def url(self, secret=None):
            return moto.url(bucket.bucket, access_key=self.access_key, secret_key=secret or self.secret_key)

        def allow_everything(self):
            moto.require_auth(False)
            client.delete_user_policy(UserName=name, PolicyName="crawl")
            client.put_user_policy(UserName=name, PolicyName="crawl", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
            moto.require_auth(True)

        def deny_listing(self):
            moto.require_auth(False)
            client.put_user_policy(UserName=name, PolicyName="nolist", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*"}]}))
            moto.require_auth(True)

    moto.require_auth(True)
    try:
        yield Access()
    finally:
        moto.require_auth(False)


@pytest.fixture
def guarded(bucket):
    bucket.put("open/orders/a.parquet", parquet_bytes({"id": [1], "total": [2.5]}))
    bucket.put("secret/salaries/a.parquet", parquet_bytes({"person": ["x"], "salary": [1]}))
    bucket.put("secret/salaries/b.csv", csv_bytes({"person": ["y"]}))
    return bucket


def test_access_denied_on_a_prefix_is_a_warning_on_its_datasets(guarded, iam):
    connector = connector_for(iam.url())
    extraction = connector.extract()
    datasets = by_name(extraction)
    root = guarded.bucket
    assert set(datasets) == {f"{root}/open.orders", f"{root}/secret.salaries"}, "what cannot be read is still listed"
    assert [c.name for c in datasets[f"{root}/open.orders"].columns] == ["id", "total"]
    salaries = datasets[f"{root}/secret.salaries"]
    assert salaries.columns == []
    assert any(w.startswith("a.parquet: access denied (tried again next crawl)") for w in salaries.warnings), salaries.warnings
    assert any("1 CSV file(s) left out" in w for w in salaries.warnings)
    assert iam.secret_key not in json.dumps([d.warnings for d in extraction.datasets])

    # Denied files are not marked seen: once access is granted, the next crawl reads them.
    iam.allow_everything()
    again = connector_for(iam.url())
    salaries = by_name(again.extract(ExtractRequest(previous_state=extraction.state)))[f"{root}/secret.salaries"]
    assert [c.name for c in salaries.columns] == ["person", "salary"]
    assert not any("access denied" in w for w in salaries.warnings)
    assert again.stats["files_read"] == 1


def test_access_denied_on_the_listing_fails_the_crawl(guarded, iam):
    iam.deny_listing()
    with pytest.raises(ConnectorError) as failed:
        connector_for(iam.url()).extract()
    assert str(failed.value) == f"listing s3://{guarded.bucket}/: access denied"


def test_a_wrong_secret_is_named_but_never_shown(guarded, iam):
    connector = connector_for(iam.url(secret="not-the-secret-xyz"))
    with pytest.raises(ConnectorError) as failed:
        connector.extract()
    assert "the secret access key does not match the access key ID" in str(failed.value)
    assert "not-the-secret-xyz" not in str(failed.value)
    unknown = connector_for(guarded.moto.url(guarded.bucket, access_key="AKIANOBODY", secret_key="whatever"))
    with pytest.raises(ConnectorError, match="access key ID is not known"):
        unknown.test()
