"""The public catalogue: pages anyone may read.

Lists, facets, totals, charts, downloads and the sitemap show published projects only; a project page answers for
the projects the visitor may see (`Project.objects.visible_to`), which for the public is the published ones too.
"""

import operator
from functools import partial

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from axes.models import Axis

from .. import exports, figures
from ..charts import bars
from ..filters import ProjectFilter, facet_counts
from ..models import BROAD_SEARCH, Measurement, Organization, Participation, Project
from .results import indicator_progress, map_for

PAGE_SIZE = 20
ORDERINGS = {
    "relevancia": ("-rank", "-pk"),
    "recientes": ("-published_at", "-pk"),
    "monto": ("-total_amount", "-pk"),
    "titulo": ("title", "pk"),
}


def catalogue(request):
    """The published projects, filtered, searched and ordered as the query string says."""
    filterset = ProjectFilter(request.GET, queryset=Project.objects.published())
    projects = filterset.qs if filterset.is_valid() else Project.objects.none()
    searching = bool(filterset.form.cleaned_data.get("q")) if filterset.is_valid() else False
    order = request.GET.get("orden") or ("relevancia" if searching else "recientes")
    if order not in ORDERINGS or (order == "relevancia" and not searching):
        order = "recientes"
    return projects.order_by(*ORDERINGS[order]), filterset, order


@require_GET
def home(request):
    data = figures.figures()
    latest = (
        Project.objects.published()
        .select_related("axis")
        .prefetch_related("municipalities")
        .order_by("-published_at", "-pk")[:6]
    )
    return render(
        request,
        "projects/public/home.html",
        {
            "figures": data,
            "latest": latest,
            "money_chart": bars(data["axes"], "money", lambda row: row["axis"].short_name, money=True),
            "map": map_for(request, Project.objects.published(), "published"),
        },
    )


@require_GET
def project_list(request):
    """The catalogue. Its content is cached per query string and language until any project changes (the template's
    cache fragment is keyed on figures.stamp()); the results, facets and filters are only computed on a miss."""
    stamp = figures.stamp()
    computed = SimpleLazyObject(lambda: catalogue_page(request, stamp))
    lazy = {
        name: SimpleLazyObject(partial(operator.getitem, computed, name))
        for name in ("page", "filterset", "order", "facets", "active", "broad", "map")
    }
    return render(
        request,
        "projects/public/project_list.html",
        {"stamp": stamp, "orderings": ORDERINGS, "bound": BROAD_SEARCH, **lazy},
    )


def catalogue_page(request, stamp=None):
    projects, filterset, order = catalogue(request)
    searching = filterset.is_valid() and bool(filterset.form.cleaned_data.get("q"))
    matched = projects.count_up_to(BROAD_SEARCH) if searching else None
    broad = matched is not None and matched > BROAD_SEARCH
    if broad and order == "relevancia":
        order = "recientes"
        projects = projects.order_by(*ORDERINGS[order])
    paginator = Paginator(projects.select_related("axis").prefetch_related("municipalities"), PAGE_SIZE)
    if matched is not None:
        paginator.count = matched  # exact up to the bound, the bound + 1 beyond it
    return {
        "page": paginator.get_page(request.GET.get("page")),
        "filterset": filterset,
        "order": order,
        "broad": broad,
        "facets": facet_counts(filterset) if filterset.is_valid() and not broad else {},
        "active": active_filters(request, filterset),
        "map": catalogue_map(request, filterset, stamp),
    }


def catalogue_map(request, filterset, stamp=None):
    """The map of the projects the filters select (cached per filter set, whatever the order or page)."""
    if not filterset.is_valid():
        return None
    query = request.GET.copy()
    for name in ("page", "orden", "medida", "mapa_orden"):
        query.pop(name, None)
    return map_for(request, filterset.qs, "catalogue:" + query.urlencode(), stamp)


def active_filters(request, filterset):
    """(label, value label, query string without it) for each active filter value: one click removes it."""
    chips = []
    for name, field in filterset.form.fields.items():
        for value in request.GET.getlist(name):
            if not value:
                continue
            rest = request.GET.copy()
            rest.setlist(name, [v for v in rest.getlist(name) if v != value])
            rest.pop("page", None)
            choices = dict((str(k), v) for k, v in getattr(field, "choices", []) if k != "")
            if hasattr(field, "queryset"):
                choices = {
                    str(getattr(obj, field.to_field_name)): str(obj)
                    for obj in field.queryset.filter(**{f"{field.to_field_name}__in": [value]})
                }
            chips.append((field.label, choices.get(value, value), rest.urlencode()))
    return chips


