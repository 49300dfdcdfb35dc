"""The public figures of the catalogue (home, axis pages, charts): counted by projects.facets' index, and cached.

The cache key carries the time of the newest change to any project (an index-only MAX over `updated_at`, which
every write path moves: saves, workflow steps and ProjectQuerySet.refresh_derived; and the newest entry of the
catalogue's change log, which a deletion leaves), so figures are correct immediately after a publish or a deletion,
in every worker, with or without a shared cache.
"""

import functools
import hashlib
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import connection
from django.db.models import Max, Subquery
from django.db.models.functions import Greatest

from axes.models import Axis, Line
from ficosec.history import newest_change_sql

from . import facets, privacy
from .models import CatalogueChange, Organization, Project, Region


def stamp():
    """The time of the newest change to any project: part of every cache key of public aggregates and pages. A
    deleted project leaves no row to be newer than the others; the change log's newest entry (by id: its primary
    key) records the deletion."""
    logged = CatalogueChange.objects.order_by("-pk").values("at")[:1]
    newest = Project.objects.aggregate(m=Greatest(Max("updated_at"), Subquery(logged)))["m"]
    return newest.timestamp() if newest else 0


def figures():
    key = f"public-figures:{stamp()}"
    data = cache.get(key)
    if data is None:
        data = compute()
        cache.set(key, data, 60 * 60)
    return data


def compute():
    """Totals, by axis, by start year and by region, of every published project (counted by projects.facets)."""
    index = facets.current()
    published = index.members
    totals = index.totals(published)
    axes = []
    for axis in Axis.objects.all():
        row = index.totals(published & index.union("axis", [axis.pk]))
        axes.append(
            {
                "axis": axis,
                **{key: row[key] or 0 for key in ("projects", "money", "ficosec", "without_amount", "reached")},
            }
        )
    reached, _total = privacy.suppress_cells({row["axis"].pk: row["reached"] for row in axes}, totals["reached"])
    for row in axes:
        row["reached_public"] = reached[row["axis"].pk]  # counts of people: through the small-cell rule
    started = index.by_start_year(published)
    # Every year between the first and the last start, a year without projects included (a chart skips none).
    by_year = [
        started.get(year, {"year": year, "money": 0, "projects": 0})
        for year in range(min(started, default=0), max(started, default=-1) + 1)
    ]
    regions = [
        {"region": region, "projects": len(published & index.union("region", [region.pk]))}
        for region in Region.objects.all()
    ]
    return {"totals": totals, "axes": axes, "by_year": by_year, "by_region": regions}


# --- The catalogue page's cache: invalidated by what the page shows, not by every edit ------------------------------
#
# A cached catalogue page is kept while nothing it shows has changed: its counts, facets, totals, map and order read
# the columns the catalogue's change log records (a publication, a withdrawal, a deletion, a counted column), its
# facets the names of axes, lines and organizations (their history), and its cards the projects it lists. A search
# also depends on the text of projects it does not list: which projects match (its count, facets and pages) and, for
# a list ranked by relevance, how well. Such a page is dropped when a project changed since it was drawn matches the
# words now and did not then, or the reverse, or, in a ranked list, matches them with another relevance (what its
# text said then is read from its history: a broad search never reads all its matches). An order by title or by
# update, or a list of what was updated since a date, is dropped on any change. A title edit thus redraws the pages
# that show that project and the searches whose matches or ranks it changes, and no other.

CHANGED_AT_MOST = 500  # projects changed since a page was drawn beyond which it is simply drawn again
TEXT_ORDERS = {"title", "-title", "updated_at", "-updated_at"}


@functools.cache
def _version_sql():
    names = [newest_change_sql(model) for model in (Axis, Line, Organization)]
    listed = f"(SELECT max(updated_at) FROM {Project._meta.db_table} WHERE id = ANY(%s))"
    return f"SELECT {CatalogueChange.newest_sql()}, GREATEST({', '.join(names)}), {listed}"


def _versions(listed=()):
    """(the catalogue's version, the newest `updated_at` of the `listed` projects): one query, all a page kept in the
    cache costs the database (a search also reads the projects changed since it was drawn)."""
    with connection.cursor() as cursor:
        cursor.execute(_version_sql(), [list(listed)])
        newest, named, listed_at = cursor.fetchone()
    return f"{newest or 0}-{named.timestamp() if named else 0}", listed_at


def catalogue_version():
    """The newest entry of the catalogue's change log and the newest edit of an axis, line or organization name."""
    return _versions()[0]


