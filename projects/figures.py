"""The public figures of the catalogue (home, axis pages, charts): computed in a few aggregate queries and cached.

The cache key carries the time of the newest change to any project (an index-only MAX over `updated_at`, which
every write path moves: saves, workflow steps and ProjectQuerySet.refresh_derived), so figures are correct
immediately after a publish, in every worker, with or without a shared cache.
"""

from django.core.cache import cache
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Coalesce, ExtractYear

from axes.models import Axis

from . import privacy
from .models import Project, Region


def stamp():
    """The time of the newest change to any project: part of every cache key of public aggregates and pages."""
    newest = Project.objects.aggregate(m=Max("updated_at"))["m"]
    return newest.timestamp() if newest else 0


def figures():
    key = f"public-figures:{stamp()}"
    data = cache.get(key)
    if data is None:
        data = compute()
        cache.set(key, data, 60 * 60)
    return data


def compute():
    published = Project.objects.published()
    totals = {**published.totals(), **published.aggregate(reached=Sum("beneficiaries_reached"))}
    money_field = Project._meta.get_field("total_amount")
    by_axis = {
        row["axis"]: row
        for row in published.values("axis").annotate(
            projects=Count("pk"),
            money=Coalesce(Sum("total_amount"), 0, output_field=money_field),
            ficosec=Coalesce(Sum("ficosec_amount"), 0, output_field=money_field),
            without_amount=Count("pk", filter=Q(total_amount=None)),
            reached=Coalesce(Sum("beneficiaries_reached"), 0),
        )
    }
    empty = {"projects": 0, "money": 0, "ficosec": 0, "without_amount": 0, "reached": 0}
    axes = [{"axis": axis, **{key: by_axis.get(axis.pk, empty)[key] for key in empty}} for axis in Axis.objects.all()]
    reached, _total = privacy.suppress_cells({row["axis"].pk: row["reached"] for row in axes}, totals["reached"])
    for row in axes:
        row["reached_public"] = reached[row["axis"].pk]  # counts of people: through the small-cell rule
    started = {
        row["year"]: row
        for row in published.annotate(year=ExtractYear(Project.dates()["start"]))
        .exclude(year=None)
        .values("year")
        .annotate(money=Coalesce(Sum("total_amount"), 0, output_field=money_field), projects=Count("pk"))
    }
    # Every year between the first and the last start, a year without projects included (a chart skips none).
    by_year = [
        started.get(year, {"year": year, "money": 0, "projects": 0})
        for year in range(min(started, default=0), max(started, default=-1) + 1)
    ]
    by_region = published.linked_counts(["region"])["region"]
    regions = [{"region": region, "projects": by_region.get(region.pk, 0)} for region in Region.objects.all()]
    return {"totals": totals, "axes": axes, "by_year": by_year, "by_region": regions}
