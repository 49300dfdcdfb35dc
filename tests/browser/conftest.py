import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from projects import roles

SEEDS = ["axes.migrations.0002_seed_axes_and_lines", "projects.migrations.0002_seed_geography"]


@pytest.fixture(autouse=True)
def reference_data(transactional_db):
    """Browser tests share the database with the live server, so they run outside a rolled-back transaction and
    the database is emptied after each: put the migrations' reference data (axes, lines, places, roles) back."""
    for module in SEEDS:
        importlib.import_module(module).seed(apps, None)
    roles.ensure_roles(Group, Permission)
