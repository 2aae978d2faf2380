import pytest

from tests.duplicates.support import make_shop


@pytest.fixture
def shop(warehouse, django_user_model):
    return make_shop(warehouse, django_user_model)
