"""The public figures of the catalogue (home, axis pages, charts): computed in a few aggregate queries and cached.

The cache key carries the time of the newest change to any project (an index-only MAX over `updated_at`, which
every write path moves: saves, workflow steps and ProjectQuerySet.refresh_derived), so figures are correct
immediately after a publish, in every worker, with or without a shared cache.
"""

from django.core.cache import cache
from django.db.models import Count, Max, Sum
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
    totals = published.aggregate(
        projects=Count("pk"),
        money=Sum("total_amount"),
        ficosec=Sum("ficosec_amount"),
        reached=Sum("beneficiaries_reached"),
    )
    by_axis = {
        row["axis"]: row
        for row in published.values("axis").annotate(
            projects=Count("pk"),
            money=Coalesce(Sum("total_amount"), 0, output_field=Project._meta.get_field("total_amount")),
            reached=Coalesce(Sum("beneficiaries_reached"), 0),
        )
    }
    axes = [
        {
            "axis": axis,
            "projects": by_axis.get(axis.pk, {}).get("projects", 0),
            "money": by_axis.get(axis.pk, {}).get("money", 0),
            "reached": by_axis.get(axis.pk, {}).get("reached", 0),
        }
        for axis in Axis.objects.all()
    ]
    reached, _total = privacy.suppress_cells({row["axis"].pk: row["reached"] for row in axes}, totals["reached"])
    for row in axes:
        row["reached_public"] = reached[row["axis"].pk]  # counts of people: through the small-cell rule
    by_year = list(
        published.annotate(year=ExtractYear(Coalesce("actual_start", "planned_start")))
        .exclude(year=None)
        .values("year")
        .annotate(money=Sum("total_amount"), projects=Count("pk"))
        .order_by("year")
    )
    through = Project.municipalities.through.objects.filter(project__in=published.values("pk"))
    by_region = {
        row["municipality__region"]: row["n"]
        for row in through.values("municipality__region").annotate(n=Count("project", distinct=True))
    }
    regions = [{"region": region, "projects": by_region.get(region.pk, 0)} for region in Region.objects.all()]
    return {"totals": totals, "axes": axes, "by_year": by_year, "by_region": regions}
