"""Pages of the strategic framework: the four axes with their figures and published projects."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from projects import figures
from projects.charts import bars
from projects.models import Project

from .models import Axis


@require_GET
def axis_list(request):
    data = figures.figures()
    return render(request, "axes/axis_list.html", {
        "figures": data,
        "money_chart": bars(data["axes"], "money", lambda row: row["axis"].short_name, money=True),
        "year_chart": bars(data["by_year"], "money", lambda row: str(row["year"]), money=True),
        "region_chart": bars(data["by_region"], "projects", lambda row: row["region"].name),
    })


@require_GET
def axis_detail(request, slug):
    axis = get_object_or_404(Axis, slug=slug)
    row = next(row for row in figures.figures()["axes"] if row["axis"].pk == axis.pk)
    projects = Project.objects.published().filter(axis=axis).select_related("axis").prefetch_related("municipalities").order_by("-published_at", "-pk")
    page = Paginator(projects, 20).get_page(request.GET.get("page"))
    return render(request, "axes/axis_detail.html", {"axis": axis, "row": row, "page": page})
