import pytest


@pytest.fixture(autouse=True)
def seeded(reference_data):
    """Every browser test starts from the migrations' reference data (see tests/conftest.py)."""