@require_GET
def project_download(request, fmt):
    projects, filterset, _order = catalogue(request)
    if not filterset.is_valid():
        return render(request, "projects/public/bad_request.html", {"errors": filterset.errors}, status=400)
    return exports.stream(projects, fmt)


@require_GET
def project_detail(request, slug):
    project = get_object_or_404(
        Project.objects.visible_to(request.user)
        .select_related("axis")
        .prefetch_related(
            "lines",
            "municipalities__region",
            "indicators",
            Prefetch("indicators__measurements", queryset=Measurement.objects.order_by("date")),
            "indicators__periods",
            "indicators__measurements__breakdown",
            "evaluations",
            Prefetch("participations", queryset=Participation.objects.select_related("organization")),
        ),
        slug=slug,
    )
    return render(
        request,
        "projects/public/project_detail.html",
        {
            "project": project,
            "money": money_breakdown(project),
            "regions": sorted({m.region for m in project.municipalities.all() if m.region}, key=lambda r: r.order),
            "progress": indicator_progress(project),
        },
    )


def money_breakdown(project):
    """Money by funder and by sector, from the participations already fetched."""
    participations = [p for p in project.participations.all() if p.amount]
    by_sector = {}
    for participation in participations:
        sector = participation.organization.sector
        by_sector[sector] = by_sector.get(sector, 0) + participation.amount
    return {
        "funders": sorted(participations, key=lambda p: -p.amount),
        "sectors": bars(
            [
                {"label": sector.label, "money": amount}
                for sector, amount in sorted(by_sector.items(), key=lambda i: -i[1])
            ],
            "money",
            lambda row: row["label"],
            money=True,
        ),
    }


@require_GET
def organization_list(request):
    organizations = Organization.objects.filter(
        participations__project__publication_state=Project.Publication.PUBLISHED
    ).distinct()
    q = request.GET.get("q", "")[:100].strip()
    if q:
        organizations = organizations.filter(name__unaccent__icontains=q) | organizations.filter(acronym__iexact=q)
    page = Paginator(organizations.select_related("municipality").order_by("name"), 30).get_page(
        request.GET.get("page")
    )
    return render(request, "projects/public/organization_list.html", {"page": page, "q": q, "kinds": Organization.Kind})


@require_GET
def organization_detail(request, slug):
    organization = get_object_or_404(Organization.objects.select_related("municipality"), slug=slug)
    participations = (
        Participation.objects.filter(organization=organization, project__in=Project.objects.published())
        .select_related("project__axis")
        .order_by("-project__published_at", "role")
    )
    if not participations:
        raise Http404(_("Esta organización no tiene proyectos públicos."))
    return render(
        request,
        "projects/public/organization_detail.html",
        {"organization": organization, "participations": participations},
    )


def robots(request):
    return render(request, "robots.txt", content_type="text/plain")


# --- The strategic framework: the four axes with their figures and published projects ---------------------


@require_GET
def axis_list(request):
    data = figures.figures()
    return render(
        request,
        "axes/axis_list.html",
        {
            "figures": data,
            "money_chart": bars(data["axes"], "money", lambda row: row["axis"].short_name, money=True),
            "year_chart": bars(data["by_year"], "money", lambda row: str(row["year"]), money=True),
            "region_chart": bars(data["by_region"], "projects", lambda row: row["region"].name),
        },
    )


@require_GET
def axis_detail(request, slug):
    axis = get_object_or_404(Axis, slug=slug)
    row = next(row for row in figures.figures()["axes"] if row["axis"].pk == axis.pk)
    projects = (
        Project.objects.published()
        .filter(axis=axis)
        .select_related("axis")
        .prefetch_related("municipalities")
        .order_by("-published_at", "-pk")
    )
    page = Paginator(projects, 20).get_page(request.GET.get("page"))
    return render(request, "axes/axis_detail.html", {"axis": axis, "row": row, "page": page})
