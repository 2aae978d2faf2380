import pytest

from tests.metrics.conftest import ana, bo, fast_passwords, shop_catalog, staff  # noqa: F401  (the shared small catalog)
