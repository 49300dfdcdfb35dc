import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def seeded(reference_data):
    """Every browser test starts from the migrations' reference data (see tests/conftest.py) and an empty cache: the
    database is emptied between these tests, so figures cached for the previous test's data mean nothing here."""
    cache.clear()