def catalogue_generation(path, language):
    """(generation, key): the generation of the cached page at `path` in `language` (part of its cache key,
    page_key()), and the key under which remember_catalogue() records a new one (None when the cached one still
    holds: drawn at the catalogue's version of now, and nothing it shows changed since)."""
    page = hashlib.sha256(f"{language}:{path}".encode()).hexdigest()  # a query string may be 8 KB long
    key = f"catalogue-page:{page}"
    drawn = cache.get(key)
    version, listed_at = _versions(drawn["listed"] if drawn else ())
    if drawn is not None and drawn.get("version") == version and _still_shown(key, drawn, listed_at):
        return drawn["generation"], None
    # A new generation each time: a page found out of date is never served from its old copy.
    return f"{key}:{version}:{stamp()}:{secrets.token_hex(8)}", key


def page_key(request, generation):
    """The cache key of the whole catalogue page drawn as `generation` for this request, or None when the page shows
    something of the request's own (messages). Besides the generation (address, language and data): the build
    (_build()), the host, as the language links are absolute, and whether the visitor is signed in (the menu). The
    demo banner follows the data: loading the demo writes projects, a new generation."""
    if len(messages.get_messages(request)):
        return None
    signed_in = int(request.user.is_authenticated)
    return f"{generation}:{_build()}:{request.scheme}://{request.get_host()}:{signed_in}"


@functools.cache
def _build():
    """A digest of what a deployment changes in every page besides the data: the project's templates, its
    translations and the static files' hashed names. A page kept in the cache is never sent by another build."""
    digest = hashlib.sha256()
    folders = [*settings.TEMPLATES[0]["DIRS"], *settings.LOCALE_PATHS]
    files = sorted(path for folder in folders for path in Path(folder).rglob("*") if path.suffix in {".html", ".mo"})
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    for path in [*files, manifest] if manifest.exists() else files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def remember_catalogue(key, generation, page):
    """Record what the page drawn as `generation` shows (catalogue_page's result), for _still_shown()."""
    listed = list(page["page"])
    filterset = page["filterset"]
    chosen = filterset.form.cleaned_data if filterset.is_bound and not filterset.errors else {}
    words = (chosen.get("q") or "").strip()
    cache.set(
        key,
        {
            "generation": generation,
            "version": generation.split(":")[-3],
            "since": float(generation.split(":")[-2]),
            "expires": time.time() + 60 * 60,
            "listed": [project.pk for project in listed],
            "listed_at": max((project.updated_at.timestamp() for project in listed), default=0),
            "words": words,
            "ranked": bool(words) and page["order"] == "relevance",
            # Pages whose list any edit may change: an order by text or by update, a list of what was updated
            # since a date.
            "any_change": page["order"] in TEXT_ORDERS or bool(chosen.get("updated_since")),
        },
        60 * 60,
    )


def _still_shown(key, drawn, listed_at):
    """Whether nothing a page drawn as recorded (remember_catalogue) shows has changed since (the change log and the
    names are its version, compared first; `listed_at`: its projects' newest `updated_at` now). The changed projects
    found to leave a search as it was are recorded with the entry (each with its `updated_at`), so that the next
    visitor's check does not read them again; `since` itself never moves (a transaction that took its `updated_at`
    earlier may commit later)."""
    if (listed_at.timestamp() if listed_at else 0) != drawn["listed_at"]:
        return False
    if not drawn["words"] and not drawn["any_change"]:
        return True
    since = datetime.fromtimestamp(drawn["since"], UTC)
    # Published then and now: a publication or a withdrawal is in the change log (a new key).
    changed = Project.objects.published().filter(updated_at__gt=since).values_list("pk", "updated_at")
    changed = dict(changed[: CHANGED_AT_MOST + 1])
    if not changed:
        return True
    if drawn["any_change"] or len(changed) > CHANGED_AT_MOST:
        return False
    checked = drawn.get("checked", {})
    unchecked = {pk: at for pk, at in changed.items() if checked.get(pk) != at.timestamp()}
    if not unchecked:
        return True
    if not _same_matches(drawn, since, unchecked):
        return False
    left = drawn["expires"] - time.time()  # recorded again for the rest of its hour, not a new one
    if left > 1:
        cache.set(key, {**drawn, "checked": {pk: at.timestamp() for pk, at in changed.items()}}, left)
    return True


def _same_matches(drawn, since, changed):
    """Whether the `changed` projects leave the search of a page drawn at `since` as it was: each matches the words
    now exactly when it matched them then and, for a list ranked by relevance, as well (then: the versions of their
    text since `since`, from their history)."""
    outcomes = Project.objects.filter(pk__in=list(changed)).matched_since(drawn["words"], since)
    if outcomes.keys() != changed.keys():  # a changed project with no version known then
        return False
    if drawn["ranked"]:
        return all(len(ranks) == 1 for ranks in outcomes.values())
    return all(len({rank is not None for rank in ranks}) == 1 for ranks in outcomes.values())
