"""Fixtures of the search tests: a source that is never crawled, and a user to own definitions."""

import pytest

from catalog.sources.services import source_create


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def source(db):
    return source_create(name="shop", url="postgresql://reader:unused@127.0.0.1:1/shop")


@pytest.fixture
def author(django_user_model):
    return django_user_model.objects.create_user("ana", "ana@example.com", "pw-ana-123", first_name="Ana")
