"""gunicorn settings for the production-like server (`make serve`) and for deployments (docs/deployment.md)."""

import gc
import logging
import multiprocessing
import os
import sys
from pathlib import Path

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
# Threaded workers: a worker tells the master it is alive from its own loop, so a download that streams for minutes
# (the whole catalogue as CSV at 1,000,000 projects) is not cut by `timeout`, which only a stuck worker now meets;
# and one long download leaves the worker's other threads serving pages.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", 4))
preload_app = True
timeout = 30
keepalive = 5
accesslog = None  # ficosec.middleware.RequestLogMiddleware writes one structured line per request
errorlog = "-"
wsgi_app = "ficosec.wsgi:application"
control_socket_disable = True  # gunicorn 27 would otherwise open a control socket under ~/.gunicorn
# Long filter lists (?organization=a&organization=b...) fit in a request line: gunicorn's largest allowed value
# (the default 4094 answers a bare-HTML 414 before the portal can say anything).
limit_request_line = 8190
# The threads of a worker take turns holding the interpreter every millisecond instead of every 5: a page kept in
# the cache (about 2 ms) no longer waits 5 ms slices behind a long request of the same worker (a staff form).
sys.setswitchinterval(float(os.environ.get("GIL_SWITCH_INTERVAL", 0.001)))


def when_ready(server):
    """Build the catalogue's counting index (projects.facets) once in the master, before the workers are forked: each
    starts with it and brings it up to date itself, so no visitor waits for a build. The matches of its kept search
    words make it the slow part of starting: about half a minute at 100,000 projects on a 2-core machine."""
    from django.db import connections

    try:
        from projects import facets

        facets.current()
    except Exception as error:  # a database not reachable yet: the first request builds it instead
        server.log.warning("catalogue index not built at start: %s", error)
    finally:
        connections.close_all()
    settle()


def settle():
    """Load what every worker would otherwise load on its first requests (the project's compiled templates, the
    translation catalogues of every language), then freeze everything alive (gc.freeze, as Python's documentation
    advises right before fork): the collector of each worker then never walks the start-up objects again. Without
    it a full collection walked them every few requests, pausing a page for 60 to 120 ms (100,000 projects, cold
    pages: p50 50 -> 41 ms, p95 93 -> 80 ms in one process, bench/HISTORY.md stop 20)."""
    from django.apps import apps

    if apps.ready:  # not for an app without Django (bench/floor.py runs with this file too)
        from django.conf import settings
        from django.template.loader import get_template
        from django.utils import translation

        for folder in settings.TEMPLATES[0]["DIRS"]:
            for path in sorted(Path(folder).rglob("*.html")):
                try:
                    get_template(path.relative_to(folder).as_posix())
                except Exception as error:  # a broken template fails its own page, not the server's start
                    logging.getLogger("gunicorn.error").warning("template %s not compiled at start: %s", path, error)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                translation.gettext("Proyectos")
    gc.freeze()
