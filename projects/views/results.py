"""Public pages about where the projects work and what they achieve: the map by municipality and a page for each
municipality."""

from django.core.paginator import Paginator
from django.db.models import Sum
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .. import geo
from ..models import Indicator, Municipality, Organization, Participation, Project


def map_for(request, projects, key, stamp=None):
    """The choropleth for `projects`, with the measure and table order the query string asks for."""
    return geo.choropleth(projects, key, request.GET.get("medida", ""), request.GET.get("mapa_orden", ""), stamp)


@require_GET
def municipality_detail(request, slug):
    municipality = get_object_or_404(Municipality.objects.select_related("region"), slug=slug)
    published = Project.objects.published()
    projects = published.filter(municipalities=municipality).select_related("axis").prefetch_related("municipalities")
    local, _statewide = geo.cached_figures(published, "published")
    figures = local.get(municipality.pk, {"projects": 0, "money": 0})
    inhabitants = geo.population().get(municipality.inegi_code)
    implementers = (
        Organization.objects.filter(
            participations__project__in=projects.values("pk"),
            participations__role=Participation.Role.IMPLEMENTER,
        )
        .distinct()
        .order_by("name")
    )
    indicators = (
        Indicator.objects.filter(project__in=projects.values("pk"))
        .select_related("project")
        .order_by("project__title", "order", "pk")[:30]
    )
    return render(
        request,
        "projects/public/municipality_detail.html",
        {
            "municipality": municipality,
            "figures": figures,
            "total_money": projects.aggregate(s=Sum("total_amount"))["s"] or 0,
            "inhabitants": inhabitants,
            "per_100k": figures["money"] * 100_000 / inhabitants if inhabitants else None,
            "page": Paginator(projects.order_by("-published_at", "-pk"), 20).get_page(request.GET.get("page")),
            "implementers": implementers,
            "indicators": indicators,
            "map": map_for(request, published, "published"),
            "current": municipality,
        },
    )
