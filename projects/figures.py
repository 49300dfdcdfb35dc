"""The public figures of the catalogue (home, axis pages, charts): counted by projects.facets' index, and cached.

The cache key carries the time of the newest change to any project (an index-only MAX over `updated_at`, which
every write path moves: saves, workflow steps and ProjectQuerySet.refresh_derived; and the newest entry of the
catalogue's change log, which a deletion leaves), so figures are correct immediately after a publish or a deletion,
in every worker, with or without a shared cache.
"""

from django.core.cache import cache
from django.db.models import Max, Subquery
from django.db.models.functions import Greatest

from axes.models import Axis

from . import facets, privacy
from .models import CatalogueChange, Project, Region


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
