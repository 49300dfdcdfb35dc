"""gunicorn.conf.py's start-up in the master, before the workers are forked: what it loads and freezes."""

import gc
import runpy
import subprocess
import sys
from pathlib import Path

from django.template import engines
from django.utils.translation import trans_real

CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def test_settling_compiles_the_templates_loads_every_catalogue_and_leaves_the_collector_little_to_walk():
    settle = runpy.run_path(str(CONFIG))["settle"]
    loader = engines["django"].engine.template_loaders[0]
    loader.reset()
    for code in ("es-mx", "en"):
        trans_real._translations.pop(code, None)
    walked_before = len(gc.get_objects())
    try:
        settle()
        frozen, walked_after = gc.get_freeze_count(), len(gc.get_objects())
    finally:
        gc.unfreeze()
    assert "projects/public/project_list.html" in loader.get_template_cache
    assert "includes/project_card.html" in loader.get_template_cache
    assert {"es-mx", "en"} <= set(trans_real._translations)
    # Everything alive was frozen: a full collection in a worker walks only what the worker itself makes.
    assert frozen >= walked_before
    assert walked_after < walked_before / 20


def test_settling_an_app_without_django_freezes_it_and_loads_nothing():
    """bench/floor.py's bare WSGI app runs under the same gunicorn.conf.py: Django is not set up there."""
    script = (
        "import gc, runpy; runpy.run_path(%r)['settle'](); "
        "from django.apps import apps; print(apps.ready, gc.get_freeze_count() > 0)" % str(CONFIG)
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


def test_the_master_settles_once_the_index_is_built(monkeypatch):
    """when_ready (gunicorn's hook in the master, before the fork) builds the counting index, then settles."""
    import django.db

    from projects import facets

    hook = runpy.run_path(str(CONFIG))["when_ready"]
    built = []
    monkeypatch.setattr(facets, "current", lambda: built.append(True))
    monkeypatch.setattr(django.db.connections, "close_all", lambda: None)
    try:
        hook(server=None)
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert built == [True]
    assert frozen > 0
